--[[
  adjust.lua: add to the levels of a bucket and of a tenant's share of it, fire-and-forget, in one
  command. Used to reconcile estimated tokens with the provider's usage (estimate - actual: a
  positive delta returns tokens, a negative one charges the overrun) and to hand back a booking
  that was abandoned (aborted, or cancelled by a pause).

  KEYS[1]  bucket hash (see admit.lua)
  KEYS[2]  tenant hash (see admit.lua); not touched when ARGV[5] is 0

  ARGV[1]  request refill per µs     ARGV[2]  token refill per µs
  ARGV[3]  request capacity          ARGV[4]  token capacity
  ARGV[5]  tenant share (0 = no tenant cap)
  ARGV[6]  requests to add to the bucket     ARGV[7]  tokens to add to the bucket
  ARGV[8]  requests to add to the tenant     ARGV[9]  tokens to add to the tenant

  Returns  1
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local rate_r, rate_t = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap_r, cap_t = tonumber(ARGV[3]), tonumber(ARGV[4])
local share = tonumber(ARGV[5])

local function fmt(x) return string.format('%.17g', x) end

-- Returns the new levels, or nil when there is nothing to write (a full bucket stays full).
local function apply(key, cr, ct, rr, rt, dr, dt)
  if dr == 0 and dt == 0 then return nil end
  local v = redis.call('HMGET', key, 'r', 't', 'ts')
  local ts = tonumber(v[3])
  local r, t = cr, ct
  if ts ~= nil then
    local elapsed = now - ts
    if elapsed < 0 then elapsed = 0 end
    r = math.min(cr, tonumber(v[1]) + elapsed * rr)
    t = math.min(ct, tonumber(v[2]) + elapsed * rt)
  elseif dr >= 0 and dt >= 0 then
    return nil
  end
  r = math.min(cr, r + dr)
  t = math.min(ct, t + dt)
  redis.call('HSET', key, 'r', fmt(r), 't', fmt(t), 'ts', now)
  return r, t
end

apply(KEYS[1], cap_r, cap_t, rate_r, rate_t, tonumber(ARGV[6]), tonumber(ARGV[7]))
if share > 0 then
  local tcap_r, tcap_t, trate_r, trate_t = cap_r * share, cap_t * share, rate_r * share, rate_t * share
  local r, t = apply(KEYS[2], tcap_r, tcap_t, trate_r, trate_t, tonumber(ARGV[8]), tonumber(ARGV[9]))
  if r ~= nil then
    local full = math.max((tcap_r - r) / trate_r, (tcap_t - t) / trate_t)
    local ttl = math.ceil(full / 1000) + 1000
    if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
  end
end
return 1
