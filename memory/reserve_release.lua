-- Release (ARGV[2] == "") or extend (ARGV[2] = TTL ms) the objects among KEYS that ARGV[1] holds;
-- objects held by someone else are left untouched. Returns how many of KEYS the owner holds.
local held = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    held = held + 1
    if ARGV[2] == '' then redis.call('DEL', key) else redis.call('PEXPIRE', key, ARGV[2]) end
  end
end
return held
