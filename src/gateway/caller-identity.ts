import { createHash } from 'node:crypto';
import { currentLlmContext } from '../llm/index';
import { rawRequest, type PlatformRequest } from './http-exchange';

/**
 * Who is calling, for job ownership: a hash of the `Authorization` header and the `x-user-id`
 * header as sent (else the user id the context read). A job is visible only to the same
 * credentials and user that created it. Only the hash is stored: never the credentials.
 *
 * The header as sent, not the context's user id: that one is cleaned for log lines and spans
 * (cut to 256 characters, control characters and spaces around it removed), so two users whose
 * ids differ only past that cut, or in those characters, read each other's jobs.
 */
export function callerIdentity(req: PlatformRequest): string {
  const { headers } = rawRequest(req);
  const authorization = headers.authorization ?? '';
  const sent = headers['x-user-id'];
  const userId =
    sent === undefined
      ? `context:${currentLlmContext()?.userId ?? ''}`
      : `header:${Array.isArray(sent) ? sent.join('\n') : sent}`;
  return createHash('sha256').update(`${authorization}\n${userId}`).digest('base64url');
}
