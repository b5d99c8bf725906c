//! interval: Postgres' `postgres` IntervalStyle output, its verbose / SQL-standard / ISO 8601
//! input, and its binary format.

use super::invalid;
use crate::error::Result;

const NANOS_PER_MICRO: i64 = 1_000;
const MICROS_PER_SEC: f64 = 1_000_000.0;
const MICROS_PER_DAY: f64 = 86_400.0 * MICROS_PER_SEC;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interval {
    pub months: i32,
    pub days: i32,
    pub nanos: i64,
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/// `1 year 2 mons 3 days 04:05:06.789`: each non-zero field with its own sign, a `+` on a positive
/// field after a negative one, and the time when non-zero or when everything is zero.
pub(crate) fn write_interval(iv: &Interval, out: &mut String) {
    let mut is_zero = true;
    let mut is_before = false;
    let mut part = |value: i32, unit: &str, out: &mut String| {
        if value == 0 {
            return;
        }
        if !is_zero {
            out.push(' ');
        }
        if is_before && value > 0 {
            out.push('+');
        }
        out.push_str(&format!("{value} {unit}{}", if value != 1 { "s" } else { "" }));
        is_before = value < 0;
        is_zero = false;
    };
    part(iv.months / 12, "year", out);
    part(iv.months % 12, "mon", out);
    part(iv.days, "day", out);
    if is_zero || iv.nanos != 0 {
        if !is_zero {
            out.push(' ');
        }
        if iv.nanos < 0 {
            out.push('-');
        } else if is_before {
            out.push('+');
        }
        let abs = iv.nanos.unsigned_abs();
        let secs = abs / 1_000_000_000;
        let frac = abs % 1_000_000_000;
        out.push_str(&format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60));
        if frac != 0 {
            let digits = format!("{frac:09}");
            out.push('.');
            out.push_str(digits.trim_end_matches('0'));
        }
    }
}

/// Microseconds (truncated), days, months, as Postgres interval_send.
pub(crate) fn write_interval_binary(iv: &Interval, out: &mut Vec<u8>) {
    out.extend_from_slice(&(iv.nanos / NANOS_PER_MICRO).to_be_bytes());
    out.extend_from_slice(&iv.days.to_be_bytes());
    out.extend_from_slice(&iv.months.to_be_bytes());
}

pub(crate) fn read_interval_binary(micros: i64, days: i32, months: i32) -> Result<Interval> {
    let nanos = micros.checked_mul(NANOS_PER_MICRO).ok_or_else(|| invalid("interval out of range"))?;
    Ok(Interval { months, days, nanos })
}

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

/// Running totals while reading an interval; wide so that overflow is detected at the end.
#[derive(Default)]
struct Acc {
    months: i128,
    days: i128,
    micros: i128,
}

impl Acc {
    /// Adds `int + frac` of a unit, cascading the fraction to smaller units as Postgres does
    /// (`1.5 mons` = 1 mon 15 days, `1.3 years` = 1 year 4 mons).
    fn add(&mut self, unit: Unit, int: i64, frac: f64) {
        let int = i128::from(int);
        let micros_of = |unit_micros: f64| (frac * unit_micros).round() as i128;
        match unit {
            Unit::Micros => self.micros += int + micros_of(1.0),
            Unit::Millis => self.micros += int * 1_000 + micros_of(1_000.0),
            Unit::Seconds => self.micros += int * 1_000_000 + micros_of(MICROS_PER_SEC),
            Unit::Minutes => self.micros += int * 60_000_000 + micros_of(60.0 * MICROS_PER_SEC),
            Unit::Hours => self.micros += int * 3_600_000_000 + micros_of(3600.0 * MICROS_PER_SEC),
            Unit::Days => {
                self.days += int;
                self.micros += micros_of(MICROS_PER_DAY);
            }
            Unit::Weeks => {
                self.days += int * 7;
                self.add_fract_days(frac * 7.0);
            }
            Unit::Months => {
                self.months += int;
                self.add_fract_days(frac * 30.0);
            }
            Unit::Years(n) => {
                self.months += int * 12 * i128::from(n);
                self.months += (frac * 12.0 * f64::from(n)).round() as i128;
            }
        }
    }

