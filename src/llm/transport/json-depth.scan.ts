/**
 * Deepest nesting of arrays and objects an upstream's answer (a completion, a stream chunk) may
 * have before it is parsed. A chat completion nests under 10 levels; 30 MB of brackets within
 * the 32 MiB answer bound held the event loop 13 s in `JSON.parse`, and its relay overflowed
 * `JSON.stringify`'s stack.
 */
export const MAX_ANSWER_DEPTH = 128;

/** Whether `text` nests arrays and objects deeper than `maxDepth`, without parsing it. */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  return !new JsonDepthScan(maxDepth).push(text);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

/** What a {@link JsonDepthScan} counts besides the nesting, each over the whole text. */
export interface JsonCountBounds {
  /** Object members (key-value pairs): colons outside strings. */
  members?: number;
  /** Objects and arrays: opening brackets and braces. */
  containers?: number;
  /** Values after the first of each object or array: commas outside strings. */
  commas?: number;
}

/** Which bound a scan refused the text on. */
export type JsonScanRefusal = 'depth' | keyof JsonCountBounds;

/**
 * Follows the nesting of JSON text as it arrives, part by part, without parsing it: brackets and
 * braces outside strings; and counts object members, objects and arrays, and commas. Strings are skipped with
 * native searches for their end, so a body of long strings (prompts) costs little; a body that
 * is not JSON is left for the parser to refuse.
 *
 * @example
 * const scan = new JsonDepthScan(128, { members: 100_000 });
 * if (!scan.push(body)) refuse(scan.refused); // 'depth', 'members'... (a Buffer of UTF-8, or a string)
 */
export class JsonDepthScan {
  private depth = 0;
  private members = 0;
  private containers = 0;
  private commas = 0;
  private readonly maxMembers: number;
  private readonly maxContainers: number;
  private readonly maxCommas: number;
  private inString = false;
  /** The previous part ended inside a string, on a backslash: its next byte is escaped. */
  private escaped = false;
  /** Which bound the text passed, once {@link push} has returned false. */
  refused: JsonScanRefusal | undefined;

  /**
   * @param maxDepth deepest nesting of arrays and objects.
   * @param bounds counts over the whole text; each unbounded when not given.
   */
  constructor(
    private readonly maxDepth: number,
    bounds: JsonCountBounds = {},
  ) {
    this.maxMembers = bounds.members ?? Infinity;
    this.maxContainers = bounds.containers ?? Infinity;
    this.maxCommas = bounds.commas ?? Infinity;
  }

  /** Takes the next part; false once the text has passed a bound ({@link refused} says which). */
  push(part: Buffer | string): boolean {
    if (this.refused) return false;
    const text = typeof part === 'string';
    let i = 0;
    const length = part.length;
    if (this.escaped) {
      this.escaped = false;
      i = 1;
    }
    // The next quote and backslash at or after `i`, each searched again only once `i` has passed
    // it: every byte is searched once, so the scan is linear in the body (searching both afresh
    // at every string read to the body's end each time: 3 MB took 19 s).
    let quote = -1;
    let backslash = -1;
    while (i < length) {
      if (this.inString) {
        if (quote !== length && quote < i)
          quote = found(text ? part.indexOf('"', i) : part.indexOf(QUOTE, i), length);
        if (backslash !== length && backslash < i) {
          backslash = found(text ? part.indexOf('\\', i) : part.indexOf(BACKSLASH, i), length);
        }
        if (backslash < quote) {
          // An escape: its next byte (perhaps in the next part) is not the string's end.
          if (backslash + 1 >= length) {
            this.escaped = true;
            return true;
          }
          i = backslash + 2;
          continue;
        }
        if (quote === length) return true;
        this.inString = false;
        i = quote + 1;
        continue;
      }
      const byte = text ? part.charCodeAt(i) : part[i]!;
      if (byte === QUOTE) this.inString = true;
      else if (byte === COMMA) {
        if (++this.commas > this.maxCommas) return this.refuse('commas');
      } else if (byte === COLON) {
        if (++this.members > this.maxMembers) return this.refuse('members');
      } else if (byte === 0x5b || byte === 0x7b) {
        if (++this.depth > this.maxDepth) return this.refuse('depth');
        if (++this.containers > this.maxContainers) return this.refuse('containers');
      } else if (byte === 0x5d || byte === 0x7d) this.depth--;
      i++;
    }
    return true;
  }

  private refuse(bound: JsonScanRefusal): false {
    this.refused = bound;
    return false;
  }
}

/** A search's result, with "none" as the part's length (past every index). */
function found(index: number, length: number): number {
  return index === -1 ? length : index;
}
