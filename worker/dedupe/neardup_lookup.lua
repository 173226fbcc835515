-- ARGV[1]: the prefix of band hashes; ARGV[2], ARGV[3]: this period and the one before;
-- ARGV[4]: the prefix of story keys. Then per story its band values as one string, 8 bytes
-- each, in band order. Returns the candidate references of each story, and (reference, id,
-- signature, cluster, at) of every candidate still recorded. Every key is made here from
-- what it is given, so this script suits a single Redis server, not a cluster.
local band_prefix, story_prefix = ARGV[1], ARGV[4]
local periods = {ARGV[2], ARGV[3]}
local candidates, records, seen = {}, {}, {}
local function hex(c) return string.format('%02x', string.byte(c)) end
for s = 5, #ARGV do
  local bands = ARGV[s]
  local refs, mine = {}, {}
  for b = 0, #bands / 8 - 1 do
    local value = string.sub(bands, b * 8 + 1, b * 8 + 8)
    local number = string.format('%02d', b)
    for _, period in ipairs(periods) do
      local packed = redis.call('HGET', band_prefix .. period .. ':' .. number, value)
      if packed then
        for at = 1, #packed, 8 do
          local ref = string.sub(packed, at, at + 7)
          if not mine[ref] then mine[ref] = true; refs[#refs + 1] = ref end
        end
      end
    end
  end
  candidates[#candidates + 1] = refs
  for _, ref in ipairs(refs) do
    if not seen[ref] then
      seen[ref] = true
      local story = story_prefix .. string.gsub(ref, '.', hex)
      local found = redis.call('HMGET', story, 'id', 'signature', 'cluster', 'at')
      if found[1] then
        records[#records + 1] = ref
        for i = 1, 4 do records[#records + 1] = found[i] end
      end
    end
  end
end
return {candidates, records}