    fn add_fract_days(&mut self, days: f64) {
        let whole = days.trunc();
        self.days += whole as i128;
        self.micros += ((days - whole) * MICROS_PER_DAY).round() as i128;
    }

    fn negate(&mut self) {
        self.months = -self.months;
        self.days = -self.days;
        self.micros = -self.micros;
    }

    fn finish(self, input: &str) -> Result<Interval> {
        let range = || invalid(format!("interval field value out of range: \"{input}\""));
        Ok(Interval {
            months: i32::try_from(self.months).map_err(|_| range())?,
            days: i32::try_from(self.days).map_err(|_| range())?,
            nanos: i64::try_from(self.micros * i128::from(NANOS_PER_MICRO)).map_err(|_| range())?,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Unit {
    Micros,
    Millis,
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
    Months,
    /// Years times the multiplier (decades, centuries, millennia).
    Years(u16),
}

fn unit_of(word: &str) -> Option<Unit> {
    Some(match word.to_ascii_lowercase().as_str() {
        "us" | "usec" | "usecs" | "microsecond" | "microseconds" | "useconds" | "microsecon" => Unit::Micros,
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" | "mseconds" | "millisecon" => Unit::Millis,
        "s" | "sec" | "secs" | "second" | "seconds" => Unit::Seconds,
        "m" | "min" | "mins" | "minute" | "minutes" => Unit::Minutes,
        "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Hours,
        "d" | "day" | "days" => Unit::Days,
        "w" | "week" | "weeks" => Unit::Weeks,
        "mon" | "mons" | "month" | "months" => Unit::Months,
        "y" | "yr" | "yrs" | "year" | "years" => Unit::Years(1),
        "dec" | "decs" | "decade" | "decades" => Unit::Years(10),
        "c" | "cent" | "century" | "centuries" => Unit::Years(100),
        "mil" | "mils" | "millennium" | "millennia" | "millenniums" => Unit::Years(1000),
        _ => return None,
    })
}

#[derive(Debug, PartialEq)]
enum Token {
    /// A signed decimal number, split into its integer part and (same-signed) fraction.
    Number {
        int: i64,
        frac: f64,
    },
    /// `[+-]H:M[:S[.f]]` (or `M:S.f`) as signed microseconds.
    Time(i128),
    /// SQL-standard `[+-]Y-M` as signed months.
    YearMonth(i128),
    Word(String),
}

pub(crate) fn parse_interval(input: &str) -> Result<Interval> {
    let syntax = || invalid(format!("invalid input syntax for type interval: \"{input}\""));
    let s = input.trim_matches(|c: char| c.is_ascii_whitespace());
    if s.is_empty() {
        return Err(syntax());
    }
    if s.starts_with(['P', 'p']) {
        return parse_iso8601(&s[1..], input);
    }
    let tokens = tokenize(s.strip_prefix('@').unwrap_or(s)).ok_or_else(syntax)?;
    let mut acc = Acc::default();
    let mut ago = false;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Number { int, frac } => {
                let next = tokens.get(i + 1);
                match next {
                    Some(Token::Word(w)) => {
                        let unit = unit_of(w).ok_or_else(syntax)?;
                        acc.add(unit, *int, *frac);
                        i += 2;
                        continue;
                    }
                    // `1 2:03:04`: a bare number before a time is days.
                    Some(Token::Time(_)) => acc.add(Unit::Days, *int, *frac),
                    // Otherwise a bare number is seconds.
                    _ => acc.add(Unit::Seconds, *int, *frac),
                }
            }
            Token::Time(micros) => acc.micros += micros,
            Token::YearMonth(months) => acc.months += months,
            Token::Word(w) if w.eq_ignore_ascii_case("ago") && i + 1 == tokens.len() => ago = true,
            Token::Word(_) => return Err(syntax()),
        }
        i += 1;
    }
    if ago {
        acc.negate();
    }
    acc.finish(input)
}

fn tokenize(s: &str) -> Option<Vec<Token>> {
    let b = s.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            tokens.push(Token::Word(s[start..i].to_owned()));
        } else if c.is_ascii_digit() || c == b'+' || c == b'-' || c == b'.' {
            let start = i;
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || b".:".contains(&b[i]) || (b[i] == b'-' && i > start)) {
                i += 1;
            }
            tokens.push(number_token(&s[start..i])?);
        } else {
            return None;
        }
    }
    Some(tokens)
}

