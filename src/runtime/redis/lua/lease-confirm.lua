--[[
  Step 3 of a lease grant: store the token minted (step 2, in DynamoDB) for this attempt, if the
  attempt's reservation is still there. If it expired or was taken over meanwhile, the minted
  token is never used. Repeating the same confirm (a command resent after a reconnect) answers 1
  again.

    Input:
      KEYS[1] lease key          {warden}:lease:<partition>

      ARGV[1] owner id
      ARGV[2] attempt nonce
      ARGV[3] fencing token (decimal)
      ARGV[4] TTL in milliseconds

    Output:
      1  granted: the lease holds this token and expires ARGV[4] ms from now
      0  the reservation is gone: the attempt lost, its token is discarded
]]
local rcall = redis.call
local held = rcall("HMGET", KEYS[1], "owner", "nonce", "token")
if held[1] ~= ARGV[1] or held[2] ~= ARGV[2] then
  return 0
end
if held[3] and held[3] ~= ARGV[3] then
  return 0
end
rcall("HSET", KEYS[1], "token", ARGV[3])
rcall("PEXPIRE", KEYS[1], ARGV[4])
return 1
