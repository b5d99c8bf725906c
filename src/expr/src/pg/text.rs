//! Values as Postgres/RisingWave print them (the text output of each type). `concat`, `||`,
//! `format`, `array_to_string` and casts to varchar all use this.

use std::fmt::Write;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    Int8Type, IntervalMonthDayNanoType, IntervalUnit, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type,
    UInt32Type, UInt64Type, UInt8Type,
};
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use datafusion::common::{Result, ScalarValue};

use super::err::exec;
use super::tz::Zone;

/// How a few types print differently depending on where the text goes.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Style {
    /// The type's output function: `t`/`f` for booleans (concat, ||, format, arrays).
    Output,
    /// An explicit cast to varchar: booleans become `true`/`false`.
    Cast,
}

pub(crate) struct Printer {
    pub zone: Zone,
    pub style: Style,
}

impl Printer {
    pub fn new(zone: Zone, style: Style) -> Self {
        Printer { zone, style }
    }

    /// Text of row `i` of `arr`, `None` when NULL.
    pub fn text(&self, arr: &dyn Array, i: usize) -> Result<Option<String>> {
        if arr.is_null(i) {
            return Ok(None);
        }
        let mut s = String::new();
        self.write(arr, i, &mut s)?;
        Ok(Some(s))
    }

    pub fn scalar_text(&self, v: &ScalarValue) -> Result<Option<String>> {
        if v.is_null() {
            return Ok(None);
        }
        let arr = v.to_array()?;
        self.text(arr.as_ref(), 0)
    }

    /// Writes the (non-NULL) value at row `i`.
    pub fn write(&self, arr: &dyn Array, i: usize, out: &mut String) -> Result<()> {
        match arr.data_type() {
            DataType::Boolean => {
                let b = arr.as_boolean().value(i);
                out.push_str(match (self.style, b) {
                    (Style::Output, true) => "t",
                    (Style::Output, false) => "f",
                    (Style::Cast, true) => "true",
                    (Style::Cast, false) => "false",
                });
            }
            DataType::Int8 => push(out, arr.as_primitive::<Int8Type>().value(i)),
            DataType::Int16 => push(out, arr.as_primitive::<Int16Type>().value(i)),
            DataType::Int32 => push(out, arr.as_primitive::<Int32Type>().value(i)),
            DataType::Int64 => push(out, arr.as_primitive::<Int64Type>().value(i)),
            DataType::UInt8 => push(out, arr.as_primitive::<UInt8Type>().value(i)),
            DataType::UInt16 => push(out, arr.as_primitive::<UInt16Type>().value(i)),
            DataType::UInt32 => push(out, arr.as_primitive::<UInt32Type>().value(i)),
            DataType::UInt64 => push(out, arr.as_primitive::<UInt64Type>().value(i)),
            DataType::Float16 => out.push_str(&format_f32(arr.as_primitive::<Float16Type>().value(i).to_f32())),
            DataType::Float32 => out.push_str(&format_f32(arr.as_primitive::<Float32Type>().value(i))),
            DataType::Float64 => out.push_str(&format_f64(arr.as_primitive::<Float64Type>().value(i))),
            DataType::Decimal128(p, s) => {
                out.push_str(&format_decimal(arr.as_primitive::<Decimal128Type>().value(i), *p, *s))
            }
            DataType::Utf8 => out.push_str(arr.as_string::<i32>().value(i)),
            DataType::LargeUtf8 => out.push_str(arr.as_string::<i64>().value(i)),
            DataType::Utf8View => out.push_str(arr.as_string_view().value(i)),
            DataType::Binary => out.push_str(&format_bytea(arr.as_binary::<i32>().value(i))),
            DataType::LargeBinary => out.push_str(&format_bytea(arr.as_binary::<i64>().value(i))),
            DataType::BinaryView => out.push_str(&format_bytea(arr.as_binary_view().value(i))),
            DataType::Date32 => out.push_str(&format_date(arr.as_primitive::<Date32Type>().value(i))),
            DataType::Time64(TimeUnit::Microsecond) => out.push_str(&format_time_nanos(
                arr.as_primitive::<Time64MicrosecondType>().value(i) * 1000,
            )),
            DataType::Time64(TimeUnit::Nanosecond) => {
                out.push_str(&format_time_nanos(arr.as_primitive::<Time64NanosecondType>().value(i)))
            }
            DataType::Timestamp(unit, tz) => {
                let nanos = timestamp_nanos(arr, i, unit);
                let utc = nanos_to_naive(nanos)?;
                match tz {
                    None => out.push_str(&format_timestamp(&utc)),
                    Some(_) => out.push_str(&format_timestamptz(&utc, &self.zone)),
                }
            }
            DataType::Interval(IntervalUnit::MonthDayNano) => {
                let v = arr.as_primitive::<IntervalMonthDayNanoType>().value(i);
                out.push_str(&format_interval(v.months, v.days, v.nanoseconds));
            }
            DataType::Duration(unit) => {
                let n = duration_nanos(arr, i, unit);
                const DAY: i128 = 86_400_000_000_000;
                let days = (n / DAY) as i32;
                out.push_str(&format_interval(0, days, (n % DAY) as i64));
            }
            DataType::List(_) => {
                let list = arr.as_list::<i32>();
                self.write_list(list.value(i).as_ref(), out)?;
            }
            DataType::LargeList(_) => {
                let list = arr.as_list::<i64>();
                self.write_list(list.value(i).as_ref(), out)?;
            }
            DataType::Struct(_) => {
                let st = arr.as_struct();
                out.push('(');
                for (k, col) in st.columns().iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    if let Some(t) = self.text(col.as_ref(), i)? {
                        tributary_common::pg_value::write_record_field(&t, out);
                    }
                }
                out.push(')');
            }
            DataType::Null => {}
            DataType::Dictionary(_, _) => {
                let arr = arrow::compute::cast(&arr.slice(i, 1), &arr.data_type().clone().dictionary_value_type())?;
                self.write(arr.as_ref(), 0, out)?;
            }
            other => {
                let v = ScalarValue::try_from_array(arr, i)?;
                return Err(exec(format!("cannot print value {v} of type {other}")));
            }
        }
        Ok(())
    }

    /// `{a,b,NULL}`, with Postgres' quoting of elements.
    pub fn write_list(&self, values: &dyn Array, out: &mut String) -> Result<()> {
        out.push('{');
        let nested = matches!(values.data_type(), DataType::List(_) | DataType::LargeList(_));
        for j in 0..values.len() {
            if j > 0 {
                out.push(',');
            }
            if values.is_null(j) {
                out.push_str("NULL");
                continue;
            }
            if nested {
                self.write(values, j, out)?;
                continue;
            }
            let mut t = String::new();
            Printer::new(self.zone, Style::Output).write(values, j, &mut t)?;
            if needs_array_quotes(&t) {
                quote_into(&t, out);
            } else {
                out.push_str(&t);
            }
        }
        out.push('}');
        Ok(())
    }
}

