//! Time zones: the session's, and names given to functions, with Postgres' rules for local times
//! that a transition skips or repeats.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use datafusion::common::config::ConfigOptions;
use datafusion::common::Result;

use super::err::exec;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Zone {
    Fixed(FixedOffset),
    Named(Tz),
}

fn by_lower_name() -> &'static HashMap<String, Tz> {
    static NAMES: OnceLock<HashMap<String, Tz>> = OnceLock::new();
    NAMES.get_or_init(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| (tz.name().to_ascii_lowercase(), *tz))
            .collect()
    })
}

/// Parses a zone as `SET TIME ZONE` and `AT TIME ZONE` accept it: an IANA name (any case), `UTC`/`Z`,
/// or a numeric offset such as `+03:30`, `-08` or `+0530`.
pub(crate) fn parse_zone(s: &str) -> Option<Zone> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("gmt") {
        return Some(Zone::Fixed(FixedOffset::east_opt(0)?));
    }
    if let Some(off) = parse_offset(t) {
        return Some(Zone::Fixed(off));
    }
    by_lower_name().get(&t.to_ascii_lowercase()).map(|tz| Zone::Named(*tz))
}

/// `+HH`, `+HH:MM`, `+HHMM`, `+HH:MM:SS` (sign required).
pub(crate) fn parse_offset(t: &str) -> Option<FixedOffset> {
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let parts: Vec<&str> = if rest.contains(':') {
        rest.split(':').collect()
    } else if rest.len() == 4 && rest.bytes().all(|b| b.is_ascii_digit()) {
        vec![&rest[..2], &rest[2..]]
    } else {
        vec![rest]
    };
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let nums: Vec<i32> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
    let secs = nums[0] * 3600 + nums.get(1).copied().unwrap_or(0) * 60 + nums.get(2).copied().unwrap_or(0);
    if nums[0] > 15 || nums.get(1).copied().unwrap_or(0) >= 60 {
        return None;
    }
    FixedOffset::east_opt(sign * secs)
}

pub(crate) fn zone_or_err(s: &str) -> Result<Zone> {
    parse_zone(s).ok_or_else(|| exec(format!("time zone \"{s}\" not recognized")))
}

/// The session's zone: DataFusion's `execution.time_zone`, which the frontend sets on `SET TIME ZONE`.
pub(crate) fn session_zone(config: &ConfigOptions) -> Result<Zone> {
    match config.execution.time_zone.as_deref() {
        None | Some("") => Ok(Zone::Fixed(FixedOffset::east_opt(0).ok_or_else(|| exec("bad offset"))?)),
        Some(s) => zone_or_err(s),
    }
}

impl Zone {
    pub fn utc() -> Zone {
        Zone::Fixed(Utc.fix())
    }

    /// The offset in effect at a UTC instant.
    pub fn offset_at(&self, utc: &NaiveDateTime) -> FixedOffset {
        match self {
            Zone::Fixed(o) => *o,
            Zone::Named(tz) => tz.offset_from_utc_datetime(utc).fix(),
        }
    }

    /// Wall-clock time at a UTC instant.
    pub fn to_local(&self, utc: &NaiveDateTime) -> NaiveDateTime {
        *utc + self.offset_at(utc)
    }

    /// The UTC instant of a wall-clock time. A repeated time takes the later instant (the offset
    /// after the transition); a skipped time is read with the offset before the transition.
    pub fn to_utc(&self, local: &NaiveDateTime) -> NaiveDateTime {
        match self {
            Zone::Fixed(o) => *local - *o,
            Zone::Named(tz) => match tz.from_local_datetime(local) {
                chrono::LocalResult::Single(dt) => dt.naive_utc(),
                chrono::LocalResult::Ambiguous(_, later) => later.naive_utc(),
                chrono::LocalResult::None => {
                    let before = tz
                        .offset_from_utc_datetime(&(*local - chrono::Duration::hours(24)))
                        .fix();
                    *local - before
                }
            },
        }
    }

    /// Like [`Zone::to_utc`], but a repeated time takes `prefer` when that is one of its offsets
    /// (truncating a timestamptz keeps its side of a fall-back transition).
    pub fn to_utc_prefer(&self, local: &NaiveDateTime, prefer: FixedOffset) -> NaiveDateTime {
        if let Zone::Named(tz) = self {
            if let chrono::LocalResult::Ambiguous(a, b) = tz.from_local_datetime(local) {
                for c in [a, b] {
                    if c.offset().fix() == prefer {
                        return c.naive_utc();
                    }
                }
            }
        }
        self.to_utc(local)
    }

    /// Formats the offset as RisingWave prints it in timestamptz output: `+00:00`, `-07:00`, `+05:30`.
    pub fn offset_string(off: FixedOffset) -> String {
        let s = off.local_minus_utc();
        let sign = if s < 0 { '-' } else { '+' };
        let a = s.abs();
        if a % 60 != 0 {
            format!("{sign}{:02}:{:02}:{:02}", a / 3600, a / 60 % 60, a % 60)
        } else {
            format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
        }
    }
}

pub(crate) fn micros_to_naive(us: i64) -> Option<NaiveDateTime> {
    DateTime::<Utc>::from_timestamp_micros(us).map(|d| d.naive_utc())
}

pub(crate) fn naive_to_micros(n: &NaiveDateTime) -> i64 {
    n.and_utc().timestamp_micros()
}
