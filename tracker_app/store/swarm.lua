-- One announce to, or one scrape of, one swarm: atomically, in one round trip.
-- KEYS: 1 last-seen zset (member = kind .. key), 2 WebSocket peers hash,
--       3 HTTP peers hash, 4 counters hash (c = complete, i = incomplete, d = downloaded).
--       All four share the swarm's hash tag, so this also runs on Redis Cluster.
-- ARGV: 1 peer TTL (ms), 2 key TTL (ms), 3 event ('s' started, 'c' completed,
--       'x' stopped, 'u' update, 'q' scrape: expire and count only, the rest is ignored),
--       4 kind ('w' or 'h'), 5 peer key, 6 peer value, 7 seeder ('1' or '0'),
--       8 numwant, 9 owned ('1': a different value means another socket owns the key).
-- Time is the Redis server's, so replicas with skewed clocks agree on expiry.
-- Peer hash values are the seeder flag followed by the peer value.
-- Returns {complete, incomplete, downloaded, key1, value1, ...}, or {-1} when the key is owned.
local seen, ws, http, counts = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local event, kind, key, value, seeder = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local numwant = tonumber(ARGV[8])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local function count(flag, delta)
  redis.call('HINCRBY', counts, flag == '1' and 'c' or 'i', delta)
end

local function forget(member)
  local peers = string.sub(member, 1, 1) == 'w' and ws or http
  local field = string.sub(member, 2)
  local old = redis.call('HGET', peers, field)
  if old then
    count(string.sub(old, 1, 1), -1)
    redis.call('HDEL', peers, field)
  end
  redis.call('ZREM', seen, member)
end

-- Expire peers that stopped announcing: oldest first, a bounded batch, no full scan.
for _, member in ipairs(redis.call('ZRANGEBYSCORE', seen, '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, 64)) do
  forget(member)
end

local function totals()
  local c = redis.call('HMGET', counts, 'c', 'i', 'd')
  return {tonumber(c[1]) or 0, tonumber(c[2]) or 0, tonumber(c[3]) or 0}
end

if event == 'q' then
  return totals()
end

local peers = kind == 'w' and ws or http
local old = redis.call('HGET', peers, key)
if old and ARGV[9] == '1' and string.sub(old, 2) ~= value then
  return {-1}
end

if event == 'x' then
  if old then forget(kind .. key) end
else
  local was = old and string.sub(old, 1, 1)
  if was ~= seeder then
    if was then count(was, -1) end
    count(seeder, 1)
  end
  if event == 'c' and was ~= '1' then
    redis.call('HINCRBY', counts, 'd', 1)
  end
  redis.call('HSET', peers, key, seeder .. value)
  redis.call('ZADD', seen, now, kind .. key)
end

local result = totals()
if numwant > 0 and event ~= 'x' then
  local picked = redis.call('HRANDFIELD', peers, numwant + 1, 'WITHVALUES')
  local n = 0
  for i = 1, #picked, 2 do
    if picked[i] ~= key and n < numwant then
      result[#result + 1] = picked[i]
      result[#result + 1] = string.sub(picked[i + 1], 2)
      n = n + 1
    end
  end
end

for _, name in ipairs(KEYS) do
  redis.call('PEXPIRE', name, ARGV[2])
end
return result
