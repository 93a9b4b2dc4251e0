import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * A request the gateway rejects itself, before calling the upstream. It names the offending
 * field in `param`, as OpenAI does, so a client can point at what to fix.
 *
 * @example
 * throw new InvalidRequestError("'messages' must be a non-empty array of messages.", 'messages');
 */
export class InvalidRequestError extends HttpException {
  constructor(
    message: string,
    /** The field at fault, e.g. `messages[0].role`; null when it is the body as a whole. */
    readonly param: string | null,
    /** Stable `error.code` for clients that switch on it. */
    errorCode = 'bad_request',
    status: number = HttpStatus.BAD_REQUEST,
  ) {
    super(message, status, { errorCode });
    this.name = 'InvalidRequestError';
  }
}
