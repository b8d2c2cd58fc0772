--[[
  admit.lua: may one more call go to the provider? Moves an open breaker whose cool-down is over
  to half-open and hands out at most `probes` probe permits there; a probe that never reports
  frees its permit after `probe_timeout_ms` (its process may have died).

  KEYS[1]  state hash  st: 'closed' | 'open' | 'half_open' (missing: closed)
                       until: ms (Redis TIME) when an open breaker may probe
                       probes: permits handed out in this half-open round; since: ms the round began
                       (and the rolling window, see record.lua; not read here)

  ARGV[1]  probes allowed at once in half-open (>= 1)
  ARGV[2]  probe timeout, ms

  Returns  {1, 0, 'closed'}              pass
           {2, 0, 'half_open'}           pass as a probe: its result decides
           {0, wait_ms, 'open' | 'half_open'}  wait (the cool-down, or for the probes' results)
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'st', 'until', 'probes', 'since')
local st = v[1] or 'closed'
if st == 'closed' then return {1, 0, 'closed'} end

local max_probes, probe_timeout = tonumber(ARGV[1]), tonumber(ARGV[2])
local probes, since = tonumber(v[3]) or 0, tonumber(v[4]) or now
if st == 'open' then
  local opened_until = tonumber(v[2]) or 0
  if now < opened_until then return {0, opened_until - now, 'open'} end
  st, probes, since = 'half_open', 0, now
  redis.call('HSET', KEYS[1], 'st', st, 'probes', 0, 'since', now)
end
if now - since >= probe_timeout then
  probes, since = 0, now
  redis.call('HSET', KEYS[1], 'probes', 0, 'since', now)
end
if probes < max_probes then
  redis.call('HINCRBY', KEYS[1], 'probes', 1)
  return {2, 0, 'half_open'}
end
return {0, since + probe_timeout - now, 'half_open'}
