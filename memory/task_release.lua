-- Queue again the deferred tasks whose earliest start has come (at most 100 per call).
-- KEYS[1] deferred tasks (sorted set, scored by earliest start)  KEYS[2] submission queue (stream)
-- ARGV[1] now (epoch seconds). Returns the ids queued.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, id in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'task_id', id)
  redis.call('ZREM', KEYS[1], id)
end
return due
