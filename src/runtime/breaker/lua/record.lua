--[[
  record.lua: the outcomes of the provider calls one process finished since its last flush.
  Closed: counted in a rolling window of fixed buckets (the bucket of the flush's time); the
  breaker opens when the window holds at least `min_requests` calls and the failure rate reaches
  `threshold`. Half-open: the outcomes are probe results; a failure opens it again for another
  cool-down, otherwise a success closes it. Open: ignored (calls that started before it opened
  tell nothing new).

  The window lives in the state hash, so a flush costs EVALSHA, TIME, HGETALL and HSET (plus an
  HDEL when a bucket ages out), whatever the number of outcomes it carries.

  KEYS[1]  state hash  st, until, probes, since (see admit.lua);
                       n:<bucket index>, f:<bucket index>: calls / failures in the window

  ARGV[1]  successes                  ARGV[2]  failures
  ARGV[3]  bucket length, ms          ARGV[4]  buckets in the window
  ARGV[5]  failure-rate threshold, 0 < t <= 1
  ARGV[6]  minimum calls in the window before the rate counts
  ARGV[7]  cool-down (open time), ms

  Returns  {state, calls in window, failures in window}
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ok, bad = tonumber(ARGV[1]), tonumber(ARGV[2])
local bucket_ms, buckets = tonumber(ARGV[3]), tonumber(ARGV[4])
local open_ms = tonumber(ARGV[7])

local flat = redis.call('HGETALL', KEYS[1])
local st, window = 'closed', {}
for i = 1, #flat, 2 do
  local kind, at = string.match(flat[i], '^(%a):(%d+)$')
  if kind ~= nil then
    window[#window + 1] = { field = flat[i], kind = kind, at = tonumber(at), n = tonumber(flat[i + 1]) }
  elseif flat[i] == 'st' then
    st = flat[i + 1]
  end
end
local function fields(list)
  local out = {}
  for _, w in ipairs(list) do out[#out + 1] = w.field end
  return out
end
local function open(calls, failures)
  redis.call('HSET', KEYS[1], 'st', 'open', 'until', now + open_ms, 'probes', 0)
  if #window > 0 then redis.call('HDEL', KEYS[1], unpack(fields(window))) end
  return {'open', calls, failures}
end

if st == 'open' then return {'open', 0, 0} end
if st == 'half_open' then
  if bad > 0 then return open(0, 0) end
  local gone = fields(window)
  for _, f in ipairs({'until', 'probes', 'since'}) do gone[#gone + 1] = f end
  redis.call('HSET', KEYS[1], 'st', 'closed')
  redis.call('HDEL', KEYS[1], unpack(gone))
  return {'closed', 0, 0}
end

local index = math.floor(now / bucket_ms)
local calls, failures, cur_n, cur_f = ok + bad, bad, 0, 0
local stale = {}
for _, w in ipairs(window) do
  if w.at <= index - buckets then
    stale[#stale + 1] = w
  else
    if w.kind == 'n' then calls = calls + w.n else failures = failures + w.n end
    if w.at == index then
      if w.kind == 'n' then cur_n = w.n else cur_f = w.n end
    end
  end
end

if calls >= tonumber(ARGV[6]) and failures / calls >= tonumber(ARGV[5]) then return open(calls, failures) end
if bad > 0 then
  redis.call('HSET', KEYS[1], 'n:' .. index, cur_n + ok + bad, 'f:' .. index, cur_f + bad)
else
  redis.call('HSET', KEYS[1], 'n:' .. index, cur_n + ok)
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(fields(stale))) end
return {'closed', calls, failures}
