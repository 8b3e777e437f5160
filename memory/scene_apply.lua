-- Apply one scene delta atomically: merge each patch into its node, bump the revision, log it.
-- Values arrive already JSON-encoded and are stored as given: Lua never decodes or re-encodes
-- node JSON, so no value is changed in transit (cjson would turn [] into {} and round floats).
-- KEYS[1] nodes hash (id -> node JSON)   KEYS[2] revision   KEYS[3] change stream
-- ARGV[1] per-node field-hash key prefix  ARGV[2] max change-log length  ARGV[3] source
-- ARGV[4] time  ARGV[5] patches JSON (for the log)  ARGV[6] patch count
-- then per patch: id, id as JSON, remove ("1"/"0"), field count n, n x (field JSON, value JSON)
local nodes, prefix = KEYS[1], ARGV[1]
local rev = redis.call('INCR', KEYS[2])
local i = 7
for _ = 1, tonumber(ARGV[6]) do
  local id, id_json, remove, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  i = i + 4
  local fields = prefix .. id
  if remove == '1' then
    redis.call('DEL', fields)
    redis.call('HDEL', nodes, id)
  end
  if remove ~= '1' or n > 0 then
    local hset = {'HSET', fields, '"id"', id_json}
    for _ = 1, n do
      hset[#hset + 1] = ARGV[i]
      hset[#hset + 1] = ARGV[i + 1]
      i = i + 2
    end
    redis.call(unpack(hset))
    local flat = redis.call('HGETALL', fields)
    local parts = {}
    for j = 1, #flat, 2 do parts[#parts + 1] = flat[j] .. ':' .. flat[j + 1] end
    redis.call('HSET', nodes, id, '{' .. table.concat(parts, ',') .. '}')
  else
    i = i + 2 * n
  end
end
redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[2], rev .. '-0',
  'source', ARGV[3], 'at', ARGV[4], 'patches', ARGV[5])
return rev
