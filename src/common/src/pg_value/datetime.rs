//! date, time, timestamp and timestamptz: rendering (RisingWave style), ISO input (Postgres
//! style), and the binary formats (counts since 2000-01-01).

use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::{invalid, syntax_error};
use crate::error::{CommonError, Result};
use crate::types::DataType;

const NANOS_PER_SEC: i128 = 1_000_000_000;
const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;
/// Days from 1970-01-01 to 2000-01-01, Postgres' binary epoch.
const PG_EPOCH_DAYS: i32 = 10_957;
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS as i64 * MICROS_PER_DAY;
/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const UNIX_EPOCH_CE_DAYS: i32 = 719_163;

fn date_out_of_range() -> CommonError {
    invalid("date out of range")
}

fn timestamp_out_of_range() -> CommonError {
    invalid("timestamp out of range")
}

/// A session or input time zone name, case-insensitively, as `SET TimeZone` takes it.
pub fn parse_timezone(name: &str) -> Result<Tz> {
    let name = name.trim();
    if let Ok(tz) = Tz::from_str(name) {
        return Ok(tz);
    }
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(name))
        .copied()
        .ok_or_else(|| invalid(format!("time zone \"{name}\" not recognized")))
}

// ---------------------------------------------------------------------------------------------
// Text output
// ---------------------------------------------------------------------------------------------

fn date_of_days(days: i32) -> Result<NaiveDate> {
    days.checked_add(UNIX_EPOCH_CE_DAYS).and_then(NaiveDate::from_num_days_from_ce_opt).ok_or_else(date_out_of_range)
}

/// `YYYY-MM-DD`; returns whether the year is BC, whose ` BC` goes at the end of the value.
fn write_ymd(date: NaiveDate, out: &mut String) -> bool {
    let year = date.year();
    let (shown, bc) = if year <= 0 { (1 - year, true) } else { (year, false) };
    out.push_str(&format!("{shown:04}-{:02}-{:02}", date.month(), date.day()));
    bc
}

/// Fractional seconds the way chrono prints them (and so RisingWave): none, or 3, 6 or 9 digits.
fn write_fraction(nanos: u32, out: &mut String) {
    if nanos == 0 {
        return;
    }
    if nanos.is_multiple_of(1_000_000) {
        out.push_str(&format!(".{:03}", nanos / 1_000_000));
    } else if nanos.is_multiple_of(1_000) {
        out.push_str(&format!(".{:06}", nanos / 1_000));
    } else {
        out.push_str(&format!(".{nanos:09}"));
    }
}

fn write_hms(secs_of_day: u32, nanos: u32, out: &mut String) {
    out.push_str(&format!("{:02}:{:02}:{:02}", secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60));
    write_fraction(nanos, out);
}

pub(crate) fn write_date(days: i32, out: &mut String) -> Result<()> {
    if write_ymd(date_of_days(days)?, out) {
        out.push_str(" BC");
    }
    Ok(())
}

pub(crate) fn write_time(ns: i64, out: &mut String) -> Result<()> {
    const NANOS_PER_DAY: i64 = 86_400_000_000_000;
    if !(0..=NANOS_PER_DAY).contains(&ns) {
        return Err(invalid("time out of range"));
    }
    write_hms((ns / 1_000_000_000) as u32, (ns % 1_000_000_000) as u32, out);
    Ok(())
}

fn utc_of_nanos(ns: i128) -> Result<DateTime<Utc>> {
    let secs = i64::try_from(ns.div_euclid(NANOS_PER_SEC)).map_err(|_| timestamp_out_of_range())?;
    let sub = ns.rem_euclid(NANOS_PER_SEC) as u32;
    DateTime::from_timestamp(secs, sub).ok_or_else(timestamp_out_of_range)
}

fn write_naive(dt: &NaiveDateTime, out: &mut String) -> bool {
    let bc = write_ymd(dt.date(), out);
    out.push(' ');
    let t = dt.time();
    write_hms(chrono::Timelike::num_seconds_from_midnight(&t), chrono::Timelike::nanosecond(&t), out);
    bc
}

