// The layers of ARCHITECTURE.md, checked on every `npm test` (`npm run layers`): each
// folder of src/ imports only what the table's "imports" column names, nothing imports upward
// or in a circle (type-only imports too), only the extension imports vscode, and src/ never
// imports testing/.
/** A folder of src/ may import only these folders of src/ (besides itself and npm packages). */
const LAYERS = {
  core: [],
  protocol: [],
  tuners: ['core', 'protocol'],
  store: ['core', 'protocol'],
  engine: ['core', 'protocol'],
  worker: ['engine', 'core', 'protocol'],
  runner: ['tuners', 'store', 'worker', 'engine', 'core', 'protocol'],
  cli: ['runner', 'tuners', 'store', 'worker', 'engine', 'core', 'protocol'],
  extension: ['runner', 'tuners', 'store', 'worker', 'engine', 'core', 'protocol'],
  webview: ['protocol'],
};

/** Single pure modules a layer may use besides its folders (the webview bundles Welch's t-test for its groups). */
const ALSO = {
  webview: ['^src/tuners/stats\\.ts$'],
};

const layerRules = Object.entries(LAYERS).map(([layer, below]) => ({
  name: `${layer}-imports-${below.length ? below.join('-') : 'nothing-else'}`,
  comment: `src/${layer}/ imports ${below.length ? below.map((b) => `src/${b}/`).join(', ') : 'no other folder of src/'}${ALSO[layer] ? ` and ${ALSO[layer].join(', ')}` : ''} (ARCHITECTURE.md)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: '^src/', pathNot: [`^src/${layer}/`, ...below.map((b) => `^src/${b}/`), ...(ALSO[layer] ?? [])] },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circle',
      // A type-only circle still ties the modules' meaning together (and tends to become a
      // runtime one with the next value import), so it counts too.
      comment: 'modules that import each other, directly or through others, at run time or only for their types',
      severity: 'error',
      from: { path: '^(src|testing)/' },
      to: { circular: true },
    },
    {
      name: 'only-the-extension-imports-vscode',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/extension/' },
      // The editor provides the module at run time; it resolves to its type declarations here.
      to: { path: '^(vscode$|node_modules/@types/vscode/)' },
    },
    {
      name: 'src-never-imports-testing',
      comment: 'test scaffolding lives in testing/, which the tests and the tests\' CLI and worker use',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^testing/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
