//! Text input of each type as Postgres reads it (what `'...'::type` does).

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use datafusion::common::Result;

use super::err::{exec, invalid_input, out_of_range};
use super::tz::{parse_offset, parse_zone, Zone};

/// Numeric NaN and ±Infinity: Postgres has them, Decimal128 cannot hold them.
pub(crate) fn numeric_nan_unsupported() -> datafusion::common::DataFusionError {
    datafusion::common::DataFusionError::NotImplemented("numeric NaN/Infinity".into())
}

pub(crate) fn parse_i64(s: &str, type_name: &str, min: i64, max: i64) -> Result<i64> {
    let t = s.trim();
    match t.parse::<i64>() {
        Ok(v) if v >= min && v <= max => Ok(v),
        Ok(_) => Err(exec(format!("value \"{t}\" is out of range for type {type_name}"))),
        Err(e) => match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                Err(exec(format!("value \"{t}\" is out of range for type {type_name}")))
            }
            // The Rust wording is kept at the end: RisingWave reports it and its tests match on it.
            _ => Err(exec(format!("invalid input syntax for type {type_name}: \"{s}\": {e}"))),
        },
    }
}

pub(crate) fn parse_bool(s: &str) -> Result<bool> {
    let t = s.trim().to_ascii_lowercase();
    let is_prefix = |word: &str, min: usize| t.len() >= min && word.starts_with(t.as_str());
    if is_prefix("true", 1) || is_prefix("yes", 1) || t == "on" || t == "1" {
        Ok(true)
    } else if is_prefix("false", 1) || is_prefix("no", 1) || is_prefix("off", 2) || t == "0" {
        Ok(false)
    } else {
        Err(invalid_input("boolean", s))
    }
}

pub(crate) fn parse_f64(s: &str, type_name: &str) -> Result<f64> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        "nan" | "+nan" | "-nan" => f64::NAN,
        _ => {
            if !t
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            {
                return Err(invalid_input(type_name, s));
            }
            t.parse::<f64>().map_err(|_| invalid_input(type_name, s))?
        }
    };
    if v.is_infinite() && !lower.contains("inf") {
        return Err(out_of_range(type_name));
    }
    Ok(v)
}

pub(crate) fn parse_f32(s: &str) -> Result<f32> {
    let v = parse_f64(s, "real")?;
    let f = v as f32;
    if f.is_infinite() && v.is_finite() {
        return Err(out_of_range("real"));
    }
    Ok(f)
}

/// Parses a decimal to the integer representation at `scale`, rounding half away from zero.
/// NaN and Infinity are refused: Decimal128 cannot hold them.
pub(crate) fn parse_decimal(s: &str, precision: u8, scale: i8) -> Result<i128> {
    let t = s.trim();
    let bad = || invalid_input("numeric", s);
    let lower = t.to_ascii_lowercase();
    if matches!(lower.trim_start_matches(['+', '-']), "inf" | "infinity" | "nan") {
        return Err(numeric_nan_unsupported());
    }
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(k) => (&body[..k], body[k + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (body, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let digits: String = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    // value = digits * 10^(exp - frac.len()); we want value * 10^scale.
    let shift = exp as i64 - frac.len() as i64 + scale as i64;
    let overflow = || {
        exec(format!(
            "numeric field overflow: value \"{t}\" doesn't fit numeric({precision},{scale})"
        ))
    };
    let mut v: i128 = 0;
    let cut = if shift < 0 { (-shift) as usize } else { 0 };
    let (keep, dropped) = if cut > digits.len() {
        ("", "")
    } else {
        digits.split_at(digits.len() - cut)
    };
    for b in keep.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((b - b'0') as i128))
            .ok_or_else(overflow)?;
    }
    if shift > 0 && v != 0 {
        for _ in 0..shift {
            v = v.checked_mul(10).ok_or_else(overflow)?;
        }
    }
    if dropped.as_bytes().first().is_some_and(|b| *b >= b'5') {
        v = v.checked_add(1).ok_or_else(overflow)?;
    }
    if v != 0 && v.unsigned_abs() >= 10u128.pow(precision as u32) {
        return Err(overflow());
    }
    Ok(if neg { -v } else { v })
}

fn parse_fraction_nanos(f: &str) -> Option<u32> {
    if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: String = f.chars().take(9).collect();
    while digits.len() < 9 {
        digits.push('0');
    }
    let mut n: u32 = digits.parse().ok()?;
    // Postgres keeps microseconds and rounds the rest.
    if f.len() > 9 && f.as_bytes()[9] >= b'5' {
        n += 1;
    }
    Some(n)
}

/// `HH:MM[:SS[.fff]]`, also `24:00:00`. Returns nanoseconds since midnight (up to one full day).
fn parse_time_nanos(t: &str) -> Option<i64> {
    let mut it = t.split(':');
    let h: i64 = it.next()?.trim().parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let (s, nanos) = match it.next() {
        None => (0, 0),
        Some(sec) => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
            let s: i64 = whole.parse().ok()?;
            let n = if frac.is_empty() {
                0
            } else {
                parse_fraction_nanos(frac)? as i64
            };
            (s, n)
        }
    };
    if it.next().is_some() || !(0..=24).contains(&h) || !(0..60).contains(&m) || !(0..=60).contains(&s) {
        return None;
    }
    let total = ((h * 60 + m) * 60 + s) * 1_000_000_000 + nanos;
    if total > 86_400 * 1_000_000_000 {
        return None;
    }
    Some(total)
}

