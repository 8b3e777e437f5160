-- Compare-and-set one task record, optionally appending an event in the same atomic step.
-- The caller read the record, checked the change (e.g. a status transition) and sends the exact
-- JSON it read; if anyone wrote the record since, nothing happens and the caller retries.
-- KEYS[1] tasks hash  KEYS[2] the task's event stream  KEYS[3] the task's results stream
-- ARGV[1] task id  ARGV[2] JSON read ("" = must be absent)  ARGV[3] new JSON
-- ARGV[4] event JSON ("" = no event)  ARGV[5] event stream max length
-- ARGV[6] retention in seconds of a finished task's streams ("" = keep them)
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'event', ARGV[4])
end
if ARGV[6] ~= '' then
  redis.call('EXPIRE', KEYS[2], ARGV[6])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
return 1
