/** Injection token of the validated options ({@link ResolvedLlmOptions}). */
export const LLM_RESOLVED_OPTIONS = Symbol('LLM_RESOLVED_OPTIONS');