pub(crate) fn parse_time(s: &str) -> Result<NaiveTime> {
    let t = s.trim();
    // A date or zone around the time is accepted and ignored, as Postgres does.
    let (_, rest) = split_date(t);
    let core = rest.trim();
    let core = core.split([' ', '+', 'Z']).next().unwrap_or("");
    let core = match core.find('-') {
        Some(k) if k > 0 => &core[..k],
        _ => core,
    };
    let n = parse_time_nanos(core).ok_or_else(|| invalid_input("time", s))?;
    let n = n.min(86_400 * 1_000_000_000 - 1);
    NaiveTime::from_num_seconds_from_midnight_opt((n / 1_000_000_000) as u32, (n % 1_000_000_000) as u32)
        .ok_or_else(|| invalid_input("time", s))
}

/// Splits a leading `YYYY-MM-DD` (or `YYYY/MM/DD`) off, returning the date if there is one.
fn split_date(t: &str) -> (Option<(i32, u32, u32)>, &str) {
    let bytes = t.as_bytes();
    let mut k = 0;
    if k < bytes.len() && (bytes[k] == b'-' || bytes[k] == b'+') {
        k += 1;
    }
    let start = k;
    while k < bytes.len() && bytes[k].is_ascii_digit() {
        k += 1;
    }
    if k == start || k >= bytes.len() || !(bytes[k] == b'-' || bytes[k] == b'/') || k - start < 3 {
        return (None, t);
    }
    let sep = bytes[k];
    let year: Option<i32> = t[..k].parse().ok();
    let rest = &t[k + 1..];
    let mut parts = rest.splitn(2, sep as char);
    let month = parts.next().and_then(|m| m.parse::<u32>().ok());
    let tail = parts.next().unwrap_or("");
    let dl = tail.bytes().take_while(|b| b.is_ascii_digit()).count();
    let day = tail[..dl].parse::<u32>().ok();
    match (year, month, day) {
        (Some(y), Some(m), Some(d)) => (Some((y, m, d)), &tail[dl..]),
        _ => (None, t),
    }
}

fn make_date(y: i32, m: u32, d: u32, bc: bool) -> Option<NaiveDate> {
    let y = if bc { 1 - y } else { y };
    NaiveDate::from_ymd_opt(y, m, d)
}

