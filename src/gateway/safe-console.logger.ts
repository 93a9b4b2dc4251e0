import { ConsoleLogger } from '@nestjs/common';
import { maskUrlPasswords } from '../llm/index';

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Escapes control characters so a logged value can never end its line and start a forged one
 * (a model name with CR/LF echoed in an error, say): `\n` is written as the two characters `\n`.
 *
 * @example
 * escapeControl('a\r\n[Nest] LOG forged'); // 'a\\r\\n[Nest] LOG forged'
 */
export function escapeControl(text: string): string {
  return text.replace(
    CONTROL,
    (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Nest's console logger with log hygiene: every message has its control characters escaped and
 * the passwords of URLs in it masked. Stack traces keep their `at ...` lines, but a line break
 * inside the error's message is escaped too.
 *
 * @example
 * NestFactory.create(AppModule, { logger: new SafeConsoleLogger() });
 */
export class SafeConsoleLogger extends ConsoleLogger {
  protected override resolveMessage(message: unknown): unknown {
    const resolved = super.resolveMessage(message);
    return typeof resolved === 'string' ? escapeControl(maskUrlPasswords(resolved)) : resolved;
  }

  protected override printStackTrace(stack: string): void {
    if (!stack) return;
    const lines = maskUrlPasswords(stack).split('\n');
    // Only the frames start a new line; anything else was part of the message.
    const kept = lines.reduce<string[]>((out, line, i) => {
      if (i === 0 || !/^\s+at /.test(line)) {
        if (i === 0) out.push(escapeControl(line));
        else out[out.length - 1] += `\\n${escapeControl(line)}`;
      } else {
        out.push(escapeControl(line));
      }
      return out;
    }, []);
    super.printStackTrace(kept.join('\n'));
  }
}
