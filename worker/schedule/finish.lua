local feed, due, host = ARGV[1], ARGV[2], ARGV[3]
local feed_hosts, due_prefix, index, claimed = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if due ~= '' then
  local scheduled = redis.call('HGET', feed_hosts, feed)
  if scheduled and claimed ~= '' then  -- only while the claim is the one we hold
    local score = redis.call('ZSCORE', due_prefix .. scheduled, feed)
    if not score or math.abs(tonumber(score) - tonumber(claimed)) > 0.001 then
      scheduled = false
    end
  end
  if scheduled then
    if host == '' then host = scheduled end
    if host ~= scheduled then
      redis.call('ZREM', due_prefix .. scheduled, feed)
      redis.call('HSET', feed_hosts, feed, host)
    end
    redis.call('ZADD', due_prefix .. host, due, feed)
    redis.call('ZADD', index, 'LT', due, host)
  end
end
if ARGV[9] and redis.call('GET', ARGV[8]) == ARGV[9] then redis.call('DEL', ARGV[8]) end
return 1
