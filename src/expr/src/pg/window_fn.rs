//! Time windows (RisingWave's TUMBLE and HOP, which the frontend rewrites into these):
//! `tumble_start(ts, size [, offset])` is the start of the size-aligned window holding `ts`;
//! `hop_window_starts(ts, slide, size [, offset])` lists the starts of every window of length
//! `size`, starting every `slide`, that holds `ts`. Windows are aligned to the Unix epoch
//! shifted by `offset`; timestamps stay timestamps and timestamptz, dates become timestamps.

use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use super::err::{exec, no_function};
use super::func::func;
use super::types::*;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Argument types: the time column (date → timestamp) then intervals.
fn coerce(name: &'static str, min: usize) -> impl Fn(&[DataType]) -> Result<Vec<DataType>> {
    move |t| {
        if t.len() < min || t.len() > min + 1 {
            return Err(no_function(name, t));
        }
        let first = match &t[0] {
            DataType::Timestamp(_, Some(_)) => timestamptz(),
            DataType::Timestamp(_, None) | DataType::Date32 | DataType::Date64 | DataType::Null => TIMESTAMP,
            _ => return Err(no_function(name, t)),
        };
        let mut out = vec![first];
        for a in &t[1..] {
            if !matches!(a, DataType::Interval(_) | DataType::Null) && !is_string(a) {
                return Err(no_function(name, t));
            }
            out.push(INTERVAL);
        }
        Ok(out)
    }
}

/// An interval argument in microseconds; months have no fixed length and are refused.
fn interval_micros(v: &ScalarValue, what: &str, positive: bool) -> Result<i64> {
    let ScalarValue::IntervalMonthDayNano(Some(i)) = v else {
        return Err(exec(format!("invalid {what}: {v}")));
    };
    if i.months != 0 {
        return Err(exec(format!("{what} with months is not supported")));
    }
    let us = (i.days as i64)
        .checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(i.nanoseconds / 1000))
        .ok_or_else(|| exec("interval out of range"))?;
    if positive && us <= 0 {
        return Err(exec(format!("{what} must be positive")));
    }
    Ok(us)
}

fn micros_of(v: &ScalarValue) -> Option<i64> {
    match v {
        ScalarValue::TimestampMicrosecond(Some(x), _) => Some(*x),
        _ => None,
    }
}

fn with_micros(template: &ScalarValue, us: i64) -> ScalarValue {
    match template {
        ScalarValue::TimestampMicrosecond(_, tz) => ScalarValue::TimestampMicrosecond(Some(us), tz.clone()),
        _ => ScalarValue::TimestampMicrosecond(Some(us), None),
    }
}

/// The start of the `size`-long window (aligned to epoch + offset) holding `ts`.
pub(crate) fn window_start(ts: i64, size: i64, offset: i64) -> Result<i64> {
    let rem = ts.checked_sub(offset).ok_or_else(|| exec("timestamp out of range"))?.rem_euclid(size);
    ts.checked_sub(rem).ok_or_else(|| exec("timestamp out of range"))
}

/// The starts of the hop windows holding `ts`, ascending.
pub(crate) fn hop_starts(ts: i64, slide: i64, size: i64, offset: i64) -> Result<Vec<i64>> {
    if size % slide != 0 {
        return Err(exec(format!(
            "Invalid arguments: window_size {} cannot be divided by window_slide {}",
            fmt_micros(size),
            fmt_micros(slide)
        )));
    }
    let units = size / slide;
    let last = window_start(ts, slide, offset)?;
    (0..units)
        .map(|i| {
            (units - 1 - i)
                .checked_mul(slide)
                .and_then(|d| last.checked_sub(d))
                .ok_or_else(|| exec("timestamp out of range"))
        })
        .collect()
}

fn fmt_micros(us: i64) -> String {
    let days = us / MICROS_PER_DAY;
    let rest = us % MICROS_PER_DAY;
    let (h, m, s, frac) = (rest / 3_600_000_000, rest / 60_000_000 % 60, rest / 1_000_000 % 60, rest % 1_000_000);
    let mut out = String::new();
    if days != 0 {
        out.push_str(&format!("{days} day{} ", if days == 1 { "" } else { "s" }));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if frac != 0 {
        out.push_str(&format!(".{frac:06}"));
    }
    out
}

fn tumble_start() -> ScalarUDF {
    func("tumble_start")
        .coerce(coerce("tumble_start", 2))
        .returns(|t| Ok(t[0].clone()))
        .strict(|a, _| {
            let size = interval_micros(&a[1], "window size", true)?;
            let offset = match a.get(2) {
                Some(o) => interval_micros(o, "window offset", false)?,
                None => 0,
            };
            let Some(ts) = micros_of(&a[0]) else { return Ok(ScalarValue::Null) };
            Ok(with_micros(&a[0], window_start(ts, size, offset)?))
        })
}

fn hop_window_starts() -> ScalarUDF {
    func("hop_window_starts")
        .coerce(coerce("hop_window_starts", 3))
        .returns(|t| Ok(list_of(t[0].clone())))
        .strict(|a, ctx| {
            let slide = interval_micros(&a[1], "window slide", true)?;
            let size = interval_micros(&a[2], "window size", true)?;
            let offset = match a.get(3) {
                Some(o) => interval_micros(o, "window offset", false)?,
                None => 0,
            };
            let Some(ts) = micros_of(&a[0]) else { return Ok(ScalarValue::Null) };
            let starts: Vec<ScalarValue> =
                hop_starts(ts, slide, size, offset)?.into_iter().map(|s| with_micros(&a[0], s)).collect();
            let elem = list_elem(ctx.ret).cloned().unwrap_or(TIMESTAMP);
            Ok(ScalarValue::List(ScalarValue::new_list_nullable(&starts, &elem)))
        })
}

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![tumble_start(), hop_window_starts()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000;

    #[test]
    fn starts() {
        assert_eq!(window_start(90 * 60_000_000, H, 0).unwrap(), H);
        assert_eq!(window_start(-1, H, 0).unwrap(), -H);
        assert_eq!(window_start(90 * 60_000_000, H, 15 * 60_000_000).unwrap(), 75 * 60_000_000);
        assert_eq!(hop_starts(90 * 60_000_000, 30 * 60_000_000, H, 0).unwrap(), vec![60 * 60_000_000, 90 * 60_000_000]);
        assert_eq!(hop_starts(H, H, 3 * H, 0).unwrap(), vec![-H, 0, H]);
        let e = hop_starts(0, 40 * 60_000_000, H, 0).unwrap_err().to_string();
        assert!(e.contains("window_size 01:00:00 cannot be divided by window_slide 00:40:00"), "{e}");
    }
}
