#!/usr/bin/env bash
# Device check for a machine with an NVIDIA GPU: installs the CUDA runtime of TensorFlow.js
# (@tensorflow/tfjs-node-gpu, not saved to package.json), checks that the engine picks it, then
# runs the engine tests and the BERT-base benchmark on it.
#
#   scripts/device-check.sh            on a GPU machine (needs the network for npm, unless
#                                      node_modules and tfjs-node-gpu are already installed)
#   scripts/device-check.sh --dry-run  anywhere: no GPU install, no GPU required, a short
#                                      benchmark; checks that the script itself works
#
# Results go to $OUT (set by a lent device machine) or ./device-check-out: runtime.json (the
# backend the engine chose), engine-tests.log, bench-bert-base.json and its .log. Exit status:
# 0 all passed, 1 a step failed, 2 the machine cannot run the check (said in one line).
set -uo pipefail

cd "$(dirname "$0")/.."
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
OUTDIR="${OUT:-$PWD/device-check-out}"
mkdir -p "$OUTDIR"
TFJS_VERSION=4.22.0
failed=0

say() { printf 'device-check: %s\n' "$*"; }
cannot() { say "$*"; exit 2; }

# 1. What the machine has.
command -v node >/dev/null || cannot "node is not installed (Node 20 or newer is needed)"
say "node $(node --version), $(nproc) cores, $(uname -m)"
GPU=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  GPU=1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/device-check: GPU /'
  ldconfig -p 2>/dev/null | grep -E 'libcudart\.so|libcudnn\.so' | sed 's/^\s*/device-check: lib /' | head -4
fi
if [ "$GPU" = 0 ] && [ "$DRY" = 0 ]; then
  cannot "no NVIDIA GPU found (nvidia-smi -L failed); run with --dry-run to check the script on a CPU"
fi

# 2. Dependencies: the project's, then the GPU runtime (its install script downloads libtensorflow 2.9.1).
if [ ! -d node_modules/@tensorflow/tfjs ]; then
  say "installing the project's dependencies (npm ci)"
  npm ci --no-audit --no-fund >"$OUTDIR/npm-ci.log" 2>&1 || cannot "npm ci failed (no network?): see $OUTDIR/npm-ci.log"
fi
npm run build >"$OUTDIR/build.log" 2>&1 || cannot "npm run build failed: see $OUTDIR/build.log"
if [ "$DRY" = 0 ] && [ ! -d node_modules/@tensorflow/tfjs-node-gpu ]; then
  say "installing @tensorflow/tfjs-node-gpu@$TFJS_VERSION"
  npm install --no-save --no-audit --no-fund "@tensorflow/tfjs-node-gpu@$TFJS_VERSION" >"$OUTDIR/npm-gpu.log" 2>&1 \
    || cannot "installing @tensorflow/tfjs-node-gpu failed (it downloads libtensorflow at install time): see $OUTDIR/npm-gpu.log"
fi

# 3. The runtime the engine picks by itself: tensorflow-gpu first when it loads.
node --import tsx -e "
  const { initBackend } = require('./src/engine');
  const { describeBackend } = require('./src/engine/backend');
  initBackend().then((b) => {
    require('node:fs').writeFileSync(process.argv[1], JSON.stringify({ runtime: describeBackend(b), ...b }, null, 2));
    console.log('device-check: runtime ' + describeBackend(b));
    for (const s of b.skipped) console.log('device-check:   skipped ' + s);
  });" "$OUTDIR/runtime.json" || cannot "the engine could not start a backend"
backend=$(node -e "console.log(require(process.argv[1]).name)" "$OUTDIR/runtime.json")
if [ "$DRY" = 0 ] && [ "$backend" != tensorflow-gpu ]; then
  say "FAIL: a GPU is present but the engine chose $backend (see the skipped reasons above)"
  failed=1
fi

# 4. The engine tests (tests that name no backend run on the one chosen above).
say "engine tests"
if node scripts/run-tests.mjs test/engine/ >"$OUTDIR/engine-tests.log" 2>&1; then
  grep -E '^ℹ (tests|pass|fail|skipped)' "$OUTDIR/engine-tests.log" | sed 's/^/device-check: /'
else
  grep -E '^ℹ (tests|pass|fail|skipped)|^✖' "$OUTDIR/engine-tests.log" | head -20 | sed 's/^/device-check: /'
  say "FAIL: engine tests (see $OUTDIR/engine-tests.log)"
  failed=1
fi

# 5. The BERT-base benchmark (a dry run takes one timed step and skips the PyTorch peer).
say "BERT-base benchmark"
if [ "$DRY" = 1 ]; then
  export TRIALBOOK_BENCH_BASE_STEPS=1 TRIALBOOK_BENCH_BASE_PEER=0
fi
if node --import tsx bench/run.ts bert-base >"$OUTDIR/bench-bert-base.json" 2>"$OUTDIR/bench-bert-base.log" \
  && node -e "const r = require(process.argv[1])['bert-base']; if (!r || r.error) { console.error(r && r.error); process.exit(1); }" "$OUTDIR/bench-bert-base.json"; then
  say "benchmark written to $OUTDIR/bench-bert-base.json"
else
  say "FAIL: BERT-base benchmark (see $OUTDIR/bench-bert-base.log)"
  failed=1
fi

[ "$failed" = 0 ] && say "all checks passed" || say "some checks failed"
exit "$failed"