/// A timestamp as text: date, optional time, optional zone, optional `BC`.
/// Returns the wall-clock time and the zone if the text names one.
pub(crate) fn parse_datetime(s: &str, type_name: &str) -> Result<(NaiveDateTime, Option<Zone>)> {
    let bad = || invalid_input(type_name, s);
    let mut t = s.trim();
    let lower = t.to_ascii_lowercase();
    match lower.as_str() {
        "epoch" => {
            return Ok((
                NaiveDate::from_ymd_opt(1970, 1, 1)
                    .ok_or_else(bad)?
                    .and_time(NaiveTime::MIN),
                Some(Zone::utc()),
            ))
        }
        "infinity" | "-infinity" | "+infinity" => {
            return Err(exec(format!(
                "timestamp value \"{t}\" is not supported (infinite timestamps can't be stored)"
            )))
        }
        _ => {}
    }
    let mut bc = false;
    if lower.ends_with(" bc") {
        bc = true;
        t = t[..t.len() - 3].trim_end();
    } else if lower.ends_with(" ad") {
        t = t[..t.len() - 3].trim_end();
    }
    let (date, rest) = split_date(t);
    let (y, m, d) = date.ok_or_else(bad)?;
    let date = make_date(y, m, d, bc).ok_or_else(|| exec(format!("date/time field value out of range: \"{s}\"")))?;
    let mut rest = rest.trim_start();
    if let Some(r) = rest.strip_prefix(['T', 't']) {
        rest = r;
    }
    // Time: digits, colons and a fraction.
    let tl = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b':' || *b == b'.')
        .count();
    let (time_part, zone_part) = rest.split_at(tl);
    let mut dt = date.and_time(NaiveTime::MIN);
    if !time_part.is_empty() {
        let n = parse_time_nanos(time_part).ok_or_else(bad)?;
        dt += Duration::nanoseconds(n);
    }
    let z = zone_part.trim();
    let zone = if z.is_empty() {
        None
    } else if let Some(off) = parse_offset(z) {
        Some(Zone::Fixed(off))
    } else {
        Some(parse_zone(z).ok_or_else(bad)?)
    };
    Ok((dt, zone))
}

pub(crate) fn parse_date(s: &str) -> Result<NaiveDate> {
    Ok(parse_datetime(s, "date")?.0.date())
}

/// An interval in Postgres' input syntax: `1 year 2 mons`, `3 days 04:05:06.7`, `-1 day -2 hours`,
/// `1.5 days`, `10` (seconds), `@ 1 day ago`. Returns (months, days, nanoseconds).
pub(crate) fn parse_interval(s: &str) -> Result<(i32, i32, i64)> {
    let bad = || invalid_input("interval", s);
    let mut text = s.trim().to_ascii_lowercase();
    let mut ago = false;
    if let Some(r) = text.strip_prefix('@') {
        text = r.trim().to_string();
    }
    if let Some(r) = text.strip_suffix("ago") {
        ago = true;
        text = r.trim().to_string();
    }
    if text.is_empty() {
        return Err(bad());
    }
    let (mut months, mut days, mut nanos) = (0f64, 0f64, 0f64);
    let mut it = text.chars().peekable();
    let mut tokens: Vec<String> = vec![];
    while let Some(&c) = it.peek() {
        if c.is_whitespace() || c == ',' {
            it.next();
            continue;
        }
        let mut tok = String::new();
        if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' || c == ':' {
            while let Some(&c) = it.peek() {
                if c.is_ascii_digit() || c == '.' || c == ':' || (tok.is_empty() && (c == '-' || c == '+')) {
                    tok.push(c);
                    it.next();
                } else {
                    break;
                }
            }
        } else {
            while let Some(&c) = it.peek() {
                if c.is_alphabetic() {
                    tok.push(c);
                    it.next();
                } else {
                    break;
                }
            }
        }
        if tok.is_empty() {
            return Err(bad());
        }
        tokens.push(tok);
    }
    let mut i = 0;
    while i < tokens.len() {
        let tok = &tokens[i];
        if tok.contains(':') {
            let (neg, body) = match tok.as_bytes()[0] {
                b'-' => (true, &tok[1..]),
                b'+' => (false, &tok[1..]),
                _ => (false, tok.as_str()),
            };
            let parts: Vec<&str> = body.split(':').collect();
            if parts.len() < 2 || parts.len() > 3 {
                return Err(bad());
            }
            let h: f64 = parts[0].parse().map_err(|_| bad())?;
            let m: f64 = parts[1].parse().map_err(|_| bad())?;
            let sec: f64 = if parts.len() == 3 {
                parts[2].parse().map_err(|_| bad())?
            } else {
                0.0
            };
            let v = (h * 3600.0 + m * 60.0 + sec) * 1e9;
            nanos += if neg { -v } else { v };
            i += 1;
            continue;
        }
        let num: f64 = tok.parse().map_err(|_| bad())?;
        let unit = tokens.get(i + 1).filter(|u| u.chars().all(|c| c.is_alphabetic()));
        let unit = match unit {
            Some(u) => {
                i += 2;
                u.as_str()
            }
            None => {
                i += 1;
                "second"
            }
        };
        const DAY_NS: f64 = 86_400e9;
        match unit {
            "microsecond" | "microseconds" | "us" | "usec" | "usecs" => nanos += num * 1e3,
            "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => nanos += num * 1e6,
            "second" | "seconds" | "s" | "sec" | "secs" => nanos += num * 1e9,
            "minute" | "minutes" | "m" | "min" | "mins" => nanos += num * 60e9,
            "hour" | "hours" | "h" | "hr" | "hrs" => nanos += num * 3600e9,
            "day" | "days" | "d" => {
                days += num.trunc();
                nanos += num.fract() * DAY_NS;
            }
            "week" | "weeks" | "w" => {
                let d = num * 7.0;
                days += d.trunc();
                nanos += d.fract() * DAY_NS;
            }
            "month" | "months" | "mon" | "mons" => {
                months += num.trunc();
                let d = num.fract() * 30.0;
                days += d.trunc();
                nanos += d.fract() * DAY_NS;
            }
            "year" | "years" | "y" | "yr" | "yrs" => months += (num * 12.0).round(),
            "decade" | "decades" => months += (num * 120.0).round(),
            "century" | "centuries" => months += (num * 1200.0).round(),
            "millennium" | "millennia" | "millenniums" => months += (num * 12000.0).round(),
            _ => return Err(bad()),
        }
    }
    if ago {
        months = -months;
        days = -days;
        nanos = -nanos;
    }
    let fits = |v: f64| v >= i32::MIN as f64 && v <= i32::MAX as f64;
    if !fits(months) || !fits(days) || !(nanos.abs() < 9.2e18) {
        return Err(exec(format!("interval field value out of range: \"{s}\"")));
    }
    // Whole microseconds, as Postgres keeps them.
    let micros = (nanos / 1e3).round() as i64;
    Ok((months as i32, days as i32, micros * 1000))
}

