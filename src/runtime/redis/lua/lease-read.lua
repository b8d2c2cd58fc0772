--[[
  Reads the holders of many leases in one call (status, fair share). Read-only.

    Input:
      KEYS[1..n] lease keys      {warden}:lease:<partition>

    Output:
      array of n triples, in KEYS order: { owner, token, pttl }
        owner  "" when the partition is free
        token  "" while the grant is reserved but not yet confirmed
        pttl   milliseconds to expiry (-2 when the key does not exist)
]]
local rcall = redis.call
local out = {}
for i = 1, #KEYS do
  local held = rcall("HMGET", KEYS[i], "owner", "token")
  out[i] = { held[1] or "", held[2] or "", rcall("PTTL", KEYS[i]) }
end
return out
