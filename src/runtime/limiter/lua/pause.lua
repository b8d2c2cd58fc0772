--[[
  pause.lua: hold a bucket fleet-wide after a 429 with retry-after. Extends a pause that is
  already longer, never shortens it. The bucket is drained so that it restarts empty when the
  pause ends (the provider just said its window is spent; a full burst would meet another 429),
  and every process is told at once so it can cancel the bookings it holds.

  KEYS[1]  bucket hash (see admit.lua); `pu` holds the pause

  ARGV[1]  pause in ms (> 0)
  ARGV[2]  request refill per µs     ARGV[3]  token refill per µs
  ARGV[4]  pub/sub channel           ARGV[5]  bucket id (published with the pause)

  Returns  the pause in force, in ms
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local ms = tonumber(ARGV[1])
local left = math.ceil(((tonumber(redis.call('HGET', KEYS[1], 'pu')) or 0) - now) / 1000)
if left > ms then ms = left end
local function fmt(x) return string.format('%.17g', x) end
redis.call('HSET', KEYS[1],
  'r', fmt(-ms * 1000 * tonumber(ARGV[2])),
  't', fmt(-ms * 1000 * tonumber(ARGV[3])),
  'ts', now,
  'pu', now + ms * 1000)
redis.call('PUBLISH', ARGV[4], cjson.encode({ bucket = ARGV[5], ms = ms }))
return ms
