// `nestjs-resilient-llm/testing`: the fault-injecting OpenAI-compatible upstream, for the tests of
// applications that use the module. Plain node:http: no Nest and no other package needed.
export { UpstreamSimulator } from './upstream-simulator';
export { SIM_PROVIDERS, SIM_STEP_TYPES } from './simulator.types';
export type {
  RecordedRequest,
  SimConfig,
  SimEnforcement,
  SimErrorStep,
  SimHangStep,
  SimMalformedStep,
  SimOkStep,
  SimOutage,
  SimProvider,
  SimResetStep,
  SimStep,
  SimStepBase,
  SimStreamStep,
  SimulatorOptions,
  SimUsage,
} from './simulator.types';
