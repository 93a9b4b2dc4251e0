import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { currentLlmContext } from '../llm/index';

/**
 * Who is calling, for job ownership: a hash of the `Authorization` header and the user id the
 * context interceptor read (x-user-id). A job is visible only to the same credentials and user
 * that created it. Only the hash is stored: never the credentials.
 */
export function callerIdentity(req: Request): string {
  const authorization = req.headers.authorization ?? '';
  const userId = currentLlmContext()?.userId ?? '';
  return createHash('sha256').update(`${authorization}\n${userId}`).digest('base64url');
}
