import { LuaScript } from "./lua-script.js";

/**
 * Lua for the KeyValue writes. A stored value is one Redis string `<version>|<json>`; every write reads
 * the version, writes the new one and keeps the namespace's sorted-set index in step, in one atomic
 * script. Keys written with a TTL are also scored by expiry time in a second sorted set, so entries of
 * expired keys can be purged from the index by later writes instead of lingering forever.
 *
 * Write scripts take KEYS = [value key, index, expiries] and ARGV = [port key, value-key prefix, ttl or
 * "", …]. The purge touches value keys not named in KEYS: they share the namespace's hash tag, so they
 * are in the same cluster slot, which is what Redis Cluster requires of a script.
 */
const HELPERS = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The version of a packed value (0 when absent), or nil when it has no <version>| header.
local function checked_version(raw)
  if not raw then return 0 end
  local bar = string.find(raw, '|', 1, true)
  return bar and tonumber(string.sub(raw, 1, bar - 1))
end

local function version_of(raw)
  local version = checked_version(raw)
  if not version then error('AAT_NOT_A_KV_VALUE ' .. KEYS[1]) end
  return version
end

local function write(packed)
  if ARGV[3] == '' then
    redis.call('SET', KEYS[1], packed)
  else
    redis.call('SET', KEYS[1], packed, 'PX', ARGV[3])
  end
end

-- Drops index entries of up to 16 (or limit) keys whose TTL has passed; run by every write but
-- setIfAbsentWith, whose caller says when and how much.
local function purge(now, limit)
  local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit or 16)
  for _, member in ipairs(due) do
    local left = redis.call('PTTL', ARGV[2] .. member)
    if left == -2 then
      redis.call('ZREM', KEYS[2], member)
      redis.call('ZREM', KEYS[3], member)
    elseif left == -1 then
      redis.call('ZREM', KEYS[3], member)
    else
      redis.call('ZADD', KEYS[3], now + left, member)
    end
  end
end

local function track()
  redis.call('ZADD', KEYS[2], 0, ARGV[1])
  local now = now_ms()
  if ARGV[3] == '' then
    redis.call('ZREM', KEYS[3], ARGV[1])
  else
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[1])
  end
  purge(now)
end
`;

/** ARGV[4] = json. Returns the new version. */
const SET = `${HELPERS}
local version = version_of(redis.call('GET', KEYS[1])) + 1
write(version .. '|' .. ARGV[4])
track()
return version
`;

/** ARGV[4] = json. Returns {1} when written, else {0, current packed value}. */
const SET_IF_ABSENT = `${HELPERS}
local written
if ARGV[3] == '' then
  written = redis.call('SET', KEYS[1], '1|' .. ARGV[4], 'NX')
else
  written = redis.call('SET', KEYS[1], '1|' .. ARGV[4], 'NX', 'PX', ARGV[3])
end
if not written then return {0, redis.call('GET', KEYS[1])} end
track()
return {1}
`;

/** ARGV[4] = json, ARGV[5] = expected version (0: absent). Returns {1, version} or {0[, current]}. */
const COMPARE_AND_SET = `${HELPERS}
local raw = redis.call('GET', KEYS[1])
local version = version_of(raw)
if version ~= tonumber(ARGV[5]) then
  if raw then return {0, raw} end
  return {0}