/// `\x` hex format (whitespace between bytes allowed) or the escape format (`\\`, `\ooo`).
pub(crate) fn parse_bytea(s: &str) -> Result<Vec<u8>> {
    let bad = || invalid_input("bytea", s);
    if let Some(hex) = s.strip_prefix("\\x").or_else(|| s.strip_prefix("\\X")) {
        let mut out = vec![];
        let mut hi: Option<u8> = None;
        for c in hex.chars() {
            if c.is_ascii_whitespace() && hi.is_none() {
                continue;
            }
            let d = c
                .to_digit(16)
                .ok_or_else(|| exec(format!("invalid hexadecimal digit: \"{c}\"")))? as u8;
            match hi.take() {
                None => hi = Some(d),
                Some(h) => out.push(h << 4 | d),
            }
        }
        if hi.is_some() {
            return Err(exec("invalid hexadecimal data: odd number of digits"));
        }
        return Ok(out);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if i + 3 < b.len() + 0
            && (b'0'..=b'3').contains(&b[i + 1])
            && (b'0'..=b'7').contains(&b[i + 2])
            && (b'0'..=b'7').contains(&b[i + 3])
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            return Err(bad());
        }
    }
    Ok(out)
}

/// A parsed array literal: elements are texts (NULL as `None`) or nested arrays.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ArrayLit {
    Elem(Option<String>),
    Array(Vec<ArrayLit>),
}

/// Parses `{1, 2, "a b", NULL, {3}}`.
pub(crate) fn parse_array(s: &str, type_name: &str) -> Result<Vec<ArrayLit>> {
    let chars: Vec<char> = s.trim().chars().collect();
    let bad = || exec(format!("malformed array literal: \"{s}\" (for type {type_name})"));
    let mut pos = 0;
    let out = parse_array_at(&chars, &mut pos).ok_or_else(bad)?;
    if chars[pos..].iter().any(|c| !c.is_whitespace()) {
        return Err(bad());
    }
    Ok(out)
}