trait DictValue {
    fn dictionary_value_type(self) -> DataType;
}
impl DictValue for DataType {
    fn dictionary_value_type(self) -> DataType {
        match self {
            DataType::Dictionary(_, v) => *v,
            other => other,
        }
    }
}

fn push(out: &mut String, v: impl std::fmt::Display) {
    let _ = write!(out, "{v}");
}

fn needs_array_quotes(t: &str) -> bool {
    t.is_empty()
        || t.eq_ignore_ascii_case("null")
        || t.chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_ascii_whitespace())
}

fn quote_into(t: &str, out: &mut String) {
    out.push('"');
    for c in t.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

fn timestamp_nanos(arr: &dyn Array, i: usize, unit: &TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => arr.as_primitive::<TimestampSecondType>().value(i) as i128 * 1_000_000_000,
        TimeUnit::Millisecond => arr.as_primitive::<TimestampMillisecondType>().value(i) as i128 * 1_000_000,
        TimeUnit::Microsecond => arr.as_primitive::<TimestampMicrosecondType>().value(i) as i128 * 1_000,
        TimeUnit::Nanosecond => arr.as_primitive::<TimestampNanosecondType>().value(i) as i128,
    }
}

fn duration_nanos(arr: &dyn Array, i: usize, unit: &TimeUnit) -> i128 {
    use arrow::datatypes::{
        DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    };
    match unit {
        TimeUnit::Second => arr.as_primitive::<DurationSecondType>().value(i) as i128 * 1_000_000_000,
        TimeUnit::Millisecond => arr.as_primitive::<DurationMillisecondType>().value(i) as i128 * 1_000_000,
        TimeUnit::Microsecond => arr.as_primitive::<DurationMicrosecondType>().value(i) as i128 * 1_000,
        TimeUnit::Nanosecond => arr.as_primitive::<DurationNanosecondType>().value(i) as i128,
    }
}

