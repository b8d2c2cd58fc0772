--[[
  Step 1 of a lease grant: reserve the partition's lease key for this attempt, before a fencing
  token is minted. The reservation carries the attempt's nonce and no token yet; it expires like
  a lease, so an attempt that stalls here frees the partition by itself.

  A key held by the same owner id (a restarted incarnation, or a second attempt of this process)
  is taken over: the new attempt mints a higher token, and the older grant's renewals fail.

    Input:
      KEYS[1] lease key          {warden}:lease:<partition>  (hash: owner, nonce[, token])

      ARGV[1] owner id
      ARGV[2] attempt nonce
      ARGV[3] TTL in milliseconds

    Output:
      1  reserved for this attempt
      0  held (or being granted) by another owner
]]
local rcall = redis.call
local holder = rcall("HGET", KEYS[1], "owner")
if holder and holder ~= ARGV[1] then
  return 0
end
rcall("DEL", KEYS[1])
rcall("HSET", KEYS[1], "owner", ARGV[1], "nonce", ARGV[2])
rcall("PEXPIRE", KEYS[1], ARGV[3])
return 1