fn parse_array_at(c: &[char], pos: &mut usize) -> Option<Vec<ArrayLit>> {
    let skip_ws = |pos: &mut usize| {
        while *pos < c.len() && c[*pos].is_whitespace() {
            *pos += 1;
        }
    };
    skip_ws(pos);
    if c.get(*pos) != Some(&'{') {
        return None;
    }
    *pos += 1;
    let mut items = vec![];
    skip_ws(pos);
    if c.get(*pos) == Some(&'}') {
        *pos += 1;
        return Some(items);
    }
    loop {
        skip_ws(pos);
        match c.get(*pos)? {
            '{' => items.push(ArrayLit::Array(parse_array_at(c, pos)?)),
            '"' => {
                *pos += 1;
                let mut t = String::new();
                loop {
                    match c.get(*pos)? {
                        '"' => {
                            *pos += 1;
                            break;
                        }
                        '\\' => {
                            t.push(*c.get(*pos + 1)?);
                            *pos += 2;
                        }
                        ch => {
                            t.push(*ch);
                            *pos += 1;
                        }
                    }
                }
                items.push(ArrayLit::Elem(Some(t)));
            }
            _ => {
                let mut t = String::new();
                while let Some(&ch) = c.get(*pos) {
                    if ch == ',' || ch == '}' {
                        break;
                    }
                    if ch == '{' || ch == '"' {
                        return None;
                    }
                    if ch == '\\' {
                        t.push(*c.get(*pos + 1)?);
                        *pos += 2;
                        continue;
                    }
                    t.push(ch);
                    *pos += 1;
                }
                let t = t.trim().to_string();
                if t.is_empty() {
                    return None;
                }
                items.push(ArrayLit::Elem(if t.eq_ignore_ascii_case("null") {
                    None
                } else {
                    Some(t)
                }));
            }
        }
        skip_ws(pos);
        match c.get(*pos)? {
            ',' => *pos += 1,
            '}' => {
                *pos += 1;
                return Some(items);
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("1.23e-3", 38, 10).unwrap(), 12_300_000);
        assert_eq!(parse_decimal(" 2. ", 38, 10).unwrap(), 20_000_000_000);
        assert_eq!(parse_decimal("-0.5", 10, 0).unwrap(), -1);
        assert_eq!(parse_decimal("0.45", 10, 1).unwrap(), 5);
        assert_eq!(parse_decimal("0.04", 10, 1).unwrap(), 0);
        assert_eq!(parse_decimal("0.05", 10, 1).unwrap(), 1);
        assert_eq!(parse_decimal("0.0000001", 10, 1).unwrap(), 0);
        assert!(parse_decimal("1e40", 38, 10).is_err());
        assert!(parse_decimal("abc", 38, 10).is_err());
        assert!(parse_decimal("", 38, 10).is_err());
        assert!(parse_decimal(".", 38, 10).is_err());
        assert!(parse_decimal("1e999999999999", 38, 10).is_err());
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("1 day").unwrap(), (0, 1, 0));
        assert_eq!(parse_interval("1 year 2 mons").unwrap(), (14, 0, 0));
        assert_eq!(parse_interval("-23:22:57.124562").unwrap(), (0, 0, -84_177_124_562_000));
        assert_eq!(parse_interval("1.5 days").unwrap(), (0, 1, 43_200_000_000_000));
        assert_eq!(parse_interval("1 s").unwrap(), (0, 0, 1_000_000_000));
        assert_eq!(
            parse_interval("-20459year -256 days  -120hours 866seconds").unwrap().0,
            -245508
        );
        assert!(parse_interval("1 fortnight").is_err());
        assert!(parse_interval("").is_err());
    }

    #[test]
    fn arrays_and_bytea() {
        assert_eq!(
            parse_array("{1, \"a b\", NULL, {2}}", "int[]").unwrap(),
            vec![
                ArrayLit::Elem(Some("1".into())),
                ArrayLit::Elem(Some("a b".into())),
                ArrayLit::Elem(None),
                ArrayLit::Array(vec![ArrayLit::Elem(Some("2".into()))])
            ]
        );
        assert!(parse_array("{1,", "int[]").is_err());
        assert!(parse_array("1,2", "int[]").is_err());
        assert_eq!(parse_bytea("\\x De Ad").unwrap(), vec![0xde, 0xad]);
        assert_eq!(parse_bytea("De\\123d").unwrap(), b"DeSd".to_vec());
        assert!(parse_bytea("\\xDeAdBeEx").is_err());
        assert!(parse_bytea("a\\9").is_err());
    }

    #[test]
    fn datetimes() {
        let (dt, z) = parse_datetime("2022-01-01 12:34:56.5+03:30", "timestamp").unwrap();
        assert_eq!(dt.to_string(), "2022-01-01 12:34:56.500");
        assert!(z.is_some());
        assert!(parse_datetime("2000-13-03", "date").is_err());
        assert!(parse_datetime("00-00-33", "date").is_err());
        assert_eq!(
            parse_datetime("2023-11-05 08:40:00Z", "timestamptz").unwrap().1,
            Some(Zone::utc())
        );
        assert_eq!(parse_time("10:13:36.07").unwrap().to_string(), "10:13:36.070");
    }
}
