local now, lease, horizon = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local left = tonumber(ARGV[4])
local index, due_prefix, host_prefix, feed_hosts = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local horizon_end = now + horizon
local booked = {}
for i = 9, #ARGV, 3 do
  local host, cap, spacing = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local queue, state = due_prefix .. host, host_prefix .. host
  local h = redis.call('HMGET', state, 'next_start', 'paused_until', 'latency')
  local paused = tonumber(h[2] or '0')
  local nxt = math.max(now, tonumber(h[1] or '0'))
  if paused > now then
    redis.call('ZADD', index, paused, host)
  else
    local step = math.max(spacing, tonumber(h[3] or '0') / cap)
    local room = 0
    if left > 0 and nxt <= horizon_end then
      if step > 0 then
        room = math.min(left, math.floor((horizon_end - nxt) / step + 1e-9) + 1)
      else room = math.min(left, cap) end  -- no spacing, no latency known yet
    end
    local n = 0
    if room > 0 then
      local due = redis.call('ZRANGEBYSCORE', queue, '-inf', horizon_end, 'WITHSCORES',
                             'LIMIT', 0, room)
      for j = 1, #due, 2 do
        local start = math.max(nxt, tonumber(due[j + 1]))
        if start > horizon_end + 0.001 then break end  -- sums of steps round up
        if redis.call('HGET', feed_hosts, due[j]) ~= host then
          redis.call('ZREM', queue, due[j])  -- left behind by a move during a sync
        else
          redis.call('ZADD', queue, 'XX', start + lease, due[j])
          booked[#booked + 1] = due[j]
          booked[#booked + 1] = host
          booked[#booked + 1] = tostring(start)
          booked[#booked + 1] = due[j + 1]
          nxt = start + step
          n = n + 1
        end
      end
      if n > 0 then
        left = left - n
        redis.call('HSET', state, 'next_start', tostring(nxt))
      end
    end
    local first = redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES')
    if #first == 0 then redis.call('ZREM', index, host)
    else redis.call('ZADD', index, math.max(tonumber(first[2]), nxt), host) end
  end
end
return booked
