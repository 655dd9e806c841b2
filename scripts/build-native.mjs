// Builds the optional native BLAS matmul addon (native/blas) with node-gyp and copies it next to
// the bundles in dist/. It is optional: without a C compiler, Node headers or node-gyp the
// engine runs every matmul on the wasm kernels, so a failure here prints one line and exits 0.
// TRIALBOOK_NATIVE=0 skips it. Rebuilds only when the source is newer than the built addon.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'native', 'blas');
const built = join(dir, 'build', 'Release', 'trialbook_blas.node');
const target = join(root, 'dist', 'trialbook_blas.node');

function skip(why) {
  rmSync(target, { force: true }); // no stale copy from an earlier build
  console.log(`native BLAS matmul not built (${why}); training runs its matmuls on the wasm kernels`);
  process.exit(0);
}

if (process.env.TRIALBOOK_NATIVE === '0') skip('TRIALBOOK_NATIVE=0');
const newest = Math.max(...readdirSync(dir).filter((f) => /\.(c|h|gyp)$/.test(f)).map((f) => statSync(join(dir, f)).mtimeMs));
if (!existsSync(built) || statSync(built).mtimeMs < newest) {
  // node-gyp: the one npm runs scripts with, else npm's own copy next to this node, else PATH.
  const npmGyp = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const gyp = process.env.npm_config_node_gyp || (existsSync(npmGyp) ? npmGyp : undefined);
  const args = ['rebuild'];
  // A system Node (e.g. Debian's /usr/bin/node) ships its headers: use them instead of downloading.
  const prefix = join(dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  const r = gyp
    ? spawnSync(process.execPath, [gyp, ...args], { cwd: dir, encoding: 'utf8' })
    : spawnSync('node-gyp', args, { cwd: dir, encoding: 'utf8' });
  if (r.error || r.status !== 0 || !existsSync(built)) {
    const lines = `${r.stderr ?? ''}${r.error?.message ?? ''}`.split('\n').filter((l) => /error|not found|ERR!/i.test(l));
    skip(lines.slice(0, 2).join(' | ').slice(0, 300) || `node-gyp exited with ${r.status}`);
  }
}
mkdirSync(dirname(target), { recursive: true });
copyFileSync(built, target);
