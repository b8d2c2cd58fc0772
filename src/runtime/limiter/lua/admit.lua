--[[
  admit.lua: one batch of admission attempts against the LLM bucket of one (provider, model), with
  the adjustments that waited for it (reconciled usage, handed-back bookings) applied first, all
  in one round trip. Requests and tokens per minute are checked together with each tenant's share
  and the fleet-wide pause, all or nothing per attempt, in the order given (the caller puts
  interactive first). Time is Redis' own (TIME, once per batch), so every process agrees on it;
  every attempt of a batch is judged at that one instant, exactly as back-to-back calls would be.

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

  Everything lives in one hash, read with one HMGET and written with one HSET, so a batch costs
  four commands (EVALSHA, TIME, HMGET, HSET) whatever its size and however many tenants it names.
  Idle tenants are swept by an HSCAN a few fields at a time, once per sweep interval.

  KEYS[1]  bucket hash  r, t, ts: request / token level at ts; ts: µs (Redis TIME);
                        ir, it, br, bt: end of the interactive / bulk line for requests / tokens (µs);
                        ifr, ift, bfr, bft: end of the front lines of returners, likewise;
                        n_i, n_b, n_ref: admitted interactive / bulk, refused attempts (counters);
                        pu: µs until which a 429 pause holds the bucket (pause.lua);
                        sw, swc: µs of the next sweep step, and its HSCAN cursor;
                        t:<tenant>: the tenant's share at `share` of the rates, the 11 numbers
                        "r t ts ir it br bt ifr ift bfr bft" (missing: full, no lines)

  ARGV[1]  request refill per µs     ARGV[2]  token refill per µs
  ARGV[3]  request capacity          ARGV[4]  token capacity
  ARGV[5]  tenant share, 0 < share < 1; 0 = no tenant cap (tenant fields untouched)
  ARGV[6]  bulk reserve fraction of capacity, 0 <= reserve < 1
  ARGV[7]  sweep interval, µs
  ARGV[8]  A, the number of adjustments     ARGV[9]  N, the number of attempts
  then A x 5: tenant, requests, tokens (added to the bucket), requests, tokens (added to the
              tenant); negative amounts charge
  then N x 5: tenant, 'i' interactive | 'b' bulk, estimated tokens, booking horizon in µs (the
              longest start delay the attempt may be given), '1' when it returns from a place in
              the line else '0'

  Returns  {code_1, us_1, ..., code_N, us_N}, one pair per attempt in order:
           code 0: admitted, start after us (0: now);
           code 1 paused | 2 rate (the bucket) | 3 tenant (the share): refused, retry after us
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local rate_r, rate_t = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap_r, cap_t = tonumber(ARGV[3]), tonumber(ARGV[4])
local share, reserve, sweep_us = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local na, nn = tonumber(ARGV[8]), tonumber(ARGV[9])
local adj0, att0 = 9, 9 + 5 * na
local LINES = {'ir', 'it', 'br', 'bt', 'ifr', 'ift', 'bfr', 'bft'}
local BUCKET = {'r', 't', 'ts', 'ir', 'it', 'br', 'bt', 'ifr', 'ift', 'bfr', 'bft', 'n_i', 'n_b', 'n_ref', 'pu', 'sw', 'swc'}

local function fmt(x) return string.format('%.17g', x) end

-- A share at `now`: stored level plus refill since ts, never above capacity; nil values are a
-- full bucket with no lines.
local function state(v, cr, ct, rr, rt)
  local s = { r = cr, t = ct, cap_r = cr, cap_t = ct, rate_r = rr, rate_t = rt }
  local ts = tonumber(v[3])
  if ts ~= nil then
    local dt = math.max(0, now - ts)
    s.r = math.min(cr, tonumber(v[1]) + dt * rr)
    s.t = math.min(ct, tonumber(v[2]) + dt * rt)
  end
  for i, name in ipairs(LINES) do s[name] = tonumber(v[3 + i]) or 0 end
  return s
end

local function parse(raw)
  local v = {}
  if raw then for x in string.gmatch(raw, '%S+') do v[#v + 1] = x end end
  return v
end

local function serialize(s)
  local out = {fmt(s.r), fmt(s.t), tostring(now)}
  for _, name in ipairs(LINES) do out[#out + 1] = fmt(s[name]) end
  return table.concat(out, ' ')
end

local function idle(s)
  if s.r < s.cap_r * 0.999999 or s.t < s.cap_t * 0.999999 then return false end
  for _, name in ipairs(LINES) do if s[name] > now then return false end end
  return true
end

-- One HMGET: the bucket's fields and those of every tenant the batch names.
local fields, tenants, names = {}, {}, {}
for i, f in ipairs(BUCKET) do fields[i] = f end
if share > 0 then
  local function want(name)
    if tenants[name] == nil then tenants[name] = false; names[#names + 1] = name; fields[#fields + 1] = 't:' .. name end
  end
  for i = 0, na - 1 do want(ARGV[adj0 + 5 * i + 1]) end
  for i = 0, nn - 1 do want(ARGV[att0 + 5 * i + 1]) end
end
local v = redis.call('HMGET', KEYS[1], unpack(fields))
local g = state(v, cap_r, cap_t, rate_r, rate_t)
local count = { n_i = tonumber(v[12]) or 0, n_b = tonumber(v[13]) or 0, n_ref = tonumber(v[14]) or 0 }
local paused_until = tonumber(v[15]) or 0
for i, name in ipairs(names) do
  tenants[name] = state(parse(v[#BUCKET + i]), cap_r * share, cap_t * share, rate_r * share, rate_t * share)
end

local function add(s, dr, dt)
  s.r = math.min(s.cap_r, s.r + dr)
  s.t = math.min(s.cap_t, s.t + dt)
end
for i = 0, na - 1 do
  local a = adj0 + 5 * i
  add(g, tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]))
  if share > 0 then add(tenants[ARGV[a + 1]], tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])) end
end

-- µs until `level` covers the floor of the class plus the cost, and the cost in µs of refill.
-- A cost above what the bucket can ever hold waits for a full bucket, then goes into debt.
local function delay(level, cost, cap, rate, bulk)
  local floor = 0
  if bulk then floor = cap * reserve end
  local need = math.min(cost, cap - floor)
  return math.max(0, (floor + need - level) / rate), need / rate
end

-- This attempt's view of one share: its waits and costs, and whether the class' line is busy.
local function view(s, class, tokens, bulk)
  local w = { s = s, class = class }
  w.wait_r, w.span_r = delay(s.r, 1, s.cap_r, s.rate_r, bulk)
  w.wait_t, w.span_t = delay(s.t, tokens, s.cap_t, s.rate_t, bulk)
  w.wait = math.max(w.wait_r, w.wait_t)
  -- A full bucket means nobody has used it for a whole burst: whoever held places in the line
  -- left (aborted, or their process died), and new attempts need not wait behind them.
  local full = s.r >= s.cap_r * 0.999999 and s.t >= s.cap_t * 0.999999
  w.queued = not full and math.max(s[class .. 'r'], s[class .. 't'], s[class .. 'fr'], s[class .. 'ft']) > now
  return w
end

-- Joins the end of the line (or front line) of `w`'s share; returns the µs until the turn.
local function join(w, front, horizon, slack)
  local f_r, f_t = w.class .. 'r', w.class .. 't'
  if front then f_r, f_t = w.class .. 'fr', w.class .. 'ft' end
  local s = w.s
  local turn_r = math.max(s[f_r], now + math.max(0, w.wait_r - horizon - slack))
  local turn_t = math.max(s[f_t], now + math.max(0, w.wait_t - horizon - slack))
  s[f_r], s[f_t] = turn_r + w.span_r, turn_t + w.span_t
  return math.max(turn_r, turn_t) - now
end

local result = {}
for i = 0, nn - 1 do
  local a = att0 + 5 * i
  local class, tokens, horizon = ARGV[a + 2], tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local returning, bulk = ARGV[a + 5] == '1', ARGV[a + 2] == 'b'
  local code, us = 0, 0
  if paused_until > now then
    code, us = 1, paused_until - now
  else
    local gv = view(g, class, tokens, bulk)
    local tn, tv = nil, nil
    if share > 0 then tn = tenants[ARGV[a + 1]]; tv = view(tn, class, tokens, bulk) end
    local wait, binding, reason = gv.wait, gv, 2
    if tv ~= nil and tv.wait > wait then wait, binding, reason = tv.wait, tv, 3 end
    local slack = 0
    if returning then slack = math.max(gv.span_r, gv.span_t) end
    local line = nil
    if wait > horizon + slack then
      line = binding
    elseif not returning then
      if gv.queued then line, reason = gv, 2
      elseif tv ~= nil and tv.queued then line, reason = tv, 3 end
    end
    if line ~= nil then
      code, us = reason, join(line, returning, horizon, slack)
    else
      us = wait
      g.r, g.t = g.r - 1, g.t - tokens
      if tn ~= nil then tn.r, tn.t = tn.r - 1, tn.t - tokens end
      if bulk then count.n_b = count.n_b + 1 else count.n_i = count.n_i + 1 end
    end
  end
  if code ~= 0 then count.n_ref = count.n_ref + 1 end
  result[#result + 1] = code
  result[#result + 1] = math.floor(us)
end

local out = {'r', fmt(g.r), 't', fmt(g.t), 'ts', now, 'n_i', count.n_i, 'n_b', count.n_b, 'n_ref', count.n_ref}
for _, name in ipairs(LINES) do out[#out + 1] = name; out[#out + 1] = fmt(g[name]) end
for _, name in ipairs(names) do out[#out + 1] = 't:' .. name; out[#out + 1] = serialize(tenants[name]) end

-- Sweep a few tenant fields when due: one whose share is full again and whose lines are over
-- is the same as a missing one. The tenants of this batch were just written; they stay.
if now >= (tonumber(v[16]) or 0) then
  local scan = redis.call('HSCAN', KEYS[1], v[17] or '0', 'MATCH', 't:*', 'COUNT', 100)
  local stale = {}
  for j = 1, #scan[2], 2 do
    local name = string.sub(scan[2][j], 3)
    if tenants[name] == nil then
      local s = state(parse(scan[2][j + 1]), cap_r * share, cap_t * share, rate_r * share, rate_t * share)
      if share == 0 or idle(s) then stale[#stale + 1] = scan[2][j] end
    end
  end
  if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
  local next_at = now + sweep_us
  if scan[1] ~= '0' then next_at = now + 1000000 end
  out[#out + 1] = 'sw'; out[#out + 1] = next_at
  out[#out + 1] = 'swc'; out[#out + 1] = scan[1]
end
redis.call('HSET', KEYS[1], unpack(out))
return result
