// Import rules of the repository, checked by `npm run lint` (dependency-cruiser).
// Type-only imports count: a cycle of types is still a cycle a reader has to untangle.
/** @type {import('dependency-cruiser').IConfiguration} */

// The error model: one class every concern raises and every caller switches on. It imports
// nothing else in src/llm, so the call model may use it without reaching any concern.
const ERROR_MODEL =
  '^src/llm/resilience/(llm[.]errors|llm-error[.]kinds|llm-error[.]json|forwarded-headers)[.]ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'call-model-is-neutral',
      severity: 'error',
      comment:
        'src/llm/call/ (request/response types, the call record and its view) is imported by ' +
        'every concern and imports none of them: only itself, the error model and the option ' +
        'types of llm-module.options.ts.',
      from: { path: '^src/llm/call/' },
      to: {
        path: '^src/llm/',
        pathNot: ['^src/llm/call/', ERROR_MODEL, '^src/llm/llm-module[.]options[.]ts$'],
      },
    },
    {
      name: 'error-model-is-a-leaf',
      severity: 'error',
      comment: 'The error model imports nothing in src/llm but itself.',
      from: { path: ERROR_MODEL },
      to: { path: '^src/llm/', pathNot: ERROR_MODEL },
    },
    {
      name: 'concerns-do-not-import-the-client',
      severity: 'error',
      comment:
        'client/ composes the call path from the concerns; resilience/, limits/, transport/, ' +
        'observability/ and health/ never import it back.',
      from: { path: '^src/llm/(resilience|limits|transport|observability|health)/' },
      to: { path: '^src/llm/client/' },
    },
    {
      name: 'module-stands-alone',
      severity: 'error',
      comment:
        'src/llm is the published module: it never imports the gateway, the simulator, the ' +
        'worker, the app around it, benchmarks or tests.',
      from: { path: '^src/llm/' },
      to: { path: ['^src/(gateway|simulator|worker)/', '^src/[^/]+[.]ts$', '^bench/', '^test/'] },
    },
    {
      name: 'source-does-not-import-tests-or-benchmarks',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: ['^bench/', '^test/'] },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '^dist/'] },
  },
};
