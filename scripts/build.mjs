// Bundles every entry point with esbuild. Node entries are CommonJS (VS Code loads the
// extension with require); the webview script is an IIFE for the browser.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', target: 'node20' };
// Native TensorFlow runtimes are optional and found at run time; never bundle them.
const nodeExternal = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'pg-native'];

mkdirSync('dist', { recursive: true });
await Promise.all([
  build({ ...common, platform: 'node', format: 'cjs', entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', external: nodeExternal }),
  build({ ...common, platform: 'node', format: 'cjs', entryPoints: { worker: 'src/worker/main.ts' }, outdir: 'dist', external: nodeExternal }),
  build({ ...common, platform: 'node', format: 'cjs', entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist', external: nodeExternal }),
  // The tests' CLI and worker (testing/): never in the VSIX, which carries dist/*.js only.
  build({ ...common, platform: 'node', format: 'cjs', entryPoints: { cli: 'testing/cli.ts', worker: 'testing/worker.ts' }, outdir: 'dist/testing', external: nodeExternal }),
  existsSync('src/webview/dashboard.ts')
    ? build({ ...common, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: { webview: 'src/webview/dashboard.ts' }, outdir: 'dist' })
    : Promise.resolve(),
]);

// The wasm backend loads its .wasm binaries from disk next to the bundle.
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
const wasmDist = join(wasmDir, 'dist');
for (const f of readdirSync(wasmDist)) {
  if (f.endsWith('.wasm')) cpSync(join(wasmDist, f), join('dist', f));
}
// The optional native BLAS matmul addon (its own script: it may fail without failing the build).
await import('./build-native.mjs');
if (watch) console.log('watch mode is not implemented; re-run npm run build');
