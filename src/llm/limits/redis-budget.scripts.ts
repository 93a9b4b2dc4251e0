/**
 * The sliding-window log of sliding-window.log.ts as atomic Redis scripts, so N replicas share one
 * exact window. rate-limiter-flexible counts fixed windows (whole seconds in Redis), which admit
 * up to twice the limit across a window's edge, and a provider counting a sliding window answers
 * that with 429s; hence these scripts.
 *
 * Keys of one budget (one hash tag, so they stay together on a cluster):
 * KEYS[1] sorted set: reservation id → expiry (ms, Redis clock);
 * KEYS[2] hash: id → "requests:tokens"; KEYS[3] hash: running sums `r` and `t` of the window,
 * `ir` and `it` of the pacing interval, the GCRA schedule `pr` and `pt` (theoretical arrival
 * times, ms) and the emission intervals `er` and `et` last charged;
 * KEYS[4] sorted set: id → end of its pacing interval (see budget-pacing.ts).
 * Time is Redis's own (`TIME`): replicas with skewed clocks still agree.
 */
const COMMON = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function amounts(ids)
  local list = redis.call('HMGET', KEYS[2], unpack(ids))
  local result = {}
  for i = 1, #ids do
    local r, t = 0, 0
    if list[i] then
      local a, b = string.match(list[i], '^(%-?%d+):(%-?%d+)$')
      r, t = tonumber(a), tonumber(b)
    end
    result[i] = { r, t }
  end
  return result
end
local function prune(now)
  while true do
    local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 500)
    if #ids == 0 then return end
    local r, t = 0, 0
    for _, a in ipairs(amounts(ids)) do r = r + a[1]; t = t + a[2] end
    redis.call('ZREM', KEYS[1], unpack(ids))
    redis.call('HDEL', KEYS[2], unpack(ids))
    -- 0 - x, not -x: Lua's -0 reaches Redis as '-0', which HINCRBY refuses as not an integer.
    redis.call('HINCRBY', KEYS[3], 'r', 0 - r)
    redis.call('HINCRBY', KEYS[3], 't', 0 - t)
  end
end
local function prune_interval(now)
  while true do
    local ids = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 500)
    if #ids == 0 then return end
    local r, t = 0, 0
    for _, a in ipairs(amounts(ids)) do r = r + a[1]; t = t + a[2] end
    redis.call('ZREM', KEYS[4], unpack(ids))
    redis.call('HINCRBY', KEYS[3], 'ir', 0 - r)
    redis.call('HINCRBY', KEYS[3], 'it', 0 - t)
  end
end
local function num(value)
  return tonumber(value or '0') or 0
end
local function used()
  local u = redis.call('HMGET', KEYS[3], 'r', 't')
  return tonumber(u[1] or '0'), tonumber(u[2] or '0')
