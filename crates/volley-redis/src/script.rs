//! The one Lua script every process runs, and what its replies mean.
//!
//! All times are microseconds of the Redis server's clock (`TIME`), so the
//! clocks of the workers never matter. Numbers are written with `%.0f`:
//! Lua's own `tostring` keeps only 14 significant digits, too few for
//! microseconds since 1970.

/// The script. `KEYS[1]` holds the rate's theoretical arrival time (GCRA),
/// `KEYS[2]` the host's pause-until.
///
/// - `ARGV[1] = "a"` (acquire): `ARGV[2]` the interval in µs (0: no rate),
///   `ARGV[3]` the burst tolerance in µs, `ARGV[4]` how many slots to take,
///   `ARGV[5]` `"1"` to check the pause first. Replies `{0, offset}`: the
///   first slot is at `now + offset` (earlier than now when a burst is
///   available), the others follow one interval apart; or `{1, remaining}`
///   when the host is paused (no slot is taken then).
/// - `ARGV[1] = "p"` (pause): `ARGV[2]` the pause in µs; the pause is
///   extended, never shortened. Replies `{1, remaining}`.
///
/// Every key written expires once it no longer says anything (a theoretical
/// arrival time in the past means the same as no key), plus a second.
pub(crate) const SOURCE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function store(key, value, ttl_us)
  redis.call('SET', key, string.format('%.0f', value), 'PX', math.ceil(ttl_us / 1000) + 1000)
end
if ARGV[1] == 'p' then
  local pause = tonumber(ARGV[2]) or 0
  local current = tonumber(redis.call('GET', KEYS[2])) or 0
  local wanted = now + pause
  if wanted > current then
    store(KEYS[2], wanted, pause)
    current = wanted
  end
  return {1, current - now}
end
if ARGV[5] == '1' then
  local paused = tonumber(redis.call('GET', KEYS[2])) or 0
  if paused > now then
    return {1, paused - now}
  end
end
local interval = tonumber(ARGV[2]) or 0
if interval <= 0 then
  return {0, 0}
end
local tolerance = tonumber(ARGV[3]) or 0
local slots = tonumber(ARGV[4]) or 1
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local new_tat = tat + slots * interval
store(KEYS[1], new_tat, new_tat - now)
return {0, tat - tolerance - now}
"#;

/// What the script answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Slots granted; the first at this many µs from now (may be negative).
    Granted(i64),
    /// The host is paused for this many more µs.
    Paused(i64),
}

impl Reply {
    /// Reads the script's `{code, value}`; anything else is `None`.
    pub(crate) fn from_pair(code: i64, value: i64) -> Option<Reply> {
        match code {
            0 => Some(Reply::Granted(value)),
            1 => Some(Reply::Paused(value.max(0))),
            _ => None,
        }
    }
}