fn nanos_to_naive(n: i128) -> Result<NaiveDateTime> {
    let secs = n.div_euclid(1_000_000_000);
    let sub = n.rem_euclid(1_000_000_000) as u32;
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, sub))
        .map(|d| d.naive_utc())
        .ok_or_else(|| exec("timestamp out of range"))
}

/// Shortest text that reads back as the same `f64`, in Postgres' layout (`1e+100`, `Infinity`).
pub(crate) fn format_f64(v: f64) -> String {
    format_float(v.is_nan(), v.is_infinite(), v.is_sign_negative(), &format!("{v:e}"), 15)
}

pub(crate) fn format_f32(v: f32) -> String {
    format_float(v.is_nan(), v.is_infinite(), v.is_sign_negative(), &format!("{v:e}"), 6)
}

fn format_float(nan: bool, inf: bool, neg: bool, sci: &str, digits: i32) -> String {
    if nan {
        return "NaN".into();
    }
    if inf {
        return if neg { "-Infinity".into() } else { "Infinity".into() };
    }
    // `sci` is Rust's shortest round-trip form, e.g. `-1.2345e-7`.
    let (mant, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mant) = match mant.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mant),
    };
    let digs: String = mant.chars().filter(|c| *c != '.').collect();
    if digs == "0" {
        return format!("{sign}0");
    }
    if exp < -4 || exp >= digits {
        let m = if digs.len() > 1 {
            format!("{}.{}", &digs[..1], &digs[1..])
        } else {
            digs.clone()
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{esign}{:02}", exp.abs());
    }
    let n = digs.len() as i32;
    if exp < 0 {
        format!("{sign}0.{}{}", "0".repeat((-exp - 1) as usize), digs)
    } else if exp + 1 >= n {
        format!("{sign}{}{}", digs, "0".repeat((exp + 1 - n) as usize))
    } else {
        let k = (exp + 1) as usize;
        format!("{sign}{}.{}", &digs[..k], &digs[k..])
    }
}

/// Unconstrained numeric (held at scale 10) prints without trailing zeros; a declared scale prints
/// in full, as Postgres does for `numeric(p, s)`.
pub(crate) fn format_decimal(v: i128, p: u8, s: i8) -> String {
    let full = format_decimal_scale(v, s);
    if (p, s) == (38, 10) {
        trim_decimal_zeros(full)
    } else {
        full
    }
}

pub(crate) fn format_decimal_scale(v: i128, s: i8) -> String {
    if s <= 0 {
        let mut t = v.to_string();
        if v != 0 {
            t.push_str(&"0".repeat((-s) as usize));
        }
        return t;
    }
    let neg = v < 0;
    let digits = v.unsigned_abs().to_string();
    let s = s as usize;
    let padded = if digits.len() <= s {
        format!("{}{}", "0".repeat(s + 1 - digits.len()), digits)
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - s);
    format!("{}{}.{}", if neg { "-" } else { "" }, int, frac)
}

pub(crate) fn trim_decimal_zeros(t: String) -> String {
    if !t.contains('.') {
        return t;
    }
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" {
        "0".into()
    } else {
        t.to_string()
    }
}

pub(crate) fn format_bytea(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + b.len() * 2);
    s.push_str("\\x");
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

fn year_and_era(d: &impl Datelike) -> (i32, bool) {
    let y = d.year();
    if y <= 0 {
        (1 - y, true)
    } else {
        (y, false)
    }
}

pub(crate) fn format_naive_date(d: &NaiveDate) -> String {
    let (y, bc) = year_and_era(d);
    format!(
        "{:04}-{:02}-{:02}{}",
        y,
        d.month(),
        d.day(),
        if bc { " BC" } else { "" }
    )
}

pub(crate) fn format_date(days: i32) -> String {
    match NaiveDate::from_num_days_from_ce_opt(days.saturating_add(719_163)) {
        Some(d) => format_naive_date(&d),
        None => days.to_string(),
    }
}