end
write((version + 1) .. '|' .. ARGV[4])
track()
return {1, version + 1}
`;

/** ARGV[3] = expected version or "". Returns 1 when deleted, else 0. */
const DELETE = `${HELPERS}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if ARGV[3] ~= '' and version_of(raw) ~= tonumber(ARGV[3]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
purge(now_ms())
return 1
`;

/**
 * ARGV[4] = by. Returns {1, new value as JSON text} or {0, current packed value} when it is not a
 * number. The sum is formatted with the fewest significant digits (15 to 17) that read back as the same
 * double, so 0.1 + 0.2 stays 0.30000000000000004 and 3 stays 3, as JSON.stringify would write them.
 */
const INCREMENT = `${HELPERS}
local raw = redis.call('GET', KEYS[1])
local version = version_of(raw)
local base = 0
if raw then
  base = tonumber(string.sub(raw, string.find(raw, '|', 1, true) + 1))
  if not base then return {0, raw} end
end
local sum = base + tonumber(ARGV[4])
if sum ~= sum or sum == math.huge or sum == -math.huge then
  return redis.error_reply('AAT_NOT_FINITE the sum is not a finite number')
end
local text
for _, digits in ipairs({15, 16, 17}) do
  text = string.format('%.' .. digits .. 'g', sum)
  if tonumber(text) == sum then break end
end
write((version + 1) .. '|' .. text)
track()
return {1, text}
`;

/**
 * A batch of setIfAbsentWith calls in one script: for each item in order, a setIfAbsent of its key and,
 * only when that wrote, a plain `set` of each of its companions. Items are independent (each sees what
 * the items before it wrote); the batch is what one event-loop turn of callers asked for, sent as one
 * command (see RedisKeyValue.setIfAbsentWith).
 * KEYS = [item 1's key, index, expiries, item 1's companion keys…, then for each further item: its key,
 * its companion keys…]. ARGV = [item count, value-key prefix, purge limit (0: no purge this time), then
 * per item: key, ttl or "", value packed as version 1 ("1|<json>"), "1" when unlisted, companion count,
 * then per companion: key, ttl or "", "1|<json>", "1" when unlisted]. (Item 1's key comes first so the
 * index, the expiries and the value-key prefix sit where HELPERS' purge expects them.)
 * An item's companions are read (and checked) before anything of it is written, so a damaged companion
 * refuses that item whole. The clock is read only when a TTL is tracked or the purge runs.
 * Returns one reply per item: {1} written, {0, current packed value}, or {-1, damaged key's name}.
 */
const SET_IF_ABSENT_WITH = `${HELPERS}
-- A key that did not exist needs no ZREM from the expiries set: an entry left there from an earlier
-- life of the key is a hint only, which purge checks against the key's real PTTL and then drops.
local now
local function clock()
  if not now then now = now_ms() end
  return now
end

-- Index and expiry changes are gathered by member (the last write of a key in the batch decides) and
-- sent as one ZADD (and ZREM) per sorted set at the end.
local indexed, expiry = {}, {}
local function track_key(member, ttl, existed)
  indexed[member] = true
  if ttl ~= '' then
    expiry[member] = clock() + tonumber(ttl)
  elseif existed or expiry[member] then
    expiry[member] = false
  end
end

-- A run's first write names only new keys: when none of an item's keys exists and none has a TTL, one
-- MSETNX writes them all at version 1 (each call into Redis from a script costs more than the write it
-- makes). When any exists, MSETNX writes nothing and the item takes the general path below.
local function write_fresh(name, packed, count, first_key, first_arg)
  local writes = {name, packed}
  for i = 1, count do
    local at = first_arg + (i - 1) * 4
    if ARGV[at + 1] ~= '' then return false end
    writes[2 * i + 1] = KEYS[first_key + i - 1]
    writes[2 * i + 2] = ARGV[at + 2]
  end
  return redis.call('MSETNX', unpack(writes)) == 1
end

local replies = {}
local listed = false
local k, a = 4, 4
for item = 1, tonumber(ARGV[1]) do
  local name = KEYS[1]
  if item > 1 then
    name = KEYS[k]
    k = k + 1
  end
  local ttl, packed, count = ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 4])
  local member, unlisted_item = ARGV[a], ARGV[a + 3] == '1'
  local first_key, first_arg = k, a + 5
  k = k + count
  a = a + 5 + count * 4
  -- The companions' versions before the write (all 0 when MSETNX wrote the item).
  local versions
  if ttl == '' and write_fresh(name, packed, count, first_key, first_arg) then
    versions = {}
    for i = 1, count do versions[i] = 0 end
  else
    local checked, damaged = {}, nil
    if count > 0 then
      local names = {}
      for i = 1, count do names[i] = KEYS[first_key + i - 1] end
      local current = redis.call('MGET', unpack(names))
      for i = 1, count do
        checked[i] = checked_version(current[i])
        if not checked[i] then
          damaged = names[i]
          break
        end
      end
    end
    if damaged then
      replies[item] = {-1, damaged}
    else
      local written
      if ttl == '' then
        written = redis.call('SET', name, packed, 'NX')
      else
        written = redis.call('SET', name, packed, 'NX', 'PX', ttl)
      end
      if not written then
        replies[item] = {0, redis.call('GET', name)}
      else
        versions = checked
        -- Companions without a TTL go in one MSET.
        local plain = {}
        for i = 1, count do
          local at = first_arg + (i - 1) * 4
          local companion = ARGV[at + 2]
          if versions[i] > 0 then companion = (versions[i] + 1) .. string.sub(companion, 2) end
          if ARGV[at + 1] == '' then
            plain[#plain + 1] = KEYS[first_key + i - 1]
            plain[#plain + 1] = companion
          else
            redis.call('SET', KEYS[first_key + i - 1], companion, 'PX', ARGV[at + 1])
          end
        end
        if #plain > 0 then redis.call('MSET', unpack(plain)) end
      end
    end
  end
  if versions then
    if not unlisted_item then
      track_key(member, ttl, false)
      listed = true
    end
    for i = 1, count do
      local at = first_arg + (i - 1) * 4
      if ARGV[at + 3] ~= '1' then
        track_key(ARGV[at], ARGV[at + 1], versions[i] > 0)
        listed = true
      end
    end
    replies[item] = {1}
  end
end
if listed then
  local members, expiring, unexpiring = {}, {}, {}
  for member in pairs(indexed) do
    members[#members + 1] = 0
    members[#members + 1] = member
  end
  for member, deadline in pairs(expiry) do
    if deadline then
      expiring[#expiring + 1] = deadline
      expiring[#expiring + 1] = member
    else
      unexpiring[#unexpiring + 1] = member
    end
  end
  redis.call('ZADD', KEYS[2], unpack(members))
  if #expiring > 0 then redis.call('ZADD', KEYS[3], unpack(expiring)) end
  if #unexpiring > 0 then redis.call('ZREM', KEYS[3], unpack(unexpiring)) end
  local limit = tonumber(ARGV[3])
  if limit > 0 then purge(clock(), limit) end
end
return replies
`;

/**
 * KEYS = [index, expiries]; ARGV = [value-key prefix, prefix, key to start after or "", limit, scan cap].
 * Returns a flat list key1, packed1, key2, packed2, … of up to limit + 1 live keys in byte order, then,
 * when the scan cap stopped it early, one more element: the last key looked at (to resume after).
 * Index entries whose key has expired are dropped on the way.
 */
const LIST = `
local prefix = ARGV[2]
local min = '[' .. prefix
if ARGV[3] ~= '' then min = '(' .. ARGV[3] end
local max = '+'
if prefix ~= '' then max = '(' .. prefix .. '\\255' end
local wanted = tonumber(ARGV[4]) + 1
local cap = tonumber(ARGV[5])
local out = {}
local found = 0
local looked = 0
while found < wanted do
  if looked >= cap then
    out[#out + 1] = string.sub(min, 2)
    return out
  end
  -- At least 32 at a time, so a stretch of expired keys is crossed in few steps, but never past the cap.
  local size = math.min(math.max(wanted - found, 32), cap - looked)
  local batch = redis.call('ZRANGEBYLEX', KEYS[1], min, max, 'LIMIT', 0, size)
  if #batch == 0 then break end
  local names = {}
  for i, member in ipairs(batch) do names[i] = ARGV[1] .. member end
  local values = redis.call('MGET', unpack(names))
  for i, member in ipairs(batch) do
    if found == wanted then break end
    looked = looked + 1
    min = '(' .. member
    if values[i] then
      out[#out + 1] = member
      out[#out + 1] = values[i]
      found = found + 1
    else
      redis.call('ZREM', KEYS[1], member)
      redis.call('ZREM', KEYS[2], member)
    end
  end
end
return out
`;

/**
 * compareAndSet of an unlisted key on its own: KEYS = [value key], ARGV = [ttl or "", json, expected
 * version (0: absent)]. The same checks, write and reply as the unlisted COMPARE_AND_SET, without the
 * helper prelude and the index keys and arguments, which an unlisted write does not use: Redis runs it
 * about 15 % faster (4.2 against 4.9 µs per call here, alternating), and the client encodes four
 * arguments less.
 */
const UNLISTED_COMPARE_AND_SET = `
local raw = redis.call('GET', KEYS[1])
local version = 0
if raw then
  local bar = string.find(raw, '|', 1, true)
  version = bar and tonumber(string.sub(raw, 1, bar - 1))
  if not version then error('AAT_NOT_A_KV_VALUE ' .. KEYS[1]) end
end
if version ~= tonumber(ARGV[3]) then
  if raw then return {0, raw} end
  return {0}
end
if ARGV[1] == '' then
  redis.call('SET', KEYS[1], (version + 1) .. '|' .. ARGV[2])
else
  redis.call('SET', KEYS[1], (version + 1) .. '|' .. ARGV[2], 'PX', ARGV[1])
end
return {1, version + 1}
`;

/**
 * The same write without the index: for keys written with `unlisted` (never listed by prefix), `track`
 * does nothing, so the script is the version check and one SET — what a plain SET NX costs on the server.
 */
function unlisted(script: string): string {
  if (!script.startsWith(HELPERS)) throw new Error("an unlisted variant needs a script built on HELPERS");
  // A second local `track` shadows the first for the rest of the chunk.
  return `${HELPERS}\nlocal function track() end\n${script.slice(HELPERS.length)}`;
}

/** Fresh script objects per adapter, so each counts its own NOSCRIPT reloads. */
export function keyValueScripts() {
  return {
    set: new LuaScript("kv.set", SET, 3),
    setIfAbsent: new LuaScript("kv.setIfAbsent", SET_IF_ABSENT, 3),
    compareAndSet: new LuaScript("kv.compareAndSet", COMPARE_AND_SET, 3),
    delete: new LuaScript("kv.delete", DELETE, 3),
    increment: new LuaScript("kv.increment", INCREMENT, 3),
    list: new LuaScript("kv.list", LIST, 2),
    unlistedSet: new LuaScript("kv.set unlisted", unlisted(SET), 3),
    unlistedSetIfAbsent: new LuaScript("kv.setIfAbsent unlisted", unlisted(SET_IF_ABSENT), 3),
    /** Takes 3 keys plus one per further item and per companion (passed to `run`). */
    setIfAbsentWith: new LuaScript("kv.setIfAbsentWith", SET_IF_ABSENT_WITH, 3),
    unlistedCompareAndSet: new LuaScript("kv.compareAndSet unlisted", unlisted(COMPARE_AND_SET), 3),
    /** KEYS = [value key], ARGV = [ttl or "", json, expected version]: see UNLISTED_COMPARE_AND_SET. */
    unlistedCompareAndSetOne: new LuaScript(
      "kv.compareAndSet unlisted, one key",
      UNLISTED_COMPARE_AND_SET,
      1,
    ),
    unlistedIncrement: new LuaScript("kv.increment unlisted", unlisted(INCREMENT), 3),
  };
}

export type KeyValueScripts = ReturnType<typeof keyValueScripts>;
