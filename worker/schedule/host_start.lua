local now, token = tonumber(ARGV[1]), ARGV[2]
local cap, spacing = tonumber(ARGV[3]), tonumber(ARGV[4])
local ttl, ahead = tonumber(ARGV[5]), tonumber(ARGV[6])
local lease = KEYS[3]
if lease and redis.call('EXISTS', lease) == 1 then return {0, tostring(now), 'leased'} end
local h = redis.call('HMGET', KEYS[1], 'paused_until', 'last_start', 'next_start', 'rate',
                     'rate_at', 'stretch')
local paused = tonumber(h[1] or '0')
if paused > now then return {0, tostring(paused), 'paused'} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= cap then return {0, tostring(now + ARGV[7]), 'busy'} end
local start = math.max(now, tonumber(h[2] or '-1e12') + spacing)
if start - now > ahead then return {0, tostring(start), 'spaced'} end
local rate_at = tonumber(h[5] or '0')
local rate = tonumber(h[4] or '0') * math.exp(-math.max(0, start - rate_at) / ARGV[8])
  + 1 / ARGV[8]
redis.call('HSET', KEYS[1], 'last_start', tostring(start),
           'next_start', tostring(math.max(tonumber(h[3] or '0'), start + spacing)),
           'rate', tostring(rate), 'rate_at', tostring(math.max(start, rate_at)))
redis.call('EXPIRE', KEYS[1], ARGV[9])
redis.call('ZADD', KEYS[2], start + ttl, token)
redis.call('EXPIRE', KEYS[2], math.ceil(ttl + ahead) + 60)
if lease then redis.call('SET', lease, ARGV[10], 'PX', ARGV[11]) end
local watched = false
if KEYS[4] then watched = redis.call('HGET', KEYS[4], ARGV[12]) end
return {1, tostring(start), 'granted', h[6] or '1', watched}
