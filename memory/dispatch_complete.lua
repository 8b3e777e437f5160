-- Record a subtask's result, publish it, and only then ack and drop the inbox entry.
-- MULTI/EXEC would run the XACK even if an earlier command failed; here an error stops the
-- script before the ack, so an acked entry always has its result stored.
-- KEYS[1] done key  KEYS[2] task results stream  KEYS[3] robot inbox  KEYS[4] dead-letter stream
-- ARGV[1] result JSON  ARGV[2] done TTL (s)  ARGV[3] results/dead-letter max length
-- ARGV[4] group  ARGV[5] entry id
-- ARGV[6..] (dead-lettering only) message JSON, reason, robot, deliveries
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'result', ARGV[1])
if ARGV[6] then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*',
    'msg', ARGV[6], 'reason', ARGV[7], 'robot', ARGV[8], 'deliveries', ARGV[9])
end
redis.call('XACK', KEYS[3], ARGV[4], ARGV[5])
redis.call('XDEL', KEYS[3], ARGV[5])
return 1
