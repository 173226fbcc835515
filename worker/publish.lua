-- Dedupe and publish a batch of stories in one atomic step.
--
-- KEYS[1]      the output stream
-- KEYS[2..]    for each story in turn, the seen-shard hash of each of its marks
-- ARGV[1]      approximate maximum stream length
-- ARGV[2]      the value stored with a new mark (the day it was first seen)
-- ARGV[3]      number of stories
-- then, per story: number of marks m, the m mark digests, story id, feed key, story JSON
--
-- A story is added only when none of its marks was seen; all its marks are set either way,
-- so a story first seen under one mark is known under the others from then on.
-- Returns, per story, the new stream entry's id, or false when the story was a duplicate.
local stream, maxlen, today = KEYS[1], ARGV[1], ARGV[2]
local arg, key = 4, 2
local results = {}
for i = 1, tonumber(ARGV[3]) do
  local count = tonumber(ARGV[arg])
  arg = arg + 1
  local seen = false
  for j = 0, count - 1 do
    if redis.call('HSETNX', KEYS[key + j], ARGV[arg + j], today) == 0 then
      seen = true
    end
  end
  local id, feed, story = ARGV[arg + count], ARGV[arg + count + 1], ARGV[arg + count + 2]
  if seen then
    results[i] = false
  else
    results[i] = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*',
      'event', 'new', 'id', id, 'feed', feed, 'story', story)
  end
  key = key + count
  arg = arg + count + 3
end
return results
