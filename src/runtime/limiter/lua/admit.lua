--[[
  admit.lua: one admission attempt against the LLM bucket of one (provider, model): requests and
  tokens per minute, checked together with the tenant's share and the fleet-wide pause, all or
  nothing, in one round trip. Time is Redis' own (TIME), so every process agrees on it.

  Model: two token buckets (requests, tokens) refilling continuously at rpm/60 s and tpm/60 s up to
  a capacity of `burst` worth of rate; a tenant has two more at `share` of both. An admission
  charges every bucket at once and may leave a level below zero: the caller is then admitted with
  a start delay (a booking) equal to the time the refill needs to cover it. Bookings are bounded by
  a horizon per class; beyond it the attempt is refused with a staggered retry time.

  Priority: a bulk attempt must leave `reserve * capacity` in every bucket once its start time
  comes (its start waits for the level to reach reserve + cost), so it books only while the level
  is at least its cost and never pushes the level below zero; interactive starts as soon as the
  level covers its cost and may book into the debt up to its horizon. Interactive therefore always
  finds the reserve, bulk never does.

  KEYS[1]  bucket hash  r, t: request / token level at ts; ts: µs (Redis TIME);
                        wi, wb: end of the retry ticket line (µs) of interactive / bulk;
                        n_i, n_b, n_ref: admitted interactive / bulk, refused attempts (counters)
  KEYS[2]  tenant hash  r, t, ts, wi, wb as above, at `share` of the rates; expires when full again.
                        Not touched when ARGV[5] is 0 (no tenant cap).
  KEYS[3]  pause key    present (with PX) while a 429 pause holds the bucket

  ARGV[1]  request refill per µs     ARGV[2]  token refill per µs
  ARGV[3]  request capacity          ARGV[4]  token capacity
  ARGV[5]  tenant share, 0 < share < 1; 0 = no tenant cap
  ARGV[6]  'i' interactive | 'b' bulk
  ARGV[7]  bulk reserve fraction of capacity, 0 <= reserve < 1
  ARGV[8]  estimated tokens (charged now, reconciled later by adjust.lua)
  ARGV[9]  booking horizon in µs: the longest start delay this attempt may be given

  Returns  {1, wait_us}           admitted; start after wait_us (0: now)
           {0, retry_us, reason}  not admitted; try again after retry_us.
                                  reason: 'paused' | 'rate' (the bucket) | 'tenant' (the share)
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local paused = redis.call('PTTL', KEYS[3])
if paused > 0 then
  redis.call('HINCRBY', KEYS[1], 'n_ref', 1)
  return {0, paused * 1000, 'paused'}
end

local rate_r, rate_t = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap_r, cap_t = tonumber(ARGV[3]), tonumber(ARGV[4])
local share = tonumber(ARGV[5])
local bulk = ARGV[6] == 'b'
local reserve = tonumber(ARGV[7])
local tokens = tonumber(ARGV[8])
local horizon = tonumber(ARGV[9])
local line = 'wi'
if bulk then line = 'wb' end

-- Levels at `now`: the stored level plus the refill since ts, never above capacity. A missing
-- hash is a full bucket (keys expire only once full).
local function levels(key, cr, ct, rr, rt)
  local v = redis.call('HMGET', key, 'r', 't', 'ts', line)
  local ts = tonumber(v[3])
  local ticket = tonumber(v[4]) or 0
  if ts == nil then return cr, ct, ticket end
  local dt = now - ts
  if dt < 0 then dt = 0 end
  return math.min(cr, tonumber(v[1]) + dt * rr), math.min(ct, tonumber(v[2]) + dt * rt), ticket
end

-- µs until `level` covers the floor of this class plus the cost, and the cost in µs of refill.
-- A cost above what the bucket can ever hold waits for a full bucket, then goes into debt.
local function delay(level, cost, cap, rate)
  local floor = 0
  if bulk then floor = cap * reserve end
  local need = math.min(cost, cap - floor)
  local w = (floor + need - level) / rate
  if w < 0 then w = 0 end
  return w, need / rate
end

local function fmt(x) return string.format('%.17g', x) end

local gr, gt, gline = levels(KEYS[1], cap_r, cap_t, rate_r, rate_t)
local w1, s1 = delay(gr, 1, cap_r, rate_r)
local w2, s2 = delay(gt, tokens, cap_t, rate_t)
local wait, span = math.max(w1, w2), math.max(s1, s2)
local binding, binding_line, reason = KEYS[1], gline, 'rate'

local tr, tt, tcap_r, tcap_t, trate_r, trate_t
if share > 0 then
  tcap_r, tcap_t, trate_r, trate_t = cap_r * share, cap_t * share, rate_r * share, rate_t * share
  local tline
  tr, tt, tline = levels(KEYS[2], tcap_r, tcap_t, trate_r, trate_t)
  local w3, s3 = delay(tr, 1, tcap_r, trate_r)
  local w4, s4 = delay(tt, tokens, tcap_t, trate_t)
  local tw = math.max(w3, w4)
  if tw > wait then
    wait, binding, binding_line, reason = tw, KEYS[2], tline, 'tenant'
  end
  span = math.max(span, s3, s4)
end

if wait > horizon then
  -- Refused. Hand out places in a line instead of the same retry time to everyone: each refusal
  -- moves the line's end by its own cost, so waiters come back one by one as the refill allows.
  local ticket = math.max(binding_line, now + wait - horizon)
  redis.call('HSET', binding, line, fmt(ticket + span))
  if binding == KEYS[2] then
    local ttl = math.ceil((ticket + span - now) / 1000) + 1000
    if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
  end
  redis.call('HINCRBY', KEYS[1], 'n_ref', 1)
  return {0, math.floor(ticket - now), reason}
end

gr, gt = gr - 1, gt - tokens
redis.call('HSET', KEYS[1], 'r', fmt(gr), 't', fmt(gt), 'ts', now)
if bulk then redis.call('HINCRBY', KEYS[1], 'n_b', 1) else redis.call('HINCRBY', KEYS[1], 'n_i', 1) end
if share > 0 then
  tr, tt = tr - 1, tt - tokens
  redis.call('HSET', KEYS[2], 'r', fmt(tr), 't', fmt(tt), 'ts', now)
  -- Expire once both levels are full again: a missing hash reads as a full bucket.
  local full = math.max((tcap_r - tr) / trate_r, (tcap_t - tt) / trate_t)
  redis.call('PEXPIRE', KEYS[2], math.ceil(full / 1000) + 1000)
end
return {1, math.floor(wait)}