pub(crate) fn write_timestamp(ns: i128, out: &mut String) -> Result<()> {
    if write_naive(&utc_of_nanos(ns)?.naive_utc(), out) {
        out.push_str(" BC");
    }
    Ok(())
}

pub(crate) fn write_timestamptz(ns: i128, tz: &Tz, out: &mut String) -> Result<()> {
    let local = utc_of_nanos(ns)?.with_timezone(tz);
    let bc = write_naive(&local.naive_local(), out);
    write_offset(local.offset().fix().local_minus_utc(), out);
    if bc {
        out.push_str(" BC");
    }
    Ok(())
}

/// `+HH:MM`, rounding seconds to the nearest minute as chrono's `%:z` does (zones with
/// second-precision offsets, like New York's LMT, print `-04:56`).
fn write_offset(offset_secs: i32, out: &mut String) {
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let minutes = (offset_secs.unsigned_abs() + 30) / 60;
    out.push_str(&format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60));
}

/// The UTC offset (seconds) at instant `utc_ns` of an Arrow timestamp's zone string, which is
/// either a fixed offset (`+08:00`, `-0530`, `+08`) or a zone name.
pub(crate) fn arrow_zone_offset_secs(zone: &str, utc_ns: i128) -> Result<i32> {
    if let Some(secs) = parse_fixed_offset(zone) {
        return Ok(secs);
    }
    if zone.eq_ignore_ascii_case("utc") || zone.eq_ignore_ascii_case("z") {
        return Ok(0);
    }
    let tz = parse_timezone(zone)?;
    let utc = utc_of_nanos(utc_ns)?;
    Ok(tz.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc())
}

/// `±HH`, `±HHMM`, `±HH:MM`, `±HH:MM:SS` (hours may have one digit) as seconds east of UTC.
fn parse_fixed_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let parts: Vec<&str> = rest.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [hm] if hm.len() <= 2 => (*hm, "0", "0"),
        [hm] if hm.len() == 4 => (&hm[..2], &hm[2..], "0"),
        [hm] if hm.len() == 6 => (&hm[..2], &hm[2..4], &hm[4..]),
        [h, m] if !h.is_empty() && h.len() <= 2 && m.len() == 2 => (*h, *m, "0"),
        [h, m, s] if !h.is_empty() && h.len() <= 2 && m.len() == 2 && s.len() == 2 => (*h, *m, *s),
        _ => return None,
    };
    let (h, m, sec): (i32, i32, i32) = (h.parse().ok()?, m.parse().ok()?, sec.parse().ok()?);
    if h > 15 || m > 59 || sec > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + sec))
}

// ---------------------------------------------------------------------------------------------
// Text input
// ---------------------------------------------------------------------------------------------

enum Zone {
    Fixed(i32),
    Named(Tz),
}

/// The pieces of a date/time input; `time` is microseconds since midnight, up to 24:00:00.
struct Parsed {
    date: Option<NaiveDate>,
    time: Option<i64>,
    zone: Option<Zone>,
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) -> bool {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
        self.i > start
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// A run of digits, at most `max` long (longer runs are a syntax error for the caller).
    fn digits(&mut self) -> &str {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i]).unwrap_or("")
    }

    fn word(&mut self) -> &str {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || b"/_+-".contains(&c)) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i]).unwrap_or("")
    }

    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }
}