fn number_token(text: &str) -> Option<Token> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let sign: i128 = if neg { -1 } else { 1 };
    if body.contains(':') {
        return Some(Token::Time(sign * time_micros(body)?));
    }
    if let Some((y, m)) = body.split_once('-') {
        let (y, m): (i128, i128) = (plain_int(y)?.into(), plain_int(m)?.into());
        return Some(Token::YearMonth(sign * (y * 12 + m)));
    }
    let (int, frac) = split_number(body)?;
    Some(if neg { Token::Number { int: -int, frac: -frac } } else { Token::Number { int, frac } })
}

fn plain_int(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `12.25` into (12, 0.25); at least one digit.
fn split_number(s: &str) -> Option<(i64, f64)> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if (int.is_empty() && frac.is_empty()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = if int.is_empty() { 0 } else { plain_int(int)? };
    let frac = if frac.is_empty() { 0.0 } else { format!("0.{frac}").parse().ok()? };
    Some((int, frac))
}

/// `H:M`, `H:M:S[.f]`, or `M:S.f` (two fields with a fraction are minutes and seconds).
fn time_micros(s: &str) -> Option<i128> {
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [a, b] if b.contains('.') => ("0", *a, *b),
        [a, b] => (*a, *b, "0"),
        [a, b, c] => (*a, *b, *c),
        _ => return None,
    };
    let (h, m): (i128, i128) = (plain_int(h)?.into(), plain_int(m)?.into());
    let (sec, frac) = split_number(sec)?;
    if m > 59 || sec > 59 {
        return None;
    }
    Some((h * 3600 + m * 60 + i128::from(sec)) * 1_000_000 + (frac * MICROS_PER_SEC).round() as i128)
}

/// ISO 8601 `PnYnMnWnDTnHnMnS` (after the `P`); each number may be signed and fractional.
fn parse_iso8601(s: &str, input: &str) -> Result<Interval> {
    let syntax = || invalid(format!("invalid input syntax for type interval: \"{input}\""));
    let b = s.as_bytes();
    let mut acc = Acc::default();
    let mut in_time = false;
    let mut i = 0;
    if b.is_empty() {
        return Err(syntax());
    }
    while i < b.len() {
        if b[i] == b'T' || b[i] == b't' {
            if in_time {
                return Err(syntax());
            }
            in_time = true;
            i += 1;
            continue;
        }
        let start = i;
        if b[i] == b'+' || b[i] == b'-' {
            i += 1;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        let number = &s[start..i];
        let Some(Token::Number { int, frac }) = number_token(number) else {
            return Err(syntax());
        };
        let designator = b.get(i).ok_or_else(syntax)?.to_ascii_uppercase();
        i += 1;
        let unit = match (designator, in_time) {
            (b'Y', false) => Unit::Years(1),
            (b'M', false) => Unit::Months,
            (b'W', false) => Unit::Weeks,
            (b'D', false) => Unit::Days,
            (b'H', true) => Unit::Hours,
            (b'M', true) => Unit::Minutes,
            (b'S', true) => Unit::Seconds,
            _ => return Err(syntax()),
        };
        acc.add(unit, int, frac);
    }
    acc.finish(input)
}
