--[[
  Prunes expired members (by the Redis server's clock) and returns the live ones.

    Input:
      KEYS[1] members sorted set {warden}:members  (member id -> expiry, ms since epoch)

    Output:
      array of live member ids (unsorted; the caller sorts)
]]
local rcall = redis.call
local t = rcall("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
rcall("ZREMRANGEBYSCORE", KEYS[1], "-inf", string.format("%.0f", now))
return rcall("ZRANGE", KEYS[1], 0, -1)
