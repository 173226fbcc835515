-- A failure is added to the dead-letter stream and to the set of those recorded in one step,
-- the set last: a failed XADD leaves it unrecorded, to be recorded at the next poll.
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('XADD', KEYS[2], '*', 'feed', ARGV[2], 'where', ARGV[3], 'error', ARGV[4],
  'entry', ARGV[5], 'channel', ARGV[6])
redis.call('SADD', KEYS[1], ARGV[1])
return 1
