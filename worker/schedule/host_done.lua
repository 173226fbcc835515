if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
local took = math.max(0, tonumber(ARGV[3]) - tonumber(ARGV[2]))
local latency = tonumber(redis.call('HGET', KEYS[1], 'latency') or '')
if latency then latency = latency + tonumber(ARGV[4]) * (took - latency) else latency = took end
redis.call('HSET', KEYS[1], 'latency', tostring(latency))
return 1
