-- Create a task record (refused if the id exists), index it for listing and, when asked, queue it
-- for the brains — all in one step, so an accepted task is never left unqueued by a crash.
-- KEYS[1] tasks hash  KEYS[2] task index (sorted set)  KEYS[3] submission queue (stream)
-- ARGV[1] task id  ARGV[2] record JSON  ARGV[3] created_at (score)  ARGV[4] "1" = also enqueue
-- Returns false if the id exists, else the queue entry id ("" when not enqueued).
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return false end
redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[1])
if ARGV[4] == '1' then
  return redis.call('XADD', KEYS[3], '*', 'task_id', ARGV[1])
end
return ''
