--[[
  record.lua: the outcome of one provider call. Closed: counted in a rolling window of fixed
  buckets; the breaker opens when the window holds at least `min_requests` calls and the failure
  rate reaches `threshold`. Half-open: a success closes it, a failure opens it again for another
  cool-down. Open: ignored (calls that started before it opened tell nothing new).

  KEYS[1]  state hash (see admit.lua)
  KEYS[2]  window hash  n:<bucket index>, f:<bucket index>: calls / failures; expires with the window

  ARGV[1]  1 success | 0 failure
  ARGV[2]  bucket length, ms          ARGV[3]  buckets in the window
  ARGV[4]  failure-rate threshold, 0 < t <= 1
  ARGV[5]  minimum calls in the window before the rate counts
  ARGV[6]  cool-down (open time), ms

  Returns  {state, calls in window, failures in window}
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local success = ARGV[1] == '1'
local open_ms = tonumber(ARGV[6])
local st = redis.call('HGET', KEYS[1], 'st') or 'closed'

if st == 'open' then return {'open', 0, 0} end
if st == 'half_open' then
  if success then
    redis.call('HSET', KEYS[1], 'st', 'closed')
    redis.call('HDEL', KEYS[1], 'until', 'probes', 'since')
    redis.call('DEL', KEYS[2])
    return {'closed', 0, 0}
  end
  redis.call('HSET', KEYS[1], 'st', 'open', 'until', now + open_ms, 'probes', 0)
  return {'open', 0, 0}
end

local bucket_ms, buckets = tonumber(ARGV[2]), tonumber(ARGV[3])
local index = math.floor(now / bucket_ms)
redis.call('HINCRBY', KEYS[2], 'n:' .. index, 1)
if not success then redis.call('HINCRBY', KEYS[2], 'f:' .. index, 1) end
redis.call('PEXPIRE', KEYS[2], (buckets + 1) * bucket_ms)

local calls, failures = 0, 0
local fields = redis.call('HGETALL', KEYS[2])
for i = 1, #fields, 2 do
  local kind, at = string.match(fields[i], '^(%a):(%d+)$')
  at = tonumber(at)
  if at == nil or at <= index - buckets then
    redis.call('HDEL', KEYS[2], fields[i])
  elseif kind == 'n' then
    calls = calls + tonumber(fields[i + 1])
  else
    failures = failures + tonumber(fields[i + 1])
  end
end

if calls >= tonumber(ARGV[5]) and failures / calls >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'st', 'open', 'until', now + open_ms, 'probes', 0)
  redis.call('DEL', KEYS[2])
  return {'open', calls, failures}
end
return {'closed', calls, failures}