/// Reads `[date] [T| ] [time] [zone] [BC|AD]` (ISO 8601 / Postgres ISO style). The date is
/// `Y-M-D` with any number of year digits; year 0 is accepted as ISO's 1 BC, as RisingWave does.
fn parse_parts(input: &str, ty: &DataType) -> Result<Parsed> {
    let syntax = || syntax_error(ty, input);
    let range = || invalid(format!("date/time field value out of range: \"{input}\""));
    let mut c = Cursor { s: input.as_bytes(), i: 0 };
    c.skip_ws();
    let mut parsed = Parsed { date: None, time: None, zone: None };
    let mut ymd = None;
    let mut bc = false;

    // A leading digit run followed by '-' is a date; followed by ':' it is a time.
    let start = c.i;
    let first = c.digits().to_owned();
    if !first.is_empty() && c.peek() == Some(b'-') {
        c.i += 1;
        let month = c.digits().to_owned();
        if !c.eat(b'-') {
            return Err(syntax());
        }
        let day = c.digits().to_owned();
        if month.is_empty() || month.len() > 2 || day.is_empty() || day.len() > 2 || first.len() > 9 {
            return Err(syntax());
        }
        let (y, m, d): (i32, u32, u32) = (
            first.parse().map_err(|_| syntax())?,
            month.parse().map_err(|_| syntax())?,
            day.parse().map_err(|_| syntax())?,
        );
        ymd = Some((y, m, d));
        // Either `T` or spaces separate the time.
        if !c.eat(b'T') && !c.eat(b't') {
            c.skip_ws();
        }
    } else {
        c.i = start;
    }

    let before_time = c.i;
    let hour = c.digits().to_owned();
    if !hour.is_empty() && c.peek() == Some(b':') {
        c.i += 1;
        let minute = c.digits().to_owned();
        let mut second = String::from("0");
        let mut frac = String::new();
        if c.eat(b':') {
            second = c.digits().to_owned();
            if c.eat(b'.') {
                frac = c.digits().to_owned();
            }
        } else if c.eat(b'.') {
            // `MM:SS.fff` is not a form Postgres takes for a time of day.
            return Err(syntax());
        }
        if hour.len() > 2 || minute.len() != 2 || second.is_empty() || second.len() > 2 {
            return Err(syntax());
        }
        let (h, m, s): (i64, i64, i64) = (
            hour.parse().map_err(|_| syntax())?,
            minute.parse().map_err(|_| syntax())?,
            second.parse().map_err(|_| syntax())?,
        );
        let frac_micros = fraction_micros(&frac);
        if m > 59 || s > 60 || h > 24 || (h == 24 && (m > 0 || s > 0 || frac_micros > 0)) {
            return Err(range());
        }
        parsed.time = Some(((h * 60 + m) * 60 + s) * MICROS_PER_SEC + frac_micros);
    } else {
        c.i = before_time;
    }
    if ymd.is_none() && parsed.time.is_none() {
        return Err(syntax());
    }

    c.skip_ws();
    // A zone or an era, in any order Postgres would take them.
    while !c.at_end() {
        match c.peek() {
            Some(b'+') | Some(b'-') if parsed.time.is_some() && parsed.zone.is_none() => {
                let sign_at = c.i;
                c.i += 1;
                let mut end = c.i;
                while end < c.s.len() && (c.s[end].is_ascii_digit() || c.s[end] == b':') {
                    end += 1;
                }
                let text = &input[sign_at..end];
                let secs = parse_fixed_offset(text).ok_or_else(syntax)?;
                c.i = end;
                parsed.zone = Some(Zone::Fixed(secs));
            }
            Some(ch) if ch.is_ascii_alphabetic() => {
                let word = c.word().to_owned();
                if word.eq_ignore_ascii_case("bc") {
                    bc = true;
                } else if word.eq_ignore_ascii_case("ad") {
                } else if parsed.zone.is_none() && (parsed.time.is_some() || ymd.is_some()) {
                    parsed.zone = Some(if word.eq_ignore_ascii_case("z") {
                        Zone::Fixed(0)
                    } else {
                        // Postgres reports an unknown `Area/City` by name, any other word as bad syntax.
                        let tz = parse_timezone(&word);
                        Zone::Named(if word.contains('/') { tz? } else { tz.map_err(|_| syntax())? })
                    });
                } else {
                    return Err(syntax());
                }
            }
            _ => return Err(syntax()),
        }
        c.skip_ws();
    }

    if let Some((y, m, d)) = ymd {
        let year = if bc {
            if y == 0 {
                return Err(range());
            }
            1 - y
        } else {
            y
        };
        parsed.date = Some(NaiveDate::from_ymd_opt(year, m, d).ok_or_else(range)?);
    } else if bc {
        return Err(syntax());
    }
    Ok(parsed)
}

