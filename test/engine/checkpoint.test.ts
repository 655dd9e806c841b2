import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, existsSync, chmodSync, cpSync, readdirSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, trainModel, evaluateModel, predictModel } from '../../src/engine';
import { BertClassifier } from '../../src/engine/model';
import { presetConfig } from '../../src/engine/config';
import { saveModelFolder } from '../../src/engine/weights';
import { loadClassifier } from '../../src/engine/evaluate';
import { encodeSafetensors, readSafetensors, writeSafetensors, type NamedTensor } from '../../src/engine/safetensors';
import { tempDir } from '../helpers';
import { toySplit, TOY_VOCAB, baseParams } from './toy';

const train = toySplit(192, 12, 1);
const val = toySplit(48, 12, 2);
const input = (over: Record<string, unknown> = {}) => ({ model: 'tiny', vocabSize: TOY_VOCAB, numLabels: 2, train, val, params: { ...baseParams, max_seq_len: 12, ...over } });
const cfg = { ...presetConfig('tiny', TOY_VOCAB), max_position_embeddings: 16 };

function vocabFile(dir: string, n: number): string {
  const p = join(dir, 'vocab.txt');
  writeFileSync(p, Array.from({ length: n }, (_, i) => `t${i}`).join('\n') + '\n');
  return p;
}

/** A model folder as Hugging Face writes it: [out,in] Linear weights, standard names. */
function hfFolder(dir: string, seed = 5): BertClassifier {
  const m = BertClassifier.fromSeed(cfg, 2, seed);
  saveModelFolder(dir, cfg, m.snapshot(), 2, { labels: ['neg', 'pos'], maxLen: 12 }, vocabFile(dir, TOY_VOCAB));
  return m;
}

function logitsOf(m: BertClassifier): Float32Array {
  return tf.tidy(() => m.logits({ ids: tf.tensor2d(val.ids.subarray(0, 8 * 12), [8, 12], 'int32'), lengths: val.lengths.subarray(0, 8) }, 0).dataSync() as Float32Array);
}

test('save → load round trip gives identical logits; files are HF-shaped', async (t) => {
  await initBackend();
  const dir = tempDir(t);
  const m = hfFolder(dir);
  const back = loadClassifier(dir).model;
  assert.deepEqual(logitsOf(back), logitsOf(m));
  const st = readSafetensors(join(dir, 'model.safetensors'));
  // HF Linear layout: [out, in].
  assert.deepEqual(st.get('bert.encoder.layer.0.intermediate.dense.weight')!.shape, [512, 128]);
  assert.deepEqual(st.get('classifier.weight')!.shape, [2, 128]);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(config.hidden_size, 128);
  assert.deepEqual(config.id2label, { 0: 'neg', 1: 'pos' });
  m.dispose();
  back.dispose();
});

