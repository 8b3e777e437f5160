-- The whole graph as one JSON document {"rev": N, "nodes": {id: node, ...}}, read atomically.
-- Built here by concatenating the stored node documents (never re-encoded), so the client
-- parses one string instead of hundreds of reply items.
-- KEYS[1] nodes hash  KEYS[2] revision
local flat = redis.call('HGETALL', KEYS[1])
local parts = {}
for i = 1, #flat, 2 do parts[#parts + 1] = cjson.encode(flat[i]) .. ':' .. flat[i + 1] end
local rev = redis.call('GET', KEYS[2]) or '0'
return '{"rev":' .. rev .. ',"nodes":{' .. table.concat(parts, ',') .. '}}'
