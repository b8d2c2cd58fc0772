--[[
  admit.lua: one admission attempt against the LLM bucket of one (provider, model): requests and
  tokens per minute, checked together with the tenant's share and the fleet-wide pause, all or
  nothing, in one round trip. Time is Redis' own (TIME), so every process agrees on it.

  Model: two token buckets (requests, tokens) refilling continuously at rpm/60 s and tpm/60 s up to
  a capacity of `burst` worth of rate; a tenant has two more at `share` of both. An admission
  charges every bucket at once and may leave a level below zero: the caller is then admitted with
  a start delay (a booking) equal to the time the refill needs to cover it. Bookings are bounded by
  a horizon per class; beyond it the attempt is refused and handed a place in a line.

  Priority: a bulk attempt must leave `reserve * capacity` in every bucket once its start time
  comes (its start waits for the level to reach reserve + cost), so it books only while the level
  is at least its cost and never pushes the level below zero; interactive starts as soon as the
  level covers its cost and may book into the debt up to its horizon. Interactive therefore always
  finds the reserve, bulk never does.

  Lines: a refused attempt gets a retry time from a virtual schedule per class and dimension
  (the time the refill would have served everyone refused before it, one cost after another), so
  waiters come back one by one, each when the refill can serve it, and in the order they came.
  While a line is not empty, a first attempt of that class joins its end instead of taking the
  capacity the line is waiting for. An attempt returning from the line may book one cost beyond
  its horizon (the schedule drifts with reconciled usage; a returner should not lose its turn to
  that). If it still cannot book (interactive took the capacity), it joins the front line, a
  second schedule of returners that starts when the bucket can serve again and keeps their order.

  KEYS[1]  bucket hash  r, t: request / token level at ts; ts: µs (Redis TIME);
                        ir, it, br, bt: end of the interactive / bulk line for requests / tokens (µs);
                        ifr, ift, bfr, bft: end of the front lines of returners, likewise;
                        n_i, n_b, n_ref: admitted interactive / bulk, refused attempts (counters)
  KEYS[2]  tenant hash  r, t, ts and the lines as above, at `share` of the rates; expires when full
                        and its lines are over. Not touched when ARGV[5] is 0 (no tenant cap).
  KEYS[3]  pause key    present (with PX) while a 429 pause holds the bucket

  ARGV[1]  request refill per µs     ARGV[2]  token refill per µs
  ARGV[3]  request capacity          ARGV[4]  token capacity
  ARGV[5]  tenant share, 0 < share < 1; 0 = no tenant cap
  ARGV[6]  'i' interactive | 'b' bulk
  ARGV[7]  bulk reserve fraction of capacity, 0 <= reserve < 1
  ARGV[8]  estimated tokens (charged now, reconciled later by adjust.lua)
  ARGV[9]  booking horizon in µs: the longest start delay this attempt may be given
  ARGV[10] '1' when this attempt returns from a place in the line, else '0'

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
local class = ARGV[6]
local bulk = class == 'b'
local reserve = tonumber(ARGV[7])
local tokens = tonumber(ARGV[8])
local horizon = tonumber(ARGV[9])
local returning = ARGV[10] == '1'

local function fmt(x) return string.format('%.17g', x) end

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

-- One hash: levels at `now` (stored level plus refill since ts, never above capacity; a missing
-- hash is a full bucket), the waits and costs of this attempt, and this class' line ends.
local function load(key, cap_req, cap_tok, rate_req, rate_tok)
  local v = redis.call('HMGET', key, 'r', 't', 'ts', class .. 'r', class .. 't', class .. 'fr', class .. 'ft')
  local b = { key = key, r = cap_req, t = cap_tok, cap_r = cap_req, cap_t = cap_tok, rate_r = rate_req, rate_t = rate_tok,
              line_r = tonumber(v[4]) or 0, line_t = tonumber(v[5]) or 0,
              front_r = tonumber(v[6]) or 0, front_t = tonumber(v[7]) or 0 }
  local ts = tonumber(v[3])
  if ts ~= nil then
    local dt = now - ts
    if dt < 0 then dt = 0 end
    b.r = math.min(cap_req, tonumber(v[1]) + dt * rate_req)
    b.t = math.min(cap_tok, tonumber(v[2]) + dt * rate_tok)
  end
  b.wait_r, b.span_r = delay(b.r, 1, cap_req, rate_req)
  b.wait_t, b.span_t = delay(b.t, tokens, cap_tok, rate_tok)
  b.wait = math.max(b.wait_r, b.wait_t)
  -- A full bucket means nobody has used it for a whole burst: whoever held places in the line
  -- left (aborted, or their process died), and new attempts need not wait behind them.
  local full = b.r >= cap_req * 0.999999 and b.t >= cap_tok * 0.999999
  b.queued = not full and math.max(b.line_r, b.line_t, b.front_r, b.front_t) > now
  return b
end

-- Joins the end of `b`'s line (or front line); returns the µs until this attempt's turn.
local function join(b, front, slack)
  local f_r, f_t, end_r, end_t = class .. 'r', class .. 't', b.line_r, b.line_t
  if front then f_r, f_t, end_r, end_t = class .. 'fr', class .. 'ft', b.front_r, b.front_t end
  local turn_r = math.max(end_r, now + math.max(0, b.wait_r - horizon - slack))
  local turn_t = math.max(end_t, now + math.max(0, b.wait_t - horizon - slack))
  local line_r, line_t = turn_r + b.span_r, turn_t + b.span_t
  redis.call('HSET', b.key, f_r, fmt(line_r), f_t, fmt(line_t))
  if b.key == KEYS[2] then
    local ttl = math.ceil((math.max(line_r, line_t) - now) / 1000) + 1000
    if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
  end
  return math.max(turn_r, turn_t) - now
end

local g = load(KEYS[1], cap_r, cap_t, rate_r, rate_t)
local tn = nil
if share > 0 then tn = load(KEYS[2], cap_r * share, cap_t * share, rate_r * share, rate_t * share) end

local wait, binding, reason = g.wait, g, 'rate'
if tn ~= nil and tn.wait > wait then wait, binding, reason = tn.wait, tn, 'tenant' end
local slack = 0
if returning then slack = math.max(g.span_r, g.span_t) end

local line = nil
if wait > horizon + slack then
  line = binding
elseif not returning then
  if g.queued then line, reason = g, 'rate'
  elseif tn ~= nil and tn.queued then line, reason = tn, 'tenant' end
end
if line ~= nil then
  redis.call('HINCRBY', KEYS[1], 'n_ref', 1)
  return {0, math.floor(join(line, returning, slack)), reason}
end

redis.call('HSET', KEYS[1], 'r', fmt(g.r - 1), 't', fmt(g.t - tokens), 'ts', now)
if bulk then redis.call('HINCRBY', KEYS[1], 'n_b', 1) else redis.call('HINCRBY', KEYS[1], 'n_i', 1) end
if tn ~= nil then
  local r, t = tn.r - 1, tn.t - tokens
  redis.call('HSET', KEYS[2], 'r', fmt(r), 't', fmt(t), 'ts', now)
  -- Expire once both levels are full again and the lines are over: a missing hash is a full bucket.
  local full = math.max((tn.cap_r - r) / tn.rate_r, (tn.cap_t - t) / tn.rate_t,
    tn.line_r - now, tn.line_t - now, tn.front_r - now, tn.front_t - now)
  redis.call('PEXPIRE', KEYS[2], math.ceil(full / 1000) + 1000)
end
return {1, math.floor(wait)}
