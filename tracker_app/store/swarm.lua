-- One announce to, one scrape of, or one sweep of one swarm: atomically, in one round trip.
-- KEYS: 1 last-seen zset (member = kind .. key), 2 WebSocket peers hash,
--       3 HTTP peers hash, 4 counters hash (c = complete, i = incomplete, d = downloaded).
--       All four share the swarm's hash tag, so this also runs on Redis Cluster.
-- ARGV (from 3 on, ScriptArgs in redis.py): 1 peer TTL (ms), 2 key TTL (ms), 3 event ('s' started,
--       'c' completed, 'x' stopped, 'u' update, 'q' scrape: expire and count only, 'e' sweep: expire a large batch
--       and count, 'd' clear out: remove the WebSocket peers whose value starts with the peer key,
--       a dead replica's name), 4 kind ('w' or 'h'), 5 peer key, 6 peer value, 7 seeder ('1' or '0'),
--       8 numwant, 9 owned ('1': a different value means another socket owns the key),
--       10 claim of an owned key ('<ms since the socket first used it>,<digest of its key or empty>'),
--       11 a holder value the announce may replace (its replica is dead), or ''.
-- Time is the Redis server's, so replicas with skewed clocks agree on expiry.
-- Peer hash values are the seeder flag followed by the peer value; a WebSocket peer's value
-- is followed by a NUL and its claim.
-- Returns (SwarmReply and Taken in redis.py) {complete, incomplete, downloaded, seeders added,
-- leechers added, 1/-1 when the swarm became non-empty/empty else 0, oldest last-seen (ms) or -1 when empty, key1, value1, ...},
-- or {-1, holder value} when the key is owned by another socket.
local seen, ws, http, counts = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local event, kind, key, value, seeder = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local numwant = tonumber(ARGV[8])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local function totals()
  local c = redis.call('HMGET', counts, 'c', 'i', 'd')
  return {tonumber(c[1]) or 0, tonumber(c[2]) or 0, tonumber(c[3]) or 0}
end

-- How this call changed the swarm's seeders and leechers, for the deployment's running totals.
local changed = {0, 0}

local function count(flag, delta)
  local i = flag == '1' and 1 or 2
  changed[i] = changed[i] + delta
  redis.call('HINCRBY', counts, i == 1 and 'c' or 'i', delta)
end

-- A stored WebSocket value: route and claim.
local function split(stored)
  local nul = string.find(stored, '\0', 2, true)
  if not nul then return string.sub(stored, 2), '' end
  return string.sub(stored, 2, nul - 1), string.sub(stored, nul + 1)
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
local batch = event == 'e' and 1024 or 64
for _, member in ipairs(redis.call('ZRANGEBYSCORE', seen, '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, batch)) do
  forget(member)
end

-- Whether an owned key's holder gives way: its replica is dead, the same client key is shown,
-- or the announcing socket used this peer_id before the holder's socket did (a squatter's is newer).
local function yields(holder, claim)
  if holder == ARGV[11] then return true end
  local since, digest = string.match(ARGV[10], '^(%d+),(.*)$')
  local old_since, old_digest = string.match(claim, '^(%d+),(.*)$')
  if not since or not old_since then return false end
  if digest ~= '' and digest == old_digest then return true end
  return tonumber(since) < tonumber(old_since)
end

local function reply(extra)
  local after = totals()
  local is = after[1] + after[2] > 0
  local was = after[1] + after[2] - changed[1] - changed[2] > 0
  local oldest = -1
  if is and (event == 'e' or not was) then  -- the sweep index needs it only then
    oldest = tonumber(redis.call('ZRANGE', seen, 0, 0, 'WITHSCORES')[2]) or -1
  end
  local result = {after[1], after[2], after[3], changed[1], changed[2],
                  (is and not was) and 1 or ((was and not is) and -1 or 0), oldest}
  for _, item in ipairs(extra) do result[#result + 1] = item end
  return result
end

if event == 'd' then
  local all = redis.call('HGETALL', ws)
  for i = 1, #all, 2 do
    if string.sub(all[i + 1], 2, #key + 1) == key then forget('w' .. all[i]) end
  end
end

if event == 'q' or event == 'e' or event == 'd' then
  return reply({})
end

local peers = kind == 'w' and ws or http
local old = redis.call('HGET', peers, key)
if old and ARGV[9] == '1' then
  local holder, claim = split(old)
  if holder ~= value and not yields(holder, claim) then
    return {-1, holder}
  end
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
  local stored = seeder .. value
  if kind == 'w' and ARGV[10] ~= '' then
    local claim = ARGV[10]
    if old then
      local holder, held = split(old)
      if holder == value and held ~= '' then claim = held end  -- the same socket keeps its first claim
    end
    stored = stored .. '\0' .. claim
  end
  redis.call('HSET', peers, key, stored)
  redis.call('ZADD', seen, now, kind .. key)
end

local picked_peers = {}
if numwant > 0 and event ~= 'x' then
  local picked = redis.call('HRANDFIELD', peers, numwant + 1, 'WITHVALUES')
  for i = 1, #picked, 2 do
    if picked[i] ~= key and #picked_peers < 2 * numwant then
      picked_peers[#picked_peers + 1] = picked[i]
      picked_peers[#picked_peers + 1] = kind == 'w' and (split(picked[i + 1])) or string.sub(picked[i + 1], 2)
    end
  end
end

for _, name in ipairs(KEYS) do
  redis.call('PEXPIRE', name, ARGV[2])
end
return reply(picked_peers)
