--[[
  Renews any number of leases in one call (a process renews all its partitions at once). Each
  lease is extended only if it is still the same grant: same owner and same token. A key that is
  gone (expired, released, or lost with Redis' data) is never recreated.

    Input:
      KEYS[1..n] lease keys      {warden}:lease:<partition>

      ARGV[1]      TTL in milliseconds
      ARGV[2i]     owner id of KEYS[i]
      ARGV[2i+1]   fencing token of KEYS[i] (decimal)

    Output:
      array of n integers, in KEYS order: 1 renewed, 0 lost
]]
local rcall = redis.call
local results = {}
for i = 1, #KEYS do
  local held = rcall("HMGET", KEYS[i], "owner", "token")
  if held[1] == ARGV[2 * i] and held[2] == ARGV[2 * i + 1] then
    rcall("PEXPIRE", KEYS[i], ARGV[1])
    results[i] = 1
  else
    results[i] = 0
  end
end
return results
