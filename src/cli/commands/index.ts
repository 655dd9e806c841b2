import type { RegisterCommand } from '../context';
import { register as init } from './init';
import { register as split } from './split';
import { register as tokenize } from './tokenize';
import { register as lengths } from './lengths';
import { register as vocab } from './vocab';
import { register as demo } from './demo';
import { register as plan } from './plan';
import { register as train } from './train';
import { register as evaluate } from './evaluate';
import { register as predict } from './predict';
import { register as pretrain } from './pretrain';
import { register as runtime } from './runtime';
import { register as tune } from './tune';
import { register as seqlen } from './seqlen';
import { register as report } from './report';
import { register as worker } from './worker';
import { register as migrate } from './migrate';
import { register as watch } from './watch';

/** Every CLI command, in the order `--help` lists them. */
export const commands: RegisterCommand[] = [
  init, split, tokenize, lengths, vocab, demo, plan, train, evaluate, predict, pretrain, tune, seqlen, report, watch, worker, migrate, runtime,
];
