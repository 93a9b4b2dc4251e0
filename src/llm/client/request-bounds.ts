/**
 * Bounds on what one chat request may hold, checked before any upstream work. A request is
 * hostile input: its model name becomes a breaker key, a metric label, event fields and a
 * response header, and its nesting depth is what the JSON encoder recurses on.
 */
export const LLM_REQUEST_BOUNDS = {
  /** Longest model name. OpenAI's, Azure deployment and Hugging Face names are far shorter. */
  maxModelLength: 256,
  /** Most messages in one request. */
  maxMessages: 4096,
  /**
   * Deepest nesting of arrays and objects. A chat request with tools nests about 10 levels; a
   * 6,000-deep array overflows the stack of the JSON encoder.
   */
  maxDepth: 64,
} as const;

/**
 * Printable ASCII, no control characters: the model name is written to log lines and headers,
 * where a CR/LF would start a forged line.
 */
const MODEL_NAME = /^[\x20-\x7e]+$/;

/** Why a model name is refused, or undefined when it is acceptable. */
export function modelNameProblem(model: string): string | undefined {
  if (model.length > LLM_REQUEST_BOUNDS.maxModelLength) {
    return `'model' must be at most ${LLM_REQUEST_BOUNDS.maxModelLength} characters; got ${model.length}`;
  }
  if (!MODEL_NAME.test(model)) {
    return "'model' must be printable ASCII (no control characters, line breaks or non-ASCII letters)";
  }
  return undefined;
}

/**
 * Whether `value` nests deeper than `maxDepth`, found without recursion (the point is to stay
 * off the stack) and stopping at the first level too deep.
 *
 * @example
 * exceedsDepth({ a: [[1]] }, 2); // true: object > array > array
 */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  return inspectRequest(value, maxDepth) === 'too_deep';
}

/**
 * One walk of a request (as {@link exceedsDepth}): `'too_deep'` when it nests deeper than
 * `maxDepth`, else `'non_finite'` when a number anywhere in it is not finite (`1e400` parses as
 * Infinity, which JSON then sends as `null`), else `undefined`.
 */
export function inspectRequest(
  value: unknown,
  maxDepth: number,
): 'too_deep' | 'non_finite' | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (maxDepth < 1) return 'too_deep';
  let nonFinite = false;
  // Objects still to look into, and their depths, in two stacks kept between walks (with their
  // room): a walk allocates nothing, no pair per object and no array of each object's values.
  // A getter or proxy of the request that starts another walk meanwhile gets stacks of its own.
  const reentered = walking;
  const objects: (object | undefined)[] = reentered ? [] : WALK_OBJECTS;
  const depths: number[] = reentered ? [] : WALK_DEPTHS;
  walking = true;
  let top = 0;
  objects[top] = value;
  depths[top++] = 1;
  try {
    while (top > 0) {
      const current = objects[--top]!;
      objects[top] = undefined;
      const depth = depths[top]!;
      if (Array.isArray(current)) {
        for (let i = 0; i < current.length; i++) {
          const child: unknown = current[i];
          if (typeof child === 'object' && child !== null) {
            if (depth >= maxDepth) return 'too_deep';
            objects[top] = child;
            depths[top++] = depth + 1;
          } else if (typeof child === 'number' && !Number.isFinite(child)) nonFinite = true;
        }
      } else {
        for (const key in current) {
          // Own values only, as Object.values gives them.
          if (!Object.hasOwn(current, key)) continue;
          const child: unknown = (current as Record<string, unknown>)[key];
          if (typeof child === 'object' && child !== null) {
            if (depth >= maxDepth) return 'too_deep';
            objects[top] = child;
            depths[top++] = depth + 1;
          } else if (typeof child === 'number' && !Number.isFinite(child)) nonFinite = true;
        }
      }
    }
    return nonFinite ? 'non_finite' : undefined;
  } finally {
    // Nothing of the request is held after the walk.
    while (top > 0) objects[--top] = undefined;
    if (!reentered) {
      walking = false;
      // The room a very wide request needed is not kept for the next one.
      if (objects.length > MAX_KEPT_ROOM) {
        WALK_OBJECTS = [];
        WALK_DEPTHS = [];
      }
    }
  }
}

const MAX_KEPT_ROOM = 1024;
let WALK_OBJECTS: (object | undefined)[] = [];
let WALK_DEPTHS: number[] = [];
let walking = false;
