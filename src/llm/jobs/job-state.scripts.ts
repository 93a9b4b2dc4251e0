/**
 * One atomic step of a job's state, in Redis (a Lua script runs alone: two workers, or a worker
 * and a cancel, never interleave). A job's hash holds `state`, `doc` (the JSON record) and
 * `deliveries`; a sorted set holds the queued jobs by enqueue time, for positions and the oldest
 * age. Modes:
 * - `create`: only if the job has no state yet (an enqueue's write that arrives after the worker's
 *   own, e.g. once Redis is back, never moves the job back);
 * - `update`: unless the job already ended: an ended job's state is final, so a result is stored once;
 * - `run`: like `update`, and counts a delivery;
 * - `cancel`: only if the job exists and has not ended; rewrites the stored doc as cancelled.
 *
 * KEYS: job hash, queued set. ARGV: mode, state, doc, ttl ms, id, enqueuedAt, channel, now.
 * Returns { applied (0|1), the state now ('' if none), deliveries }.
 */
export const TRANSITION_SCRIPT = `
local mode = ARGV[1]
local current = redis.call('HGET', KEYS[1], 'state')
local function deliveries() return tonumber(redis.call('HGET', KEYS[1], 'deliveries') or '0') end
if not current then
  if mode == 'cancel' then return {0, '', 0} end
else
  if mode == 'create' or current == 'completed' or current == 'failed' or current == 'cancelled' then
    return {0, current, deliveries()}
  end
end
local doc = ARGV[3]
if mode == 'cancel' then
  local record = cjson.decode(redis.call('HGET', KEYS[1], 'doc'))
  record['state'] = 'cancelled'
  record['endedAt'] = tonumber(ARGV[8])
  doc = cjson.encode(record)
end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'doc', doc)
if mode == 'run' then redis.call('HINCRBY', KEYS[1], 'deliveries', 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if ARGV[2] == 'queued' then
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
else
  redis.call('ZREM', KEYS[2], ARGV[5])
end
redis.call('PUBLISH', ARGV[7], ARGV[5] .. ' ' .. ARGV[2])
return {1, ARGV[2], deliveries()}
`;
