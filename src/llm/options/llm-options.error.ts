/** Thrown at startup when LlmModule options are wrong; lists every problem with its field path. */
export class LlmOptionsError extends Error {
  readonly code = 'LLM_INVALID_OPTIONS';

  constructor(readonly problems: readonly string[]) {
    super(listProblems('LlmModule', problems));
    this.name = 'LlmOptionsError';
  }
}

/** The message of an options error: one problem a line, so a boot shows them all at once. */
export function listProblems(moduleName: string, problems: readonly string[]): string {
  return `Invalid ${moduleName} options (${problems.length}):\n  - ${problems.join('\n  - ')}`;
}
