-- ARGV[1]: seconds a story is kept; ARGV[2]: when this period's band hashes expire; ARGV[3]:
-- now; ARGV[4]: most references kept under one band value; ARGV[5]: the prefix of this
-- period's band hashes; ARGV[6]: the prefix of story keys. Then per story: its id, reference,
-- signature, cluster, and its band values as one string, 8 bytes each, in band order.
local keep = tonumber(ARGV[4]) * 8
local band_prefix, story_prefix = ARGV[5], ARGV[6]
local function hex(c) return string.format('%02x', string.byte(c)) end
for arg = 7, #ARGV, 5 do
  local ref, bands = ARGV[arg + 1], ARGV[arg + 4]
  local story = story_prefix .. string.gsub(ref, '.', hex)
  redis.call('HSET', story, 'id', ARGV[arg], 'signature', ARGV[arg + 2],
    'cluster', ARGV[arg + 3], 'at', ARGV[3])
  redis.call('EXPIRE', story, ARGV[1])
  for b = 0, #bands / 8 - 1 do
    local band = band_prefix .. string.format('%02d', b)
    local value = string.sub(bands, b * 8 + 1, b * 8 + 8)
    local packed = (redis.call('HGET', band, value) or '') .. ref
    if #packed > keep then packed = string.sub(packed, -keep) end
    redis.call('HSET', band, value, packed)
    redis.call('EXPIREAT', band, ARGV[2])
  end
end
return 1