/// Microseconds of a fraction's digits, rounded half up as Postgres rounds input to µs.
fn fraction_micros(frac: &str) -> i64 {
    let mut micros = 0i64;
    for (i, b) in frac.bytes().take(6).enumerate() {
        micros += i64::from(b - b'0') * 10i64.pow(5 - i as u32);
    }
    if frac.as_bytes().get(6).is_some_and(|b| *b >= b'5') {
        micros += 1;
    }
    micros
}

/// The special inputs Postgres takes for dates and timestamps, as a UTC instant.
fn special_instant(input: &str) -> Option<std::result::Result<DateTime<Utc>, ()>> {
    let word = input.trim().to_ascii_lowercase();
    match word.as_str() {
        "epoch" => Some(Ok(DateTime::<Utc>::UNIX_EPOCH)),
        "now" => Some(Ok(Utc::now())),
        "today" | "tomorrow" | "yesterday" => Some(Ok(Utc::now())),
        "infinity" | "-infinity" | "+infinity" => Some(Err(())),
        _ => None,
    }
}

fn special_local(input: &str, tz: &Tz) -> Option<Result<NaiveDateTime>> {
    let word = input.trim().to_ascii_lowercase();
    let instant = special_instant(input)?;
    let Ok(instant) = instant else {
        return Some(Err(CommonError::NotSupported("infinite dates and timestamps".into())));
    };
    let local = if word == "epoch" { instant.naive_utc() } else { instant.with_timezone(tz).naive_local() };
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN);
    Some(Ok(match word.as_str() {
        "today" => midnight(local.date()),
        "tomorrow" => midnight(local.date() + Duration::days(1)),
        "yesterday" => midnight(local.date() - Duration::days(1)),
        _ => local,
    }))
}

fn days_of_date(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - UNIX_EPOCH_CE_DAYS
}

fn micros_of_naive(date: NaiveDate, time_micros: i64) -> Result<i64> {
    i64::from(days_of_date(date))
        .checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(time_micros))
        .filter(|m| DateTime::from_timestamp_micros(*m).is_some())
        .ok_or_else(timestamp_out_of_range)
}

fn micros_of_ndt(ndt: &NaiveDateTime) -> i64 {
    ndt.and_utc().timestamp_micros()
}

pub(crate) fn parse_date(input: &str, opts_tz: &Tz) -> Result<i32> {
    if let Some(local) = special_local(input, opts_tz) {
        return Ok(days_of_date(local?.date()));
    }
    let parsed = parse_parts(input, &DataType::Date)?;
    parsed.date.map(days_of_date).ok_or_else(|| syntax_error(&DataType::Date, input))
}

/// Microseconds since midnight. A full timestamp is accepted and its time kept, as Postgres does.
pub(crate) fn parse_time(input: &str) -> Result<i64> {
    if input.trim().eq_ignore_ascii_case("allballs") {
        return Ok(0);
    }
    let parsed = parse_parts(input, &DataType::Time)?;
    let time = parsed.time.ok_or_else(|| syntax_error(&DataType::Time, input))?;
    // A time with a date but no zone keeps its time-of-day; 24:00:00 is Postgres' end of day.
    Ok(time)
}

/// Microseconds since the epoch, wall-clock; an offset in the input is ignored, as Postgres does.
pub(crate) fn parse_timestamp(input: &str, opts_tz: &Tz) -> Result<i64> {
    if let Some(local) = special_local(input, opts_tz) {
        return Ok(micros_of_ndt(&local?));
    }
    let parsed = parse_parts(input, &DataType::Timestamp)?;
    let date = parsed.date.ok_or_else(|| syntax_error(&DataType::Timestamp, input))?;
    micros_of_naive(date, parsed.time.unwrap_or(0))
}

