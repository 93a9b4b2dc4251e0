import { createHash } from 'node:crypto';
import { currentLlmContext } from '../llm/index';
import { rawRequest, type PlatformRequest } from './http-exchange';

/**
 * Who is calling, for job ownership: a hash of the `Authorization` header and the user id the
 * context interceptor read (x-user-id). A job is visible only to the same credentials and user
 * that created it. Only the hash is stored: never the credentials.
 */
export function callerIdentity(req: PlatformRequest): string {
  const authorization = rawRequest(req).headers.authorization ?? '';
  const userId = currentLlmContext()?.userId ?? '';
  return createHash('sha256').update(`${authorization}\n${userId}`).digest('base64url');
}
