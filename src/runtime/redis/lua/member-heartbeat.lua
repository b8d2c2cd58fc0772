--[[
  Registers or refreshes a member, prunes expired members and returns the live ones: one round
  trip per heartbeat. Expiry is judged by the Redis server's clock (TIME), never by the members'
  clocks, so hosts with skewed clocks still agree.

    Input:
      KEYS[1] members sorted set {warden}:members  (member id -> expiry, ms since epoch)

      ARGV[1] member id
      ARGV[2] TTL in milliseconds

    Output:
      array of live member ids (unsorted; the caller sorts)
]]
local rcall = redis.call
local t = rcall("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
rcall("ZREMRANGEBYSCORE", KEYS[1], "-inf", string.format("%.0f", now))
rcall("ZADD", KEYS[1], string.format("%.0f", now + tonumber(ARGV[2])), ARGV[1])
return rcall("ZRANGE", KEYS[1], 0, -1)