end
local function add(id, r, t, expires, ttl)
  redis.call('ZADD', KEYS[1], expires, id)
  redis.call('HSET', KEYS[2], id, string.format('%d:%d', r, t))
  redis.call('HINCRBY', KEYS[3], 'r', r)
  redis.call('HINCRBY', KEYS[3], 't', t)
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
`;

/**
 * ARGV: id, requests, tokens, rpm (0: none), tpm (0: none), hold ms (window + guard), ttl ms,
 * reserve (1) or only peek (0), then the pacing: interval hold ms (0: not paced), interval caps of
 * requests and tokens (0: none), emission ms per request and per token, burst ms. A peek's need is
 * the total of the calls queued ahead and this one: it waits one emission per request ahead, with
 * no burst allowance behind others (as paced-window.ts).
 * Returns {1, requests used, tokens used} when admitted (the window's use, this reservation
 * included), else {0, wait ms (-1: not within one window), 1 requests | 2 tokens short, drain ms,
 * requests used, tokens used}.
 */
export const TAKE_SCRIPT = `${COMMON}
local now = now_ms()
prune(now)
local rpm, tpm = tonumber(ARGV[4]), tonumber(ARGV[5])
local needR, needT = tonumber(ARGV[2]), tonumber(ARGV[3])
if tpm > 0 and needT > tpm then needT = tpm end
local reserve = ARGV[8] == '1'
local usedR, usedT = used()
local exR = rpm > 0 and (usedR + needR - rpm) or -1
local exT = tpm > 0 and (usedT + needT - tpm) or -1
local intervalHold = tonumber(ARGV[9])
local paced = intervalHold > 0
local capR, capT = tonumber(ARGV[10]), tonumber(ARGV[11])
local emR, emT, burst = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
local wait, pdim = 0, 1
local tatR, tatT = 0, 0
if paced then
  prune_interval(now)
  local tat = redis.call('HMGET', KEYS[3], 'pr', 'pt')
  tatR, tatT = num(tat[1]), num(tat[2])
  local aheadR = reserve and 0 or math.max(0, needR - 1)
  if emR > 0 then
    local w = math.max(tatR, now) + aheadR * emR - (aheadR > 0 and 0 or burst) - now
    if w > wait then wait, pdim = w, 1 end
  end
  if emT > 0 then
    local w = math.max(tatT, now) - burst - now
    if w > wait then wait, pdim = w, 2 end
  end
  if reserve then
    local fitT = (capT > 0 and needT > capT) and capT or needT
    local sums = redis.call('HMGET', KEYS[3], 'ir', 'it')
    local sxR = capR > 0 and (num(sums[1]) + needR - capR) or -1
    local sxT = capT > 0 and (num(sums[2]) + fitT - capT) or -1
    if sxR > 0 or sxT > 0 then
      local page = redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES')
      local ids = {}
      for i = 1, #page, 2 do ids[#ids + 1] = page[i] end
      local d = sxR > 0 and 1 or 2
      for i, a in ipairs(amounts(ids)) do
        sxR = sxR - a[1]
        sxT = sxT - a[2]
        if sxR <= 0 and sxT <= 0 then
          local w = tonumber(page[2 * i]) - now
          if w > wait then wait, pdim = w, d end
          break
        end
        if sxT > 0 then d = 2 else d = 1 end
      end
    end
  end
end
if exR <= 0 and exT <= 0 and wait <= 0 then
  if reserve then
    add(ARGV[1], needR, needT, now + tonumber(ARGV[6]), tonumber(ARGV[7]))
    if paced then
      redis.call('ZADD', KEYS[4], now + intervalHold, ARGV[1])
      redis.call('HINCRBY', KEYS[3], 'ir', needR)
      redis.call('HINCRBY', KEYS[3], 'it', needT)
      local pr = emR > 0 and string.format('%.3f', math.max(tatR, now) + needR * emR) or '0'
      local pt = emT > 0 and string.format('%.3f', math.max(tatT, now) + needT * emT) or '0'
      redis.call('HSET', KEYS[3], 'pr', pr, 'pt', pt, 'er', tostring(emR), 'et', tostring(emT))
    end
    return { 1, usedR + needR, usedT + needT }
  end
  return { 1, usedR, usedT }
end
wait = math.ceil(wait)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local drain = last[2] and (tonumber(last[2]) - now) or 0
if exR <= 0 and exT <= 0 then
  return { 0, wait, pdim, math.max(drain, wait), usedR, usedT }
end
local dim = exR > 0 and 1 or 2
local offset = 0
while true do
  local page = redis.call('ZRANGE', KEYS[1], offset, offset + 199, 'WITHSCORES')
  if #page == 0 then return { 0, -1, dim, drain, usedR, usedT } end
  local ids = {}
  for i = 1, #page, 2 do ids[#ids + 1] = page[i] end
  for i, a in ipairs(amounts(ids)) do
    exR = exR - a[1]
    exT = exT - a[2]
    if exR <= 0 and exT <= 0 then
      local w = tonumber(page[2 * i]) - now
      if wait > w then return { 0, wait, pdim, math.max(drain, wait), usedR, usedT } end
      return { 0, w, dim, drain, usedR, usedT }
    end
    if exT > 0 then dim = 2 else dim = 1 end
  end
  offset = offset + 200
