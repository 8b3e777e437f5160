-- Take the next new entry of a robot's inbox for one consumer and count it as one start, in one
-- step: XREADGROUP (no blocking inside a script) and then what dispatch_start.lua does for the
-- attempt the entry carries. A worker sends this right behind its blocking wait on the same
-- connection, so Redis runs it the moment the wait ends, without another round trip.
-- KEYS[1] inbox stream   ARGV[1] group  ARGV[2] consumer  ARGV[3] start limit  ARGV[4] TTL (s)
-- ARGV[5] the attempt hashes' key prefix (Keys.attempt(""))
-- Returns {entry id, message JSON, starts, attempt key} for an entry (starts as dispatch_start.lua
-- returns them; attempt key '' if the message could not be read here: not counted, the client
-- counts it), or {'', cursor} with nothing new: cursor is the last entry's id, to wait after.
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
if not reply then
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  return {'', last[1] and last[1][1] or '0-0'}
end
local entry = reply[1][2][1]
local id, fields, msg = entry[1], entry[2], ''
for i = 1, #fields, 2 do
  if fields[i] == 'msg' then msg = fields[i + 1] end
end
local ok, m = pcall(cjson.decode, msg)
if not ok or type(m) ~= 'table' or type(m.task_id) ~= 'string' or type(m.subtask_id) ~= 'string'
    or type(m.attempt) ~= 'number' then
  return {id, msg, 0, ''}
end
local key = ARGV[5] .. m.task_id .. ':' .. m.subtask_id .. ':' .. string.format('%d', m.attempt)
local n = tonumber(redis.call('HGET', key, 'starts') or '0')
if n >= tonumber(ARGV[3]) then return {id, msg, -n, key} end
n = redis.call('HINCRBY', key, 'starts', 1)
redis.call('EXPIRE', key, ARGV[4])
return {id, msg, n, key}
