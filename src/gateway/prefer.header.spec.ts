import type { Request } from 'express';
import { preferences } from './prefer.header';

const req = (prefer?: string | string[]) => ({ headers: { prefer } }) as unknown as Request;

describe('preferences (RFC 7240 Prefer)', () => {
  it('reads respond-async and wait among other preferences, in any case', () => {
    expect(preferences(req('Respond-Async, wait=10, handling=lenient'))).toEqual({
      respondAsync: true,
      waitS: 10,
    });
    expect(preferences(req(['return=minimal', 'respond-async']))).toEqual({ respondAsync: true });
  });

  it('caps wait at 60 s and ignores a malformed one', () => {
    expect(preferences(req('wait=3600')).waitS).toBe(60);
    expect(preferences(req('wait=soon')).waitS).toBeUndefined();
    expect(preferences(req()).respondAsync).toBe(false);
  });
});