test('safetensors: F16 and BF16 are widened to float32; a corrupt header is a clear error', (t) => {
  const dir = tempDir(t);
  const header = JSON.stringify({ a: { dtype: 'F16', shape: [3], data_offsets: [0, 6] }, b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] } });
  const hb = Buffer.from(header);
  const buf = Buffer.alloc(8 + hb.length + 10);
  buf.writeBigUInt64LE(BigInt(hb.length));
  hb.copy(buf, 8);
  const d = 8 + hb.length;
  buf.writeUInt16LE(0x3c00, d); // 1.0
  buf.writeUInt16LE(0xc000, d + 2); // -2.0
  buf.writeUInt16LE(0x3555, d + 4); // ≈ 0.33325
  buf.writeUInt16LE(0x3fc0, d + 6); // bf16 1.5
  buf.writeUInt16LE(0xc040, d + 8); // bf16 -3
  writeFileSync(join(dir, 'h.safetensors'), buf);
  const r = readSafetensors(join(dir, 'h.safetensors'));
  assert.deepEqual(Array.from(r.get('a')!.data).map((x) => +x.toFixed(4)), [1, -2, 0.3333]);
  assert.deepEqual(Array.from(r.get('b')!.data), [1.5, -3]);
  writeFileSync(join(dir, 'bad.safetensors'), Buffer.concat([Buffer.from([200, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"x": garbage')]));
  assert.throws(() => readSafetensors(join(dir, 'bad.safetensors')), /not a valid safetensors file: header length 200 does not fit/);
  const t2 = new Map<string, NamedTensor>([['x', { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]]);
  const enc = encodeSafetensors(t2);
  enc.write('{"x":[', 8); // break the JSON, keep the length
  writeFileSync(join(dir, 'bad2.safetensors'), enc);
  assert.throws(() => readSafetensors(join(dir, 'bad2.safetensors')), /header is not valid JSON/);
});

test('wrong checkpoints: missing, wrong-shaped and unexpected tensors are listed in one error', async (t) => {
  const dir = tempDir(t);
  hfFolder(dir).dispose();
  const file = join(dir, 'model.safetensors');
  const st = readSafetensors(file);
  st.delete('bert.encoder.layer.1.output.dense.bias');
  st.set('bert.pooler.dense.weight', { shape: [128, 64], data: new Float32Array(128 * 64) });
  st.set('bert.encoder.layer.7.output.dense.bias', { shape: [128], data: new Float32Array(128) });
  st.set('cls.predictions.bias', { shape: [TOY_VOCAB], data: new Float32Array(TOY_VOCAB) }); // pre-training heads are ignored
  writeSafetensors(file, st);
  await assert.rejects(trainModel({ ...input({ epochs: 1 }), model: dir }), (e: Error) => {
    assert.match(e.message, /missing tensors: bert\.encoder\.layer\.1\.output\.dense\.bias/);
    assert.match(e.message, /wrong shapes: bert\.pooler\.dense\.weight has shape \[128,64\], expected \[128,128\]/);
    assert.match(e.message, /unexpected tensors: bert\.encoder\.layer\.7\.output\.dense\.bias/);
    assert.doesNotMatch(e.message, /cls\.predictions/);
    return true;
  });
  // Corrupt file → clear error through evaluate too.
  writeFileSync(file, Buffer.from('not a checkpoint at all'));
  await assert.rejects(evaluateModel(dir, val), /not a valid safetensors file/);
});

test('vocab and max_len mismatches are clear errors', async (t) => {
  const dir = tempDir(t);
  hfFolder(dir).dispose();
  await assert.rejects(trainModel({ ...input(), model: dir, vocabSize: TOY_VOCAB + 1 }), /vocab_size 60 is smaller than the data's vocab \(61 tokens\)/);
  vocabFile(dir, TOY_VOCAB + 2);
  await assert.rejects(trainModel({ ...input(), model: dir }), /vocab\.txt: has 62 tokens but .*vocab_size 60/);
  vocabFile(dir, TOY_VOCAB);
  const long = toySplit(16, 20, 4);
  await assert.rejects(trainModel({ ...input({ max_seq_len: 20 }), model: dir, train: long }), /max_len 20 is above the model's max_position_embeddings 16/);
});

test('pretrained body without a head: training starts from it with a new head; evaluate/predict score the saved best model', async (t) => {
  const dir = tempDir(t);
  const out = tempDir(t);
  hfFolder(dir).dispose();
  const st = readSafetensors(join(dir, 'model.safetensors'));
  st.delete('classifier.weight');
  st.delete('classifier.bias');
  writeSafetensors(join(dir, 'model.safetensors'), st);
  const logs: string[] = [];
  const r = await trainModel({ ...input({ epochs: 2 }), model: dir, saveBestTo: out, labelNames: ['neg', 'pos'] }, { onLog: (_l, s) => logs.push(s) });
  assert.ok(logs.some((l) => /initialising a new head/.test(l)));
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'trialbook.json']) assert.ok(existsSync(join(out, f)), f);
  const ev = await evaluateModel(out, val);
  assert.ok(Math.abs(ev.loss - r.bestValLoss) < 1e-5, `${ev.loss} vs ${r.bestValLoss}`);
  assert.equal(ev.accuracy, r.bestValAccuracy);
  assert.deepEqual(ev.perClass.map((c) => c.label), ['neg', 'pos']);
  assert.equal(ev.perClass[0].support + ev.perClass[1].support, val.count);
  const preds = await predictModel(out, val);
  assert.equal(preds.length, val.count);
  assert.ok(preds.every((p) => Math.abs(p.probs[0] + p.probs[1] - 1) < 1e-5 && p.label === (p.probs[1] > p.probs[0] ? 1 : 0)));
});

test('resume: 2 epochs then 1 more equals 3 straight', async (t) => {
  const ck = tempDir(t);
  const straight = await trainModel(input({ epochs: 3 }));
  await trainModel({ ...input({ epochs: 3 }), checkpointDir: ck, }, { shouldStop: (() => { let n = 0; const per = Math.ceil(train.count / baseParams.batch_size); return () => ++n > 2 * per; })() }).catch((e) => assert.match(e.message, /cancelled/));
  const state = JSON.parse(readFileSync(join(ck, 'checkpoint.json'), 'utf8'));
  assert.equal(state.epoch, 2);
  const resumed = await trainModel({ ...input({ epochs: 3 }), checkpointDir: ck, resume: true });
  assert.equal(resumed.epochsRun, 3);
  assert.deepEqual(resumed.curve.slice(0, 2).map((m) => m.val_loss), straight.curve.slice(0, 2).map((m) => m.val_loss));
  assert.equal(resumed.curve[2].val_loss, straight.curve[2].val_loss);
  assert.equal(resumed.bestValLoss, straight.bestValLoss);
});

test('a kill between a checkpoint\'s tensors and its manifest leaves the previous epoch whole: the resumed run equals a straight one', async (t) => {
  const ck = tempDir(t);
  const straight = await trainModel(input({ epochs: 3 }));
  // The process "dies" right after epoch 2's tensors are renamed into place, before the manifest.
  const fs = require('node:fs') as typeof import('node:fs');
  const rename = fs.renameSync;
  let tensorFiles = 0;
  fs.renameSync = (from, to) => {
    rename(from, to);
    if (/checkpoint(-\d+)?\.safetensors$/.test(String(to)) && ++tensorFiles === 2) throw new Error('killed after the tensors of epoch 2');
  };
  try {
    await assert.rejects(trainModel({ ...input({ epochs: 3 }), checkpointDir: ck }), /killed/);
  } finally {
    fs.renameSync = rename;
  }
  assert.equal(JSON.parse(readFileSync(join(ck, 'checkpoint.json'), 'utf8')).epoch, 1);
  const resumed = await trainModel({ ...input({ epochs: 3 }), checkpointDir: ck, resume: true });
  assert.deepEqual(resumed.curve.map((m) => m.val_loss), straight.curve.map((m) => m.val_loss), 'epoch 2 trained once, from epoch 1\'s weights');
  assert.equal(resumed.bestValLoss, straight.bestValLoss);
  const state = JSON.parse(readFileSync(join(ck, 'checkpoint.json'), 'utf8'));
  assert.deepEqual(readdirSync(ck).filter((f) => f.endsWith('.safetensors')).sort(), [state.files.best.name, state.files.weights.name].sort(), 'only the files the manifest names are kept');
  // A tensor file that no longer matches its manifest is refused, not loaded.
  const weights = join(ck, state.files.weights.name);
  const bytes = readFileSync(weights);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(weights, bytes);
  await assert.rejects(trainModel({ ...input({ epochs: 4 }), checkpointDir: ck, resume: true }), /checkpoint-3\.safetensors: does not match checkpoint\.json .*the checkpoint is damaged/);
});

test('a checkpoint written before its files were named (checkpoint.safetensors, best.safetensors) still resumes', async (t) => {
  const ck = tempDir(t);
  const straight = await trainModel(input({ epochs: 3 }));
  const per = Math.ceil(train.count / baseParams.batch_size);
  await trainModel({ ...input({ epochs: 3 }), checkpointDir: ck }, { shouldStop: (() => { let n = 0; return () => ++n > 2 * per; })() }).catch((e) => assert.match(e.message, /cancelled/));
  const state = JSON.parse(readFileSync(join(ck, 'checkpoint.json'), 'utf8'));
  cpSync(join(ck, state.files.weights.name), join(ck, 'checkpoint.safetensors'));
  cpSync(join(ck, state.files.best.name), join(ck, 'best.safetensors'));
  rmSync(join(ck, state.files.weights.name));
  rmSync(join(ck, state.files.best.name));
  delete state.files;
  writeFileSync(join(ck, 'checkpoint.json'), JSON.stringify(state));
  const resumed = await trainModel({ ...input({ epochs: 3 }), checkpointDir: ck, resume: true });
  assert.deepEqual(resumed.curve.map((m) => m.val_loss), straight.curve.map((m) => m.val_loss));
  assert.equal(existsSync(join(ck, 'checkpoint.safetensors')), false, 'the old files give way to named ones');
});

test('a frozen trial checkpoints only its head, resumes to the same result, and refuses another trial\'s checkpoint', async (t) => {
  const ck = tempDir(t);
  const frozen = { epochs: 3, freeze_body: true, learning_rate: 1e-2 };
  const straight = await trainModel(input(frozen));
  const per = Math.ceil(train.count / baseParams.batch_size);
  await trainModel({ ...input(frozen), checkpointDir: ck }, { shouldStop: (() => { let n = 0; return () => ++n > 2 * per; })() }).catch((e) => assert.match(e.message, /cancelled/));
  const state = JSON.parse(readFileSync(join(ck, 'checkpoint.json'), 'utf8'));
  assert.equal(state.epoch, 2);
  assert.match(state.body, /^preset:tiny:/);
  // The body is rebuilt from its seed on resume: neither file holds it.
  for (const f of [state.files.weights.name, state.files.best.name]) {
    const names = [...readSafetensors(join(ck, f)).keys()];
    assert.ok(names.length > 0 && names.every((n) => /classifier\./.test(n)), `${f} holds only the head: ${names.join(', ')}`);
  }
  const resumed = await trainModel({ ...input(frozen), checkpointDir: ck, resume: true });
  assert.equal(resumed.epochsRun, 3);
  assert.deepEqual(resumed.curve.map((m) => m.val_loss), straight.curve.map((m) => m.val_loss));
  // Full fine-tuning must not pick up a head-only checkpoint (nor the reverse).
  await assert.rejects(trainModel({ ...input({ epochs: 3 }), checkpointDir: ck, resume: true }), /checkpoint comes from head-only training on preset:tiny.*, but this trial is full fine-tuning; delete it to start over/);
});

test('a read-only output folder fails the save clearly and leaves the previous best intact', async (t) => {
  const out = tempDir(t);
  await trainModel({ ...input({ epochs: 1 }), saveBestTo: out });
  const before = readFileSync(join(out, 'model.safetensors'));
  // A path under a regular file fails even for root (ENOTDIR), before any epoch is spent.
  const blocker = join(tempDir(t), 'file');
  writeFileSync(blocker, 'x');
  await assert.rejects(trainModel({ ...input({ epochs: 1 }), saveBestTo: join(blocker, 'model') }), /cannot create the (output|model) folder \(ENOTDIR\)/);
  if (process.getuid?.() !== 0) {
    chmodSync(out, 0o500);
    t.after(() => chmodSync(out, 0o700));
    await assert.rejects(trainModel({ ...input({ epochs: 1, seed: 9 }), saveBestTo: out }), /cannot write/);
  }
  assert.deepEqual(readFileSync(join(out, 'model.safetensors')), before);
});

test('a full disk fails the save clearly and leaves the previous best intact', async (t) => {
  const first = tempDir(t);
  await trainModel({ ...input({ epochs: 1 }), saveBestTo: first });
  const bytes = readdirSync(first).reduce((n, f) => n + statSync(join(first, f)).size, 0);
  // A real full file system: a tmpfs just big enough for the saved model, so the next save's
  // temporary file cannot be written. Mounting needs root (and a container that allows it).
  const mnt = mkdtempSync(join(tmpdir(), 'tb-full-'));
  const size = Math.ceil((bytes + 64 * 1024) / 4096) * 4096;
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) {
    rmSync(mnt, { recursive: true, force: true });
    t.skip(`cannot mount a small tmpfs here (${(m.stderr || m.error?.message || '').trim() || 'not root'}): the disk-full case needs root`);
    return;
  }
  t.after(() => {
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  const out = join(mnt, 'model');
  cpSync(first, out, { recursive: true });
  const before = readFileSync(join(out, 'model.safetensors'));
  await assert.rejects(trainModel({ ...input({ epochs: 1, seed: 9 }), saveBestTo: out }), /cannot write \(ENOSPC: disk full\); nothing was changed/);
  assert.deepEqual(readFileSync(join(out, 'model.safetensors')), before);
  // No temporary file is left behind to fill the disk further.
  assert.deepEqual(readdirSync(out).sort(), readdirSync(first).sort());
});

test('classifier_dropout: the trial\'s dropout_rate replaces config.json\'s (said once) and the saved config records it', async (t) => {
  const dir = tempDir(t);
  const out = tempDir(t);
  hfFolder(dir).dispose();
  const cfgPath = join(dir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), classifier_dropout: 0.3 }));
  const logs: string[] = [];
  await trainModel({ ...input({ epochs: 1, dropout_rate: 0.2 }), model: dir, saveBestTo: out }, { onLog: (_l, s) => logs.push(s) });
  assert.equal(logs.filter((l) => /classifier_dropout 0.3 from config.json is replaced by the trial's dropout_rate 0.2/.test(l)).length, 1, logs.join('\n'));
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).classifier_dropout, 0.2);
});
