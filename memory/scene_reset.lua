-- Replace the whole scene graph atomically; logged as "remove every old node, then set every new
-- one", so replaying the change log needs no special case for resets.
-- KEYS[1] nodes hash  KEYS[2] revision  KEYS[3] change stream
-- ARGV[1] per-node field-hash key prefix  ARGV[2] max change-log length  ARGV[3] source
-- ARGV[4] time  ARGV[5] JSON array of the new nodes' patches  ARGV[6] node count
-- then per node: id, field count n, n x (field JSON, value JSON)
local nodes, prefix = KEYS[1], ARGV[1]
local removals = {}
for _, id in ipairs(redis.call('HKEYS', nodes)) do
  redis.call('DEL', prefix .. id)
  removals[#removals + 1] = '{"id":' .. cjson.encode(id) .. ',"set":{},"remove":true}'
end
redis.call('DEL', nodes)
local i = 7
for _ = 1, tonumber(ARGV[6]) do
  local id, n = ARGV[i], tonumber(ARGV[i + 1])
  i = i + 2
  local hset = {'HSET', prefix .. id}
  local parts = {}
  for _ = 1, n do
    hset[#hset + 1] = ARGV[i]
    hset[#hset + 1] = ARGV[i + 1]
    parts[#parts + 1] = ARGV[i] .. ':' .. ARGV[i + 1]
    i = i + 2
  end
  redis.call(unpack(hset))
  redis.call('HSET', nodes, id, '{' .. table.concat(parts, ',') .. '}')
end
local rev = redis.call('INCR', KEYS[2])
local sets = string.sub(ARGV[5], 2, -2)
if #removals > 0 and #sets > 0 then sets = ',' .. sets end
redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[2], rev .. '-0',
  'source', ARGV[3], 'at', ARGV[4], 'patches', '[' .. table.concat(removals, ',') .. sets .. ']')
return rev