/// Fraction of a second as RisingWave prints it: none, or 3, 6 or 9 digits.
fn fraction(nanos: u32) -> String {
    if nanos == 0 {
        String::new()
    } else if nanos % 1_000_000 == 0 {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    }
}

pub(crate) fn format_naive_time(t: &NaiveTime) -> String {
    format!(
        "{:02}:{:02}:{:02}{}",
        t.hour(),
        t.minute(),
        t.second(),
        fraction(t.nanosecond())
    )
}

fn format_time_nanos(n: i64) -> String {
    let secs = n.div_euclid(1_000_000_000);
    let sub = n.rem_euclid(1_000_000_000) as u32;
    format!(
        "{:02}:{:02}:{:02}{}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        fraction(sub)
    )
}

pub(crate) fn format_timestamp(t: &NaiveDateTime) -> String {
    let (y, bc) = year_and_era(t);
    format!(
        "{:04}-{:02}-{:02} {}{}",
        y,
        t.month(),
        t.day(),
        format_naive_time(&t.time()),
        if bc { " BC" } else { "" }
    )
}

pub(crate) fn format_timestamptz(utc: &NaiveDateTime, zone: &Zone) -> String {
    let off = zone.offset_at(utc);
    let local = *utc + off;
    let (y, bc) = year_and_era(&local);
    format!(
        "{:04}-{:02}-{:02} {}{}{}",
        y,
        local.month(),
        local.day(),
        format_naive_time(&local.time()),
        Zone::offset_string(off),
        if bc { " BC" } else { "" }
    )
}

/// Postgres' default interval style: `1 year 2 mons 3 days 04:05:06.789`.
pub(crate) fn format_interval(months: i32, days: i32, nanos: i64) -> String {
    let mut parts: Vec<String> = vec![];
    let years = months / 12;
    let mons = months % 12;
    let unit = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if years != 0 {
        parts.push(unit(years as i64, "year", "years"));
    }
    if mons != 0 {
        parts.push(unit(mons as i64, "mon", "mons"));
    }
    if days != 0 {
        parts.push(unit(days as i64, "day", "days"));
    }
    if nanos != 0 || parts.is_empty() {
        let neg = nanos < 0;
        let a = nanos.unsigned_abs();
        let micros = a / 1000;
        let secs = micros / 1_000_000;
        let frac = micros % 1_000_000;
        let mut t = format!(
            "{}{:02}:{:02}:{:02}",
            if neg { "-" } else { "" },
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        if frac != 0 {
            let f = format!("{frac:06}");
            t.push('.');
            t.push_str(f.trim_end_matches('0'));
        }
        parts.push(t);
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        assert_eq!(format_f64(1.5), "1.5");
        assert_eq!(format_f64(-0.0), "-0");
        assert_eq!(format_f64(1e100), "1e+100");
        assert_eq!(format_f64(7.922816251426434e28), "7.922816251426434e+28");
        assert_eq!(format_f64(999999999999999.0), "999999999999999");
        assert_eq!(format_f64(1e15), "1e+15");
        assert_eq!(format_f64(0.0001), "0.0001");
        assert_eq!(format_f64(0.00001), "1e-05");
        assert_eq!(format_f64(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(format_f64(f64::NAN), "NaN");
        assert_eq!(format_f64(3.141592653589793), "3.141592653589793");
        assert_eq!(format_f32(7.9228163e28), "7.9228163e+28");
        assert_eq!(format_f32(999999.0), "999999");
        assert_eq!(format_f32(1e-28), "1e-28");
        assert_eq!(format_f32(1.1), "1.1");
        assert_eq!(format_f64(100.0), "100");
    }

    #[test]
    fn decimals_and_intervals() {
        assert_eq!(format_decimal(15_000_000_000, 38, 10), "1.5");
        assert_eq!(format_decimal(150, 5, 2), "1.50");
        assert_eq!(format_decimal(-5, 5, 2), "-0.05");
        assert_eq!(format_decimal(0, 38, 10), "0");
        assert_eq!(format_interval(0, 1, 3_600_000_000_000), "1 day 01:00:00");
        assert_eq!(
            format_interval(14, -1, -1_000),
            "1 year 2 mons -1 days -00:00:00.000001"
        );
        assert_eq!(format_interval(0, 0, 0), "00:00:00");
    }
}
