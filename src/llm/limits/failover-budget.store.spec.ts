import { describeRedisFailure } from './failover-budget.store';

describe('describeRedisFailure', () => {
  it.each([
    'WRONGPASS invalid username-password pair or user is disabled.',
    'NOAUTH Authentication required.',
    'NOPERM this user has no permissions to run the "evalsha" command',
  ])('names a credentials problem as such: %s', (reason) => {
    expect(describeRedisFailure(reason)).toMatch(/refused our credentials/);
  });

  it.each(['connect ECONNREFUSED 127.0.0.1:6379', 'Connection is closed.'])(
    'calls anything else unreachable: %s',
    (reason) => {
      expect(describeRedisFailure(reason)).toBe('is unreachable');
    },
  );
});
