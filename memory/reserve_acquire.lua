-- All-or-nothing reservation of several objects for one owner (re-entrant: refreshes the TTL).
-- KEYS: one reservation key per object   ARGV[1] owner  ARGV[2] TTL in ms
for _, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder and holder ~= ARGV[1] then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
end
return 1
