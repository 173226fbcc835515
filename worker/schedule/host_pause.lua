local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
if tonumber(ARGV[1]) > paused then
  redis.call('HSET', KEYS[1], 'paused_until', ARGV[1], 'pause_reason', ARGV[3])
  redis.call('EXPIRE', KEYS[1],
             math.max(math.ceil(tonumber(ARGV[1]) - tonumber(ARGV[2])), 0) + ARGV[4])
end
return 1
