-- Compare-and-set one task record, optionally appending an event in the same atomic step.
-- The caller read the record, checked the change (e.g. a status transition) and sends the exact
-- JSON it read; if anyone wrote the record since, nothing happens and the caller retries.
-- KEYS[1] tasks hash  KEYS[2] the task's event stream  KEYS[3] the task's results stream
-- KEYS[4] the task's control signal  KEYS[5] the submission queue
-- ARGV[1] task id  ARGV[2] JSON read ("" = must be absent)  ARGV[3] new JSON
-- ARGV[4] event JSON ("" = no event)  ARGV[5] event stream max length
-- ARGV[6] retention in seconds of a finished task's streams ("" = keep them)
-- ARGV[7] control signal: "" = leave it, "-" = clear it, else TaskControl JSON to set  ARGV[8] its TTL (s)
-- ARGV[9] "1" = also put the task on the submission queue (a resumed task)
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
if ARGV[7] == '-' then
  redis.call('DEL', KEYS[4])
elseif ARGV[7] ~= '' then
  redis.call('SET', KEYS[4], ARGV[7], 'EX', ARGV[8])
end
if ARGV[9] == '1' then
  redis.call('XADD', KEYS[5], '*', 'task_id', ARGV[1])
end
return 1
