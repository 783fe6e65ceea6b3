/**
 * The Lua scripts that switch a site's metadata in one step. Files are written to the FileStore
 * first, under keys no metadata points at yet; one of these scripts then makes them the site's
 * files. A reader sees the old version or the new one, and metadata never names a missing file.
 */

// KEYS: latest, versions, sites. ARGV: maxVersions, siteKey, generatedAtMs, version entry (gzip
// JSON), then the latest hash's field/value pairs (without "version").
// Returns { version, removed entries… }: the caller deletes the removed versions' files.
export const SAVE_SCRIPT = `
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HSET', KEYS[2], tostring(version), ARGV[4])
local out = { version }
local oldest = version - tonumber(ARGV[1])
if oldest > 0 then
  for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
    if tonumber(f) <= oldest then
      out[#out + 1] = redis.call('HGET', KEYS[2], f)
      redis.call('HDEL', KEYS[2], f)
    end
  end
end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return out
`;

// KEYS: latest. ARGV: checkedAt, jobId. Only touches a site that has a result.
export const CHECKED_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'checkedAt', ARGV[1], 'checkedBy', ARGV[2])
return 1
`;

// KEYS: versions. ARGV: keep. Removes entries beyond the newest `keep`, returning them.
export const TRIM_SCRIPT = `
local fields = redis.call('HKEYS', KEYS[1])
local nums = {}
for _, f in ipairs(fields) do if tonumber(f) then nums[#nums + 1] = tonumber(f) end end
table.sort(nums, function(a, b) return a > b end)
local out = {}
for i = tonumber(ARGV[1]) + 1, #nums do
  local f = tostring(nums[i])
  out[#out + 1] = redis.call('HGET', KEYS[1], f)
  redis.call('HDEL', KEYS[1], f)
end
return out
`;

// The upgrade of one site from the layout that kept files in Redis. KEYS: latest, versions.
// ARGV: the version it was read at, the new versions hash as field/value pairs count, those pairs,
// then the latest hash's new field/value pairs. Does nothing (returns 0) when another process
// upgraded the site, or a save moved it on, since it was read: the caller reads it again.
export const UPGRADE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'txt') == 0 then return 0 end
redis.call('HDEL', KEYS[1], 'txt', 'full', 'content')
local n = tonumber(ARGV[2])
redis.call('DEL', KEYS[2])
local kv = {}
for i = 3, 2 + n * 2 do kv[#kv + 1] = ARGV[i] end
if #kv > 0 then redis.call("HSET", KEYS[2], unpack(kv)) end
local fields = {}
for i = 3 + n * 2, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
return 1
`;
