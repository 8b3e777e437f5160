-- Create a task record (refused if the id exists), index it for listing and, when asked, queue it
-- for the brains — all in one step, so an accepted task is never left unqueued by a crash.
-- With an idempotency key, the key is claimed in the same step: a key already claimed returns the
-- id of the task that claimed it and creates nothing.
-- KEYS[1] tasks hash  KEYS[2] task index (sorted set)  KEYS[3] submission queue (stream)
-- KEYS[4] the idempotency key's string ("" = none)
-- ARGV[1] task id  ARGV[2] record JSON  ARGV[3] created_at (score)  ARGV[4] "1" = also enqueue
-- ARGV[5] the idempotency key's TTL in seconds
-- Returns false if the id exists; {"existing", id} for a claimed idempotency key whose task still
-- exists; else {"created", the queue entry id ("" when not enqueued)}.
if KEYS[4] ~= '' then
  local other = redis.call('GET', KEYS[4])
  if other and redis.call('HEXISTS', KEYS[1], other) == 1 then return {'existing', other} end
end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return false end
if KEYS[4] ~= '' then redis.call('SET', KEYS[4], ARGV[1], 'EX', ARGV[5]) end
redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[1])
if ARGV[4] == '1' then
  return {'created', redis.call('XADD', KEYS[3], '*', 'task_id', ARGV[1])}
end
return {'created', ''}
