-- Record that a subtask attempt finished its step ARGV[1] (0-based): steps only move forward, so a
-- late write from a worker that lost its lease cannot move a resumed attempt back.
-- KEYS[1] the attempt's hash   ARGV[1] finished steps (index + 1)   ARGV[2] TTL (s)
local n = tonumber(redis.call('HGET', KEYS[1], 'steps') or '0')
if tonumber(ARGV[1]) > n then
  redis.call('HSET', KEYS[1], 'steps', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return tonumber(ARGV[1])
end
return n
