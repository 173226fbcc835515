-- ARGV[1..3]: the prefixes of generation hashes, band hashes and records strings; ARGV[4],
-- ARGV[5]: this period and the one before; ARGV[6]: records a records string holds; ARGV[7]:
-- bytes of a record. Then per story its band values as one string, 4 bytes each
-- (little-endian), in band order. Returns the candidate references of each story, and
-- (reference, record) of every candidate; a record of zeros is a place no story was written
-- to. Every key is made here from what it is given, so this script suits a single Redis
-- server, not a cluster.
local gen_prefix, band_prefix, records_prefix = ARGV[1], ARGV[2], ARGV[3]
local chunk, record_size = tonumber(ARGV[6]), tonumber(ARGV[7])
local generations = {}
for _, period in ipairs({ARGV[4], ARGV[5]}) do
  local state = redis.call('HGETALL', gen_prefix .. period)
  local fields = {}
  for i = 1, #state, 2 do fields[state[i]] = state[i + 1] end
  for level = 0, tonumber(fields['level'] or -1) do
    generations[#generations + 1] = {period .. ':' .. level .. ':',
      2 ^ tonumber(fields['bits:' .. level])}
  end
end
local candidates, records, seen = {}, {}, {}
for s = 8, #ARGV do
  local values = ARGV[s]
  local refs, mine = {}, {}
  for b = 0, #values / 4 - 1 do
    local v1, v2, v3, v4 = string.byte(values, b * 4 + 1, b * 4 + 4)
    local value = v1 + v2 * 256 + v3 * 65536 + v4 * 16777216
    for _, generation in ipairs(generations) do
      local place, buckets = generation[1], generation[2]
      local packed = redis.call('HGET', band_prefix .. place .. (value % buckets),
        string.format('%d', math.floor(value / buckets)))
      if packed then
        for at = 1, #packed, 3 do
          local ref = place .. string.sub(packed, at, at + 2)
          if not mine[ref] then mine[ref] = true; refs[#refs + 1] = ref end
        end
      end
    end
  end
  candidates[#candidates + 1] = refs
  for _, ref in ipairs(refs) do
    if not seen[ref] then
      seen[ref] = true
      local n1, n2, n3 = string.byte(ref, #ref - 2, #ref)
      local number = n1 + n2 * 256 + n3 * 65536
      local records_key = records_prefix .. string.sub(ref, 1, #ref - 3)
        .. math.floor(number / chunk)
      local start = (number % chunk) * record_size
      records[#records + 1] = ref
      records[#records + 1] = redis.call('GETRANGE', records_key, start,
        start + record_size - 1)
    end
  end
end
return {candidates, records}
