-- ARGV[1..3]: the prefixes of generation hashes, band hashes and records strings; ARGV[4]: this
-- period; ARGV[5]: when its keys expire; ARGV[6]: records a records string holds; ARGV[7]:
-- most story numbers kept under one band value; ARGV[8]: band entries a bucket holds on
-- average when its generation is full; ARGV[9], ARGV[10]: fewest and most bucket bits. Then
-- per story: its record (fixed size), and its band values as one string, 4 bytes each
-- (little-endian), in band order. Every key is made here from what it is given, so this
-- script suits a single Redis server, not a cluster.
local gen_prefix, band_prefix, records_prefix = ARGV[1], ARGV[2], ARGV[3]
local period, expire_at, chunk = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local keep, fill = tonumber(ARGV[7]) * 3, tonumber(ARGV[8])
local min_bits, max_bits = tonumber(ARGV[9]), tonumber(ARGV[10])
local record_size, bands = #ARGV[11], #ARGV[12] / 4
local generation = gen_prefix .. period
-- Stories a generation with 2^bits buckets holds; numbers are 3 bytes, so at most 2^24 - 1.
local function capacity(bits) return math.min(math.floor(2 ^ bits * fill / bands), 16777215) end

local state = redis.call('HMGET', generation, 'level', 'count', 'total')
local level, count, total = tonumber(state[1]), tonumber(state[2]), tonumber(state[3])
local bits
if level then
  bits = tonumber(redis.call('HGET', generation, 'bits:' .. level))
else
  -- A period's first generation is sized for what the period before recorded.
  local before = tonumber(redis.call('HGET', gen_prefix .. (period - 1), 'total')) or 0
  level, count, total, bits = 0, 0, 0, min_bits
  while bits < max_bits and capacity(bits) < before do bits = bits + 1 end
end

for arg = 11, #ARGV, 2 do
  if count >= capacity(bits) then
    level, count, bits = level + 1, 0, math.min(bits + 2, max_bits)
  end
  local number = count
  count, total = count + 1, total + 1
  local place = period .. ':' .. level .. ':'
  local records = records_prefix .. place .. math.floor(number / chunk)
  if number % chunk == 0 then
    -- Made at its full size at once: grown by SETRANGE, a string is given room to double.
    redis.call('SET', records, string.rep('\0', chunk * record_size))
    redis.call('EXPIREAT', records, expire_at)
  end
  redis.call('SETRANGE', records, (number % chunk) * record_size, ARGV[arg])
  local ref = string.char(number % 256, math.floor(number / 256) % 256,
    math.floor(number / 65536))
  local values, buckets = ARGV[arg + 1], 2 ^ bits
  for b = 0, bands - 1 do
    local v1, v2, v3, v4 = string.byte(values, b * 4 + 1, b * 4 + 4)
    local value = v1 + v2 * 256 + v3 * 65536 + v4 * 16777216
    local band = band_prefix .. place .. (value % buckets)
    local field = string.format('%d', math.floor(value / buckets))
    local packed = (redis.call('HGET', band, field) or '') .. ref
    if #packed > keep then packed = string.sub(packed, -keep) end
    redis.call('HSET', band, field, packed)
    redis.call('EXPIREAT', band, expire_at)
  end
end
redis.call('HSET', generation, 'level', level, 'bits:' .. level, bits, 'count', count,
  'total', total)
redis.call('EXPIREAT', generation, expire_at)
return 1
