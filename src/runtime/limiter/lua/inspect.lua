--[[
  inspect.lua: read a bucket for status and metrics, without changing it.

  KEYS[1]  bucket hash (see admit.lua)

  ARGV[1]  request refill per µs     ARGV[2]  token refill per µs
  ARGV[3]  request capacity          ARGV[4]  token capacity

  Returns  {requests, tokens, paused_ms, admitted_interactive, admitted_bulk, refused}
           (levels as strings: they are fractional and may be negative while bookings are due)
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local cap_r, cap_t = tonumber(ARGV[3]), tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'r', 't', 'ts', 'n_i', 'n_b', 'n_ref', 'pu')
local r, t = cap_r, cap_t
local ts = tonumber(v[3])
if ts ~= nil then
  local elapsed = math.max(0, now - ts)
  r = math.min(cap_r, tonumber(v[1]) + elapsed * tonumber(ARGV[1]))
  t = math.min(cap_t, tonumber(v[2]) + elapsed * tonumber(ARGV[2]))
end
local paused = math.max(0, math.ceil(((tonumber(v[7]) or 0) - now) / 1000))
return {string.format('%.17g', r), string.format('%.17g', t), paused,
  tonumber(v[4]) or 0, tonumber(v[5]) or 0, tonumber(v[6]) or 0}
