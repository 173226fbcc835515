-- Dedupe, publish and follow the revisions of a batch of stories in one atomic step.
--
-- KEYS[1]      the output stream
-- KEYS[2..]    for each story in turn: its revision key, then for each of its marks the G
--              seen-shard strings that may hold it, the current generation's first
-- ARGV[1]      approximate maximum stream length
-- ARGV[2]      when a shard string of the current generation expires (Unix seconds)
-- ARGV[3]      number of stories
-- ARGV[4]      most revisions a story may have (1 = no updates at all)
-- ARGV[5]      seconds a story's revision record is kept
-- ARGV[6]      names of the digested fields, comma-separated
-- ARGV[7]      oldest stream id to keep (XTRIM MINID), or "" for no age limit
-- ARGV[8]      G, the number of seen generations that may hold a mark
-- then, per story: number of marks m, the m mark records, story id, feed key, story JSON,
--              and its field digests comma-separated ("" when updates are off for its feed)
--
-- A mark is seen when one of its shard strings holds its record (fixed-width binary records,
-- packed; see worker/publish/__init__.py). A story is new when none of its marks was seen; a mark not
-- seen is appended to the current generation either way, so a story first seen under one mark
-- is known under the others from then on. A new story with digests
-- gets a revision record "1|first_seen|d1,d2,...". A seen story whose record exists and whose
-- digests differ is published again as "updated", with the next revision, the changed fields
-- and its first publication's first_seen put back in its JSON, until it has ARGV[4] revisions. A seen story without a record (published under another id, or
-- before its record expired) is left alone: there is nothing to compare it with.
-- Returns, per story, the event published ('new' or 'updated'), or false for none.
local stream, maxlen, expire_at = KEYS[1], ARGV[1], ARGV[2]
local max_revisions, keep_seconds, minid = tonumber(ARGV[4]), ARGV[5], ARGV[7]
local generations = tonumber(ARGV[8])
local names = {}
for name in string.gmatch(ARGV[6], '[^,]+') do names[#names + 1] = name end

local function split(text)
  local parts = {}
  for part in string.gmatch(text, '[^,]+') do parts[#parts + 1] = part end
  return parts
end

local function holds(blob, record)
  local from = 1
  while true do
    local at = string.find(blob, record, from, true)
    if not at then return false end
    if (at - 1) % #record == 0 then return true end
    from = at + 1
  end
end

-- Whether the mark was seen; remembers it in the current generation if not.
local function check_and_set(first_key, record)
  for g = 0, generations - 1 do
    local blob = redis.call('GET', KEYS[first_key + g])
    if blob and holds(blob, record) then return true end
  end
  local current = redis.call('GET', KEYS[first_key]) or ''
  redis.call('SET', KEYS[first_key], current .. record, 'EXAT', expire_at)
  return false
end

local function changed_fields(old, new)
  local before, after, changed = split(old), split(new), {}
  for i, name in ipairs(names) do
    if before[i] ~= after[i] then changed[#changed + 1] = name end
  end
  return changed
end

-- The story's first_seen, from its JSON ("" when null). In JSON text a bare quote only
-- delimits strings, so the pattern cannot match inside the story's own text.
local function first_seen_of(story)
  return string.match(story, '"first_seen":"([^"]*)"') or ''
end

local function revise(revision_key, digests, id, feed, story)
  local record = redis.call('GET', revision_key)
  if not record then return false end
  local revision, first_seen, old = string.match(record, '^(%d+)|([^|]*)|(.*)$')
  local changed = changed_fields(old, digests)
  revision = tonumber(revision)
  if #changed == 0 or revision >= max_revisions then return false end
  revision = revision + 1
  redis.call('SET', revision_key, revision .. '|' .. first_seen .. '|' .. digests,
    'EX', keep_seconds)
  if first_seen ~= '' then
    story = string.gsub(story, '"first_seen":"[^"]*"', '"first_seen":"' .. first_seen .. '"', 1)
  end
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'event', 'updated', 'id', id,
    'feed', feed, 'story', story, 'revision', revision, 'changed', table.concat(changed, ','))
  return 'updated'
end

local arg, key = 9, 2
local results = {}
for i = 1, tonumber(ARGV[3]) do
  local count = tonumber(ARGV[arg])
  arg = arg + 1
  local revision_key = KEYS[key]
  key = key + 1
  local seen = false
  for j = 0, count - 1 do
    if check_and_set(key + j * generations, ARGV[arg + j]) then
      seen = true
    end
  end
  local id, feed, story = ARGV[arg + count], ARGV[arg + count + 1], ARGV[arg + count + 2]
  local digests = ARGV[arg + count + 3]
  if not seen then
    redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*',
      'event', 'new', 'id', id, 'feed', feed, 'story', story, 'revision', 1)
    results[i] = 'new'
    if digests ~= '' then
      redis.call('SET', revision_key, '1|' .. first_seen_of(story) .. '|' .. digests,
        'EX', keep_seconds)
    end
  elseif digests ~= '' then
    results[i] = revise(revision_key, digests, id, feed, story)
  else
    results[i] = false
  end
  key = key + count * generations
  arg = arg + count + 4
end
if minid ~= '' then
  redis.call('XTRIM', stream, 'MINID', '~', minid)
end
return results