end
`;

/** ARGV: id, requests, tokens. Replaces what a reservation counts; a gone one is ignored. */
export const ADJUST_SCRIPT = `${COMMON}
local old = amounts({ ARGV[1] })[1]
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false then return 0 end
local r, t = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], string.format('%d:%d', r, t))
redis.call('HINCRBY', KEYS[3], 'r', r - old[1])
redis.call('HINCRBY', KEYS[3], 't', t - old[2])
if redis.call('ZSCORE', KEYS[4], ARGV[1]) then
  redis.call('HINCRBY', KEYS[3], 'ir', r - old[1])
  redis.call('HINCRBY', KEYS[3], 'it', t - old[2])
end
-- The schedule moves by what the correction adds or gives back, as in gcra.pacer.ts.
local e = redis.call('HMGET', KEYS[3], 'er', 'et', 'pr', 'pt')
if e[3] then
  local pr = num(e[3]) + (r - old[1]) * num(e[1])
  local pt = num(e[4]) + (t - old[2]) * num(e[2])
  redis.call('HSET', KEYS[3], 'pr', string.format('%.3f', pr), 'pt', string.format('%.3f', pt))
end
return 1
`;

/**
 * ARGV: id, dimension (r | t), provider's remaining, reset ms, limit, ttl ms. When the provider
 * says fewer remain than the window leaves, holds the difference until the provider's reset.
 */
export const CORRECT_SCRIPT = `${COMMON}
local now = now_ms()
prune(now)
local usedR, usedT = used()
local inUse = ARGV[2] == 'r' and usedR or usedT
local ours = tonumber(ARGV[5]) - inUse
local amount = ours - tonumber(ARGV[3])
if amount <= 0 then return 0 end
local r = ARGV[2] == 'r' and amount or 0
add(ARGV[1], r, amount - r, now + tonumber(ARGV[4]), tonumber(ARGV[6]))
return amount
`;

/**
 * ARGV: ttl ms, interval hold ms (0: not paced), emission ms per request and per token, then per
 * entry, oldest first: id, requests, tokens, ms until it leaves the window, ms since it was
 * admitted. Copies what a replica admitted on its own while Redis was away, so the shared window
 * knows it; when paced, also the pacing interval (entries admitted less than a hold ago) and the
 * GCRA schedule (each entry replayed at its admission time), so the replica's recent admissions
 * and the others' are not both allowed within one interval.
 */
export const IMPORT_SCRIPT = `${COMMON}
local now = now_ms()
local ttl = tonumber(ARGV[1])
local hold, emR, emT = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tat = redis.call('HMGET', KEYS[3], 'pr', 'pt')
local tatR, tatT = num(tat[1]), num(tat[2])
local paced = false
for i = 5, #ARGV, 5 do
  local id, r, t = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  if redis.call('ZSCORE', KEYS[1], id) == false then
    add(id, r, t, now + tonumber(ARGV[i + 3]), ttl)
    local admitted = now - tonumber(ARGV[i + 4])
    if hold > 0 and admitted + hold > now then
      paced = true
      redis.call('ZADD', KEYS[4], admitted + hold, id)
      redis.call('HINCRBY', KEYS[3], 'ir', r)
      redis.call('HINCRBY', KEYS[3], 'it', t)
      if emR > 0 then tatR = math.max(tatR, admitted) + r * emR end
      if emT > 0 then tatT = math.max(tatT, admitted) + t * emT end
    end
  end
end
if paced then
  local pr = emR > 0 and string.format('%.3f', tatR) or '0'
  local pt = emT > 0 and string.format('%.3f', tatT) or '0'
  redis.call('HSET', KEYS[3], 'pr', pr, 'pt', pt, 'er', tostring(emR), 'et', tostring(emT))
end
return 1
`;