/// Microseconds since the epoch of the instant; without an offset the input is local time in
/// `session_tz`.
pub(crate) fn parse_timestamptz(input: &str, session_tz: &Tz) -> Result<i64> {
    if let Some(instant) = special_instant(input) {
        let Ok(instant) = instant else {
            return Err(CommonError::NotSupported("infinite dates and timestamps".into()));
        };
        if input.trim().eq_ignore_ascii_case("epoch") || input.trim().eq_ignore_ascii_case("now") {
            return Ok(instant.timestamp_micros());
        }
        let local = special_local(input, session_tz).unwrap_or(Ok(instant.naive_utc()))?;
        return local_to_utc_micros(&local, session_tz);
    }
    let parsed = parse_parts(input, &DataType::Timestamptz)?;
    let date = parsed.date.ok_or_else(|| syntax_error(&DataType::Timestamptz, input))?;
    let local = micros_of_naive(date, parsed.time.unwrap_or(0))?;
    match parsed.zone {
        Some(Zone::Fixed(offset)) => local
            .checked_sub(i64::from(offset) * MICROS_PER_SEC)
            .filter(|m| DateTime::from_timestamp_micros(*m).is_some())
            .ok_or_else(timestamp_out_of_range),
        Some(Zone::Named(tz)) => local_to_utc_micros(&naive_of_micros(local)?, &tz),
        None => local_to_utc_micros(&naive_of_micros(local)?, session_tz),
    }
}

fn naive_of_micros(micros: i64) -> Result<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros).map(|d| d.naive_utc()).ok_or_else(timestamp_out_of_range)
}

/// Resolves a wall-clock time in `tz` like Postgres: an ambiguous time (clocks turned back) is the
/// later instant, a skipped one (clocks turned forward) is read with the offset before the jump.
fn local_to_utc_micros(local: &NaiveDateTime, tz: &Tz) -> Result<i64> {
    let instant = match tz.from_local_datetime(local) {
        LocalResult::Single(dt) => dt.with_timezone(&Utc),
        LocalResult::Ambiguous(_, later) => later.with_timezone(&Utc),
        LocalResult::None => {
            let before = local.checked_sub_signed(Duration::days(1)).ok_or_else(timestamp_out_of_range)?;
            let offset = tz.offset_from_utc_datetime(&before).fix().local_minus_utc();
            let utc =
                local.checked_sub_signed(Duration::seconds(i64::from(offset))).ok_or_else(timestamp_out_of_range)?;
            utc.and_utc()
        }
    };
    Ok(instant.timestamp_micros())
}

// ---------------------------------------------------------------------------------------------
// Binary
// ---------------------------------------------------------------------------------------------

pub(crate) fn write_date_binary(days: i32, out: &mut Vec<u8>) -> Result<()> {
    let pg = days.checked_sub(PG_EPOCH_DAYS).ok_or_else(date_out_of_range)?;
    out.extend_from_slice(&pg.to_be_bytes());
    Ok(())
}

pub(crate) fn write_timestamp_binary(ns: i128, out: &mut Vec<u8>) -> Result<()> {
    let micros =
        i64::try_from(ns.div_euclid(1000) - i128::from(PG_EPOCH_MICROS)).map_err(|_| timestamp_out_of_range())?;
    out.extend_from_slice(&micros.to_be_bytes());
    Ok(())
}

/// Days since 1970-01-01 from Postgres' days since 2000-01-01.
pub(crate) fn read_date_binary(pg_days: i32) -> Result<i32> {
    let days = pg_days.checked_add(PG_EPOCH_DAYS).ok_or_else(date_out_of_range)?;
    date_of_days(days)?;
    Ok(days)
}

/// Microseconds since 1970 from Postgres' microseconds since 2000.
pub(crate) fn read_timestamp_binary(pg_micros: i64) -> Result<i64> {
    pg_micros
        .checked_add(PG_EPOCH_MICROS)
        .filter(|m| DateTime::from_timestamp_micros(*m).is_some())
        .ok_or_else(timestamp_out_of_range)
}

pub(crate) fn read_time_binary(micros: i64) -> Result<i64> {
    if (0..=MICROS_PER_DAY).contains(&micros) {
        Ok(micros)
    } else {
        Err(invalid("time out of range"))
    }
}
