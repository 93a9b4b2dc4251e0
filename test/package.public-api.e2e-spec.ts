import * as path from 'node:path';
import * as ts from 'typescript';

// The export lists of the package's two entry points, names and kinds, read by the TypeScript
// compiler (type-only exports included). A change here is a change to the public API: make it
// deliberately, and note it in CHANGELOG.md.

const root = path.join(__dirname, '..');
const ENTRY_POINTS = [
  path.join(root, 'src/llm/index.ts'),
  path.join(root, 'src/simulator/index.ts'),
];
let program: ts.Program | undefined;

function exportsOf(file: string): string[] {
  // One program for both entry points: building it is what takes the time.
  program ??= ts.createProgram(ENTRY_POINTS, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    experimentalDecorators: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`cannot read ${file}`);
  const module = checker.getSymbolAtLocation(source);
  if (!module) throw new Error(`${file} is not a module`);
  return checker
    .getExportsOfModule(module)
    .map((symbol) => {
      const target =
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return `${symbol.getName()}: ${kindOf(target.flags)}`;
    })
    .sort();
}

function kindOf(flags: ts.SymbolFlags): string {
  const kinds: string[] = [];
  if (flags & ts.SymbolFlags.Class) kinds.push('class');
  if (flags & ts.SymbolFlags.Function) kinds.push('function');
  if (flags & ts.SymbolFlags.Variable) kinds.push('const');
  if (flags & ts.SymbolFlags.Enum) kinds.push('enum');
  if (flags & ts.SymbolFlags.Interface && !(flags & ts.SymbolFlags.Class)) kinds.push('interface');
  if (flags & ts.SymbolFlags.TypeAlias) kinds.push('type');
  return kinds.join(' + ') || `flags ${flags}`;
}

describe('public API', () => {
  it('nestjs-resilient-llm exports exactly these names', () => {
    expect(exportsOf(ENTRY_POINTS[0]!)).toEqual(PACKAGE_EXPORTS);
  });

  it('nestjs-resilient-llm/testing exports the simulator and its types', () => {
    expect(exportsOf(ENTRY_POINTS[1]!)).toEqual(TESTING_EXPORTS);
  });
});

const PACKAGE_EXPORTS = [
  'BreakerState: type',
  'CallRecordView: interface',
  'CallUpstreamView: interface',
  'ChatChoiceLogprobs: interface',
  'ChatCompletion: interface',
  'ChatCompletionChunk: interface',
  'ChatCompletionMessage: interface',
  'ChatCompletionRequest: type',
  'ChatCompletionUsage: interface',
  'ChatFinishReason: type',
  'ChatMessage: type',
  'ChatMessageToolCall: type',
  'ChatTokenLogprob: interface',
  'DelaySource: type',
  'ElasticsearchEventSink: class',
  'FallbackHop: interface',
  'LLM_DEFAULTS: const',
  'LLM_EVENT_ACTIONS: const',
  'LLM_EVENT_FIELDS: const',
  'LLM_METER_NAME: const',
  'LLM_REQUEST_BOUNDS: const',
  'LLM_TRACER_NAME: const',
  'LOCAL_RATE_LIMIT: const',
  'LlmBreakerOptions: interface',
  'LlmBulkheadOptions: interface',
  'LlmCallContext: interface',
  'LlmCallMetadata: interface',
  'LlmCallOptions: interface',
  'LlmChatResult: interface',
  'LlmChatStream: class',
  'LlmClient: class',
  'LlmContextExtractor: type',
  'LlmContextInterceptor: class',
  'LlmDrain: class',
  'LlmDrainResult: interface',
  'LlmElasticsearchEventsOptions: interface',
  'LlmError: class',
  'LlmErrorDetails: interface',
  'LlmErrorJson: interface',
  'LlmErrorKind: type',
  'LlmEventDocument: type',
  'LlmEventDropReason: type',
  'LlmEventField: type',
  'LlmEventSink: const + interface',
  'LlmEventsOptions: interface',
  'LlmFallbackTarget: interface',
  'LlmFeature: const',
  'LlmHealthIndicator: class',
  'LlmHttpExceptionFilter: class',
  'LlmHttpExceptionFilterOptions: interface',
  'LlmIncompleteStreamError: class',
  'LlmJob: interface',
  'LlmJobAccess: interface',
  'LlmJobContext: type',
  'LlmJobError: interface',
  'LlmJobOptions: interface',
  'LlmJobOutcome: type',
  'LlmJobRecord: interface',
  'LlmJobRedeliveryReason: type',
  'LlmJobState: type',
  'LlmJobWaitOptions: interface',
  'LlmJobWorker: class',
  'LlmJobs: class',
  'LlmJobsError: class',
  'LlmJobsErrorCode: type',
  'LlmJobsModule: class',
  'LlmJobsOptions: interface',
  'LlmJobsOptionsError: class',
  'LlmJobsOptionsFactory: interface',
  'LlmLastResort: type',
  'LlmLimitOptions: interface',
  'LlmModelLimitOptions: interface',
  'LlmModule: class',
  'LlmModuleExtras: interface',
  'LlmModuleOptions: interface',
  'LlmOptionsError: class',
  'LlmOptionsFactory: interface',
  'LlmPolicyOptions: interface',
  'LlmPropagationOptions: interface',
  'LlmRedisOptions: interface',
  'LlmRequestContext: interface',
  'LlmRequestOutcome: type',
  'LlmRetryOptions: interface',
  'LlmRpcExceptionFilter: class',
  'LlmRpcOutcome: type',
  'LlmRpcRequestInfo: interface',
  'LlmRpcTransport: type',
  'LlmStreamUsage: type',
  'LlmTimeoutOptions: interface',
  'LlmUpstreamOptions: interface',
  'LogEventSink: class',
  'RETRYABLE_KINDS: const',
  'TERMINAL_JOB_STATES: const',
  'TRACE_CONTEXT_HEADERS: const',
  'cleanContextValue: function',
  'clientAbortSignal: function',
  'contextFromTraceHeaders: function',
  'currentLlmContext: function',
  'defaultFeatureExtractor: const',
  'defaultRequestIdExtractor: const',
  'defaultUserIdExtractor: const',
  'estimateTokens: function',
  'fromJobError: function',
  'isLlmError: function',
  'isLlmErrorJson: function',
  'isLlmErrorKind: function',
  'isLlmJobsError: function',
  'isSafeRequestId: function',
  'llmTraceHeaders: function',
  'maskUrlPasswords: function',
  'propagateLlmTraceContext: function',
  'redactSecrets: function',
  'rpcHeader: function',
  'rpcPatternOf: function',
  'rpcRedelivered: function',
  'rpcTransportOf: function',
  'runWithLlmContext: function',
];
const TESTING_EXPORTS = [
  'RecordedRequest: interface',
  'SIM_PROVIDERS: const',
  'SIM_STEP_TYPES: const',
  'SimConfig: interface',
  'SimEnforcement: type',
  'SimErrorStep: interface',
  'SimHangStep: interface',
  'SimMalformedStep: interface',
  'SimOkStep: interface',
  'SimOutage: interface',
  'SimProvider: type',
  'SimResetStep: interface',
  'SimStep: type',
  'SimStepBase: interface',
  'SimStreamStep: interface',
  'SimUsage: interface',
  'SimulatorOptions: interface',
  'UpstreamSimulator: class',
];
