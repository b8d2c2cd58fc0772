--[[
  inspect.lua: the breaker's state for status and metrics, without changing it. An open breaker
  whose cool-down is over reads as half_open (the next admit makes it so).

  KEYS[1]  state hash (see admit.lua and record.lua)
  ARGV[1]  bucket length, ms              ARGV[2]  buckets in the window

  Returns  {state, calls in window, failures in window, open for ms (0 unless open), probes out}
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local flat = redis.call('HGETALL', KEYS[1])
local h = {}
local index = math.floor(now / tonumber(ARGV[1]))
local calls, failures = 0, 0
for i = 1, #flat, 2 do
  local kind, at = string.match(flat[i], '^(%a):(%d+)$')
  at = tonumber(at)
  if kind == nil then
    h[flat[i]] = flat[i + 1]
  elseif at > index - tonumber(ARGV[2]) then
    if kind == 'n' then calls = calls + tonumber(flat[i + 1]) else failures = failures + tonumber(flat[i + 1]) end
  end
end
local st = h.st or 'closed'
local open_for = 0
if st == 'open' then
  open_for = (tonumber(h['until']) or 0) - now
  if open_for <= 0 then st, open_for = 'half_open', 0 end
end
local probes = 0
if st == 'half_open' then probes = tonumber(h.probes) or 0 end
return {st, calls, failures, open_for, probes}
