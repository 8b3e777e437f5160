-- Count one real start of a subtask delivery, unless it has reached its limit.
-- The count lives in its own key (not the stream's times_delivered, which every re-read, claim and
-- reaper probe also bumps), so "started 3 times" means three workers began it.
-- KEYS[1] the attempt's hash   ARGV[1] limit   ARGV[2] TTL (s)
-- Returns the new count, or minus the count when the limit was already reached (not started).
local n = tonumber(redis.call('HGET', KEYS[1], 'starts') or '0')
if n >= tonumber(ARGV[1]) then return -n end
n = redis.call('HINCRBY', KEYS[1], 'starts', 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return n
