//! The Lua scripts that make each compare-and-set one atomic Redis
//! operation, loaded once per store.

use redis::Script;

/// Stores a token unless the stored one was obtained later.
/// KEYS[1] token; ARGV value, obtained_at, expires_at.
const PUT_TOKEN: &str = r"
local function gt(a, b) if #a ~= #b then return #a > #b end return a > b end
local cur = redis.call('HGET', KEYS[1], 'obtained_at')
if cur and gt(cur, ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'obtained_at', ARGV[2], 'expires_at', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
";

/// Drops a token if it holds the given value. KEYS[1] token; ARGV value.
const DROP_TOKEN: &str = r"
if redis.call('HGET', KEYS[1], 'value') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Releases a lease held by the given id. KEYS[1] lease; ARGV id.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Writes a record unless a newer version is stored; never a TTL.
/// KEYS[1] record; ARGV value, version.
const PUT_RECORD: &str = r"
local function gt(a, b) if #a ~= #b then return #a > #b end return a > b end
local cur = redis.call('HGET', KEYS[1], 'version')
if cur and gt(cur, ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'version', ARGV[2])
redis.call('PERSIST', KEYS[1])
return 1
";

/// Writes a record only if the stored version is exactly the expected one
/// (an empty expected: only if no record is stored); never a TTL.
/// KEYS[1] record; ARGV value, version, expected.
///
/// Versions are compared as decimal strings, never as Lua numbers (doubles,
/// exact only up to 2^53); both sides are written by `u64::to_string`, so
/// equal versions are equal strings.
const REPLACE_RECORD: &str = r"
local cur = redis.call('HGET', KEYS[1], 'version')
if ARGV[3] == '' then
  if cur then return 0 end
elseif cur ~= ARGV[3] then
  return 0
end
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'version', ARGV[2])
redis.call('PERSIST', KEYS[1])
return 1
";

/// Extends a lease held by the given id, or takes it again when nobody
/// holds it. KEYS[1] lease; ARGV id, ttl in ms.
const RENEW_LEASE: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
";

/// Deletes a record older than a version. KEYS[1] record; ARGV before.
const DELETE_RECORD: &str = r"
local function gt(a, b) if #a ~= #b then return #a > #b end return a > b end
local cur = redis.call('HGET', KEYS[1], 'version')
if cur and gt(ARGV[1], cur) then return redis.call('DEL', KEYS[1]) end
return 0
";

/// The scripts, hashed once (`EVALSHA`, with a fallback to `EVAL`).
pub(super) struct Scripts {
    pub(super) put_token: Script,
    pub(super) drop_token: Script,
    pub(super) release: Script,
    pub(super) put_record: Script,
    pub(super) replace_record: Script,
    pub(super) renew_lease: Script,
    pub(super) delete_record: Script,
}

impl Scripts {
    pub(super) fn load() -> Scripts {
        Scripts {
            put_token: Script::new(PUT_TOKEN),
            drop_token: Script::new(DROP_TOKEN),
            release: Script::new(RELEASE),
            put_record: Script::new(PUT_RECORD),
            replace_record: Script::new(REPLACE_RECORD),
            renew_lease: Script::new(RENEW_LEASE),
            delete_record: Script::new(DELETE_RECORD),
        }
    }
}
