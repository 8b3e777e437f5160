-- Extend a robot's lease on one inbox entry: reset its idle time, but only if this consumer
-- still holds it (the reaper may have dead-lettered it, or another worker claimed it).
-- KEYS[1] inbox stream  ARGV[1] group  ARGV[2] consumer  ARGV[3] entry id
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
