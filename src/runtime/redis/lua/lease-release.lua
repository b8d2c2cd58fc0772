--[[
  Deletes a lease only if it is still the caller's: the owner matches and so does the given field,
  the token (release of a grant) or the nonce (abandoning an attempt whose token was never
  confirmed, or whose confirm failed midway).

    Input:
      KEYS[1] lease key          {warden}:lease:<partition>

      ARGV[1] owner id
      ARGV[2] field to compare: "token" or "nonce"
      ARGV[3] its expected value

    Output:
      1  deleted
      0  not ours (any more): left alone
]]
local held = redis.call("HMGET", KEYS[1], "owner", ARGV[2])
if held[1] == ARGV[1] and held[2] == ARGV[3] then
  redis.call("DEL", KEYS[1])
  return 1
end
return 0
