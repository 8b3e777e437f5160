-- Hand a brain the highest-priority task of what is queued (the oldest of equals), atomically.
-- Reads up to ARGV[3] new entries for the consumer; the best stays delivered to it, every other is
-- put back at the end of the queue in the same order (acked, deleted and added again), so other
-- brains can take them. Priorities are read from the task records (options.priority).
-- KEYS[1] submission queue (stream)  KEYS[2] tasks hash
-- ARGV[1] group  ARGV[2] consumer  ARGV[3] how many entries to look at
-- Returns {entry id, task id}, or false when nothing new is queued.
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if not reply then return false end
local items = reply[1][2]
if #items == 0 then return false end
local best, best_prio = 1, nil
local ids = {}
for i, item in ipairs(items) do
  local fields = item[2]
  local task_id = ''
  for j = 1, #fields, 2 do if fields[j] == 'task_id' then task_id = fields[j + 1] end end
  ids[i] = task_id
  local prio = 0
  local doc = redis.call('HGET', KEYS[2], task_id)
  if doc then
    local ok, rec = pcall(cjson.decode, doc)
    if ok and type(rec) == 'table' and type(rec['options']) == 'table' and type(rec['options']['priority']) == 'number' then
      prio = rec['options']['priority']
    end
  end
  if best_prio == nil or prio > best_prio then best, best_prio = i, prio end
end
for i, item in ipairs(items) do
  if i ~= best then
    redis.call('XACK', KEYS[1], ARGV[1], item[1])
    redis.call('XDEL', KEYS[1], item[1])
    redis.call('XADD', KEYS[1], '*', 'task_id', ids[i])
  end
end
return {items[best][1], ids[best]}
