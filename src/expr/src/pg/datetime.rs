//! Date/time functions: extract/date_part, date_trunc (with time zones), to_char, to_timestamp,
//! to_date, make_*, timezone()/AT TIME ZONE, age, justify_*.

use std::sync::Arc;

use arrow::datatypes::{DataType, IntervalMonthDayNano, TimeUnit};
use chrono::{Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use super::cast::{date_to_days, days_to_date, time_to_micros};
use super::err::{exec, no_function};
use super::func::{func, Ctx};
use super::types::*;
use super::tz::{micros_to_naive, naive_to_micros, zone_or_err, Zone};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A date/time value taken apart: wall-clock time, and the UTC offset when it is a timestamptz.
pub(crate) struct Moment {
    pub local: NaiveDateTime,
    pub offset: Option<FixedOffset>,
    pub utc: NaiveDateTime,
}

fn out_of_range() -> datafusion::common::DataFusionError {
    exec("timestamp out of range")
}

/// Timestamps of any unit become microseconds; NULLs give `None`.
fn ts_micros(v: &ScalarValue) -> Option<(i64, bool)> {
    match v {
        ScalarValue::TimestampMicrosecond(Some(x), tz) => Some((*x, tz.is_some())),
        ScalarValue::TimestampNanosecond(Some(x), tz) => Some((x.div_euclid(1000), tz.is_some())),
        ScalarValue::TimestampMillisecond(Some(x), tz) => Some((x.saturating_mul(1000), tz.is_some())),
        ScalarValue::TimestampSecond(Some(x), tz) => Some((x.saturating_mul(1_000_000), tz.is_some())),
        _ => None,
    }
}

pub(crate) fn moment(v: &ScalarValue, zone: &Zone) -> Result<Option<Moment>> {
    if let Some((us, tz)) = ts_micros(v) {
        let n = micros_to_naive(us).ok_or_else(out_of_range)?;
        return Ok(Some(if tz {
            let off = zone.offset_at(&n);
            Moment {
                local: n + off,
                offset: Some(off),
                utc: n,
            }
        } else {
            Moment {
                local: n,
                offset: None,
                utc: n,
            }
        }));
    }
    if let ScalarValue::Date32(Some(d)) = v {
        let n = days_to_date(*d).ok_or_else(out_of_range)?.and_time(NaiveTime::MIN);
        return Ok(Some(Moment {
            local: n,
            offset: None,
            utc: n,
        }));
    }
    Ok(None)
}

/// Datetime-ish argument types as this module takes them (microsecond timestamps).
fn norm_datetime(t: &DataType) -> Option<DataType> {
    Some(match t {
        DataType::Timestamp(_, None) => TIMESTAMP,
        DataType::Timestamp(_, Some(_)) => timestamptz(),
        DataType::Date32 | DataType::Date64 => DataType::Date32,
        DataType::Time32(_) | DataType::Time64(_) => TIME,
        DataType::Interval(_) | DataType::Duration(_) => INTERVAL,
        DataType::Utf8 | DataType::Utf8View | DataType::Null => TIMESTAMP,
        _ => return None,
    })
}

fn pg_year(y: i32) -> i64 {
    if y <= 0 {
        y as i64 - 1
    } else {
        y as i64
    }
}

/// Julian day number of a (proleptic Gregorian) date, as Postgres' date2j.
fn date2j(y: i64, m: i64, d: i64) -> i64 {
    let (mut y, mut m) = (y, m);
    if m > 2 {
        m += 1;
        y += 4800;
    } else {
        m += 13;
        y += 4799;
    }
    let century = y / 100;
    let mut julian = y * 365 - 32167;
    julian += y / 4 - century + century / 4;
    julian += 7834 * m / 256 + d;
    julian
}

fn j2day(date: i64) -> i64 {
    let d = (date + 1) % 7;
    if d < 0 {
        d + 7
    } else {
        d
    }
}

/// ISO year of a date given as Postgres' year/month/day (which may be out of range, for intervals).
fn date2isoyear(year: i64, mon: i64, mday: i64) -> i64 {
    let mut year = year;
    let dayn = date2j(year, mon, mday);
    let mut day4 = date2j(year, 1, 4);
    let mut day0 = j2day(day4 - 1);
    if dayn < day4 - day0 {
        day4 = date2j(year - 1, 1, 4);
        day0 = j2day(day4 - 1);
        year -= 1;
    }
    let result = (dayn - (day4 - day0)) / 7 + 1;
    if result >= 52 {
        day4 = date2j(year + 1, 1, 4);
        day0 = j2day(day4 - 1);
        if dayn >= day4 - day0 {
            year += 1;
        }
    }
    year
}

/// A field value in millionths (so seconds keep their microseconds exactly).
enum FieldVal {
    Micro(i128),
    Float(f64),
}

fn whole(v: i64) -> FieldVal {
    FieldVal::Micro(v as i128 * 1_000_000)
}

fn normalize_field(f: &str) -> String {
    let f = f.trim().to_ascii_lowercase();
    match f.as_str() {
        "years" | "y" | "yr" | "yrs" => "year".into(),
        "months" | "mon" | "mons" => "month".into(),
        "days" | "d" => "day".into(),
        "hours" | "h" | "hr" | "hrs" => "hour".into(),
        "minutes" | "m" | "min" | "mins" => "minute".into(),
        "seconds" | "s" | "sec" | "secs" => "second".into(),
        "millisecond" | "ms" | "msec" | "msecs" => "milliseconds".into(),
        "microsecond" | "us" | "usec" | "usecs" => "microseconds".into(),
        "nanosecond" | "nanoseconds" | "ns" => "nanoseconds".into(),
        "weeks" | "w" => "week".into(),
        "decades" => "decade".into(),
        "centuries" => "century".into(),
        "millenniums" | "millennia" => "millennium".into(),
        "quarters" => "quarter".into(),
        "julian" | "j" => "julian".into(),
        _ => f,
    }
}

fn bad_unit(field: &str, t: &str) -> datafusion::common::DataFusionError {
    exec(format!("unit \"{field}\" not supported for type {t}"))
}

fn ts_field(field: &str, m: &Moment, type_name: &str) -> Result<FieldVal> {
    let t = &m.local;
    let y = t.year();
    let py = pg_year(y);
    let secs_micros = t.second() as i64 * 1_000_000 + (t.nanosecond() / 1000) as i64;
    Ok(match field {
        "millennium" => whole(if py > 0 {
            (py + 999) / 1000
        } else {
            -((999 - (py + 1)) / 1000)
        }),
        "century" => whole(if py > 0 {
            (py + 99) / 100
        } else {
            -((99 - (py + 1)) / 100)
        }),
        "decade" => whole(if y >= 0 {
            y as i64 / 10
        } else {
            -((8 - (y as i64 - 1)) / 10)
        }),
        "year" => whole(py),
        "isoyear" => whole(pg_year(t.iso_week().year())),
        "quarter" => whole((t.month() as i64 - 1) / 3 + 1),
        "month" => whole(t.month() as i64),
        "week" => whole(t.iso_week().week() as i64),
        "day" => whole(t.day() as i64),
        "dow" => whole(t.weekday().num_days_from_sunday() as i64),
        "isodow" => whole(t.weekday().number_from_monday() as i64),
        "doy" => whole(t.ordinal() as i64),
        "hour" => whole(t.hour() as i64),
        "minute" => whole(t.minute() as i64),
        "second" => FieldVal::Micro(secs_micros as i128),
        "milliseconds" => FieldVal::Micro(secs_micros as i128 * 1000),
        "microseconds" => FieldVal::Micro(secs_micros as i128 * 1_000_000),
        "nanoseconds" => FieldVal::Micro(secs_micros as i128 * 1_000_000_000),
        "epoch" => FieldVal::Micro(naive_to_micros(&m.utc) as i128),
        "julian" => {
            let day = date2j(
                py.max(-4713) + if py < 0 { 1 } else { 0 },
                t.month() as i64,
                t.day() as i64,
            );
            let secs = t.num_seconds_from_midnight() as f64 + t.nanosecond() as f64 / 1e9;
            FieldVal::Float(day as f64 + secs / 86_400.0)
        }
        "timezone" | "timezone_hour" | "timezone_minute" => {
            let off = m.offset.ok_or_else(|| bad_unit(field, type_name))?.local_minus_utc() as i64;
            whole(match field {
                "timezone" => off,
                "timezone_hour" => off / 3600,
                _ => (off / 60) % 60,
            })
        }
        _ => return Err(bad_unit(field, type_name)),
    })
}

fn date_field(field: &str, d: i32) -> Result<FieldVal> {
    let date = days_to_date(d).ok_or_else(out_of_range)?;
    let n = date.and_time(NaiveTime::MIN);
    match field {
        "hour" | "minute" | "second" | "milliseconds" | "microseconds" | "nanoseconds" | "timezone"
        | "timezone_hour" | "timezone_minute" => Err(bad_unit(field, "date")),
        "epoch" => Ok(whole(naive_to_micros(&n) / 1_000_000)),
        _ => ts_field(
            field,
            &Moment {
                local: n,
                offset: None,
                utc: n,
            },
            "date",
        ),
    }
}

fn time_field(field: &str, us: i64) -> Result<FieldVal> {
    let secs_micros = us % 60_000_000;
    Ok(match field {
        "hour" => whole(us / 3_600_000_000),
        "minute" => whole(us / 60_000_000 % 60),
        "second" => FieldVal::Micro(secs_micros as i128),
        "milliseconds" => FieldVal::Micro(secs_micros as i128 * 1000),
        "microseconds" => FieldVal::Micro(secs_micros as i128 * 1_000_000),
        "epoch" => FieldVal::Micro(us as i128),
        _ => return Err(bad_unit(field, "time without time zone")),
    })
}

fn interval_field(field: &str, v: &IntervalMonthDayNano) -> Result<FieldVal> {
    let months = v.months as i64;
    let micros = v.nanoseconds / 1000;
    let secs_micros = micros % 60_000_000;
    Ok(match field {
        "millennium" => whole(months / 12 / 1000),
        "century" => whole(months / 12 / 100),
        "decade" => whole(months / 12 / 10),
        "year" => whole(months / 12),
        "quarter" => whole((months % 12) / 3 + 1),
        "month" => whole(months % 12),
        "day" => whole(v.days as i64),
        "hour" => whole(micros / 3_600_000_000),
        "minute" => whole(micros / 60_000_000 % 60),
        "second" => FieldVal::Micro(secs_micros as i128),
        "milliseconds" => FieldVal::Micro(secs_micros as i128 * 1000),
        "microseconds" => FieldVal::Micro(secs_micros as i128 * 1_000_000),
        "epoch" => {
            let secs_per_year: i128 = 36_525 * 86_400 * 10_000; // 365.25 days, in millionths
            let secs_per_month: i128 = 30 * 86_400 * 1_000_000;
            FieldVal::Micro(
                (months / 12) as i128 * secs_per_year
                    + (months % 12) as i128 * secs_per_month
                    + v.days as i128 * 86_400_000_000
                    + micros as i128,
            )
        }
        _ => return Err(bad_unit(field, "interval")),
    })
}

fn field_value(field: &str, v: &ScalarValue, zone: &Zone) -> Result<Option<FieldVal>> {
    let field = normalize_field(field);
    Ok(Some(match v {
        v if v.is_null() => return Ok(None),
        ScalarValue::Date32(Some(d)) => date_field(&field, *d)?,
        ScalarValue::Time64Microsecond(Some(us)) => time_field(&field, *us)?,
        ScalarValue::IntervalMonthDayNano(Some(iv)) => interval_field(&field, iv)?,
        other => match moment(other, zone)? {
            Some(m) => {
                let tn = if m.offset.is_some() {
                    "timestamp with time zone"
                } else {
                    "timestamp without time zone"
                };
                ts_field(&field, &m, tn)?
            }
            None => return Err(exec(format!("extract: unsupported source {other}"))),
        },
    }))
}

/// Fractional digits `extract` gives a field (its value prints as RisingWave prints it).
fn extract_scale(field: Option<&str>) -> i8 {
    match field.map(normalize_field).as_deref() {
        Some("epoch") | Some("second") | None => 6,
        Some("milliseconds") => 3,
        Some("julian") => 10,
        _ => 0,
    }
}

fn coerce_field_source(name: &'static str) -> impl Fn(&[DataType]) -> Result<Vec<DataType>> {
    move |t: &[DataType]| {
        if t.len() != 2 || !(is_string(&t[0]) || matches!(t[0], DataType::Null)) {
            return Err(no_function(name, t));
        }
        let src = norm_datetime(&t[1]).ok_or_else(|| no_function(name, t))?;
        Ok(vec![DataType::Utf8, src])
    }
}

/// `EXTRACT(field FROM source)`: numeric.
pub(crate) fn extract() -> ScalarUDF {
    func("extract")
        .stable()
        .coerce(coerce_field_source("extract"))
        .returns_scalars(|_, c| {
            let field = match c.first() {
                Some(Some(ScalarValue::Utf8(Some(f)))) => Some(f.as_str()),
                _ => None,
            };
            Ok(DataType::Decimal128(38, extract_scale(field)))
        })
        .strict(|a, ctx| {
            let ScalarValue::Utf8(Some(field)) = &a[0] else {
                return Ok(ScalarValue::Null);
            };
            let DataType::Decimal128(p, s) = ctx.ret else {
                return Err(exec("extract: bad return type"));
            };
            let v = match field_value(field, &a[1], &ctx.time_zone()?)? {
                None => return Ok(ScalarValue::Null),
                Some(FieldVal::Micro(v)) => {
                    if *s <= 6 {
                        v / 10i128.pow((6 - *s) as u32)
                    } else {
                        v * 10i128.pow((*s - 6) as u32)
                    }
                }
                Some(FieldVal::Float(f)) => (f * 10f64.powi(*s as i32)).round() as i128,
            };
            Ok(ScalarValue::Decimal128(Some(v), *p, *s))
        })
}

/// `date_part(field, source)`: double precision.
fn date_part() -> ScalarUDF {
    func("date_part")
        .alias("datepart")
        .stable()
        .coerce(coerce_field_source("date_part"))
        .returns_type(DataType::Float64)
        .strict(|a, ctx| {
            let ScalarValue::Utf8(Some(field)) = &a[0] else {
                return Ok(ScalarValue::Null);
            };
            Ok(ScalarValue::Float64(
                match field_value(field, &a[1], &ctx.time_zone()?)? {
                    None => None,
                    Some(FieldVal::Micro(v)) => Some(v as f64 / 1e6),
                    Some(FieldVal::Float(f)) => Some(f),
                },
            ))
        })
}

fn trunc_naive(field: &str, t: &NaiveDateTime) -> Result<NaiveDateTime> {
    let d = t.date();
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN);
    let ymd = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1).map(midnight).ok_or_else(out_of_range);
    let y = t.year();
    Ok(match field {
        "microseconds" => *t,
        "milliseconds" => t
            .with_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
            .ok_or_else(out_of_range)?,
        "second" => t.with_nanosecond(0).ok_or_else(out_of_range)?,
        "minute" => midnight(d) + Duration::minutes((t.hour() * 60 + t.minute()) as i64),
        "hour" => midnight(d) + Duration::hours(t.hour() as i64),
        "day" => midnight(d),
        "week" => midnight(d) - Duration::days(d.weekday().num_days_from_monday() as i64),
        "month" => ymd(y, d.month())?,
        "quarter" => ymd(y, (d.month() - 1) / 3 * 3 + 1)?,
        "year" => ymd(y, 1)?,
        "decade" => ymd(y.div_euclid(10) * 10, 1)?,
        "century" => {
            let py = pg_year(y);
            let c = if py > 0 {
                (py + 99) / 100 * 100 - 99
            } else {
                -((99 - py) / 100 * 100) - 99
            };
            ymd(if c < 0 { c as i32 + 1 } else { c as i32 }, 1)?
        }
        "millennium" => {
            let py = pg_year(y);
            let c = if py > 0 {
                (py + 999) / 1000 * 1000 - 999
            } else {
                -((999 - py) / 1000 * 1000) - 999
            };
            ymd(if c < 0 { c as i32 + 1 } else { c as i32 }, 1)?
        }
        other => return Err(exec(format!("unit \"{other}\" not supported for type timestamp"))),
    })
}

fn trunc_interval(field: &str, v: &IntervalMonthDayNano) -> Result<IntervalMonthDayNano> {
    let n = v.nanoseconds;
    let t = |unit: i64| n / unit * unit;
    let m = v.months;
    Ok(match field {
        "microseconds" => IntervalMonthDayNano {
            nanoseconds: t(1_000),
            ..*v
        },
        "milliseconds" => IntervalMonthDayNano {
            nanoseconds: t(1_000_000),
            ..*v
        },
        "second" => IntervalMonthDayNano {
            nanoseconds: t(1_000_000_000),
            ..*v
        },
        "minute" => IntervalMonthDayNano {
            nanoseconds: t(60_000_000_000),
            ..*v
        },
        "hour" => IntervalMonthDayNano {
            nanoseconds: t(3_600_000_000_000),
            ..*v
        },
        "day" => IntervalMonthDayNano {
            months: m,
            days: v.days,
            nanoseconds: 0,
        },
        "month" => IntervalMonthDayNano {
            months: m,
            days: 0,
            nanoseconds: 0,
        },
        "quarter" => IntervalMonthDayNano {
            months: m - m % 3,
            days: 0,
            nanoseconds: 0,
        },
        "year" => IntervalMonthDayNano {
            months: m - m % 12,
            days: 0,
            nanoseconds: 0,
        },
        "decade" => IntervalMonthDayNano {
            months: m - m % 120,
            days: 0,
            nanoseconds: 0,
        },
        "century" => IntervalMonthDayNano {
            months: m - m % 1200,
            days: 0,
            nanoseconds: 0,
        },
        "millennium" => IntervalMonthDayNano {
            months: m - m % 12000,
            days: 0,
            nanoseconds: 0,
        },
        other => return Err(exec(format!("unit \"{other}\" not supported for type interval"))),
    })
}

fn date_trunc() -> ScalarUDF {
    func("date_trunc")
        .alias("datetrunc")
        .stable()
        .coerce(|t| {
            if !(t.len() == 2 || t.len() == 3) {
                return Err(no_function("date_trunc", t));
            }
            let src = match &t[1] {
                DataType::Date32 => TIMESTAMP,
                other => norm_datetime(other).ok_or_else(|| no_function("date_trunc", t))?,
            };
            if t.len() == 3 && !is_timestamptz(&src) {
                return Err(no_function("date_trunc", t));
            }
            let mut out = vec![DataType::Utf8, src];
            if t.len() == 3 {
                out.push(DataType::Utf8);
            }
            Ok(out)
        })
        .returns(|t| Ok(t[1].clone()))
        .strict(|a, ctx| {
            let ScalarValue::Utf8(Some(field)) = &a[0] else {
                return Ok(ScalarValue::Null);
            };
            let field = normalize_field(field);
            match &a[1] {
                ScalarValue::IntervalMonthDayNano(Some(v)) => {
                    Ok(ScalarValue::IntervalMonthDayNano(Some(trunc_interval(&field, v)?)))
                }
                ScalarValue::TimestampMicrosecond(Some(us), tz) => {
                    let n = micros_to_naive(*us).ok_or_else(out_of_range)?;
                    match tz {
                        None => Ok(ScalarValue::TimestampMicrosecond(
                            Some(naive_to_micros(&trunc_naive(&field, &n)?)),
                            None,
                        )),
                        Some(_) => {
                            let zone = match a.get(2) {
                                Some(ScalarValue::Utf8(Some(z))) => zone_or_err(z)?,
                                _ => ctx.time_zone()?,
                            };
                            let local = trunc_naive(&field, &zone.to_local(&n))?;
                            let utc = zone.to_utc_prefer(&local, zone.offset_at(&n));
                            Ok(ScalarValue::TimestampMicrosecond(
                                Some(naive_to_micros(&utc)),
                                tz.clone(),
                            ))
                        }
                    }
                }
                ScalarValue::Time64Microsecond(Some(us)) => {
                    let unit: i64 = match field.as_str() {
                        "microseconds" => 1,
                        "milliseconds" => 1000,
                        "second" => 1_000_000,
                        "minute" => 60_000_000,
                        "hour" => 3_600_000_000,
                        _ => return Err(bad_unit(&field, "time without time zone")),
                    };
                    Ok(ScalarValue::Time64Microsecond(Some(us / unit * unit)))
                }
                other => Err(exec(format!("date_trunc: unsupported argument {other}"))),
            }
        })
}

// ---------------------------------------------------------------------------------------------
// to_char

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const ROMAN: [&str; 12] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"];

/// Keywords of datetime templates, longest first so that prefixes don't win.
const KEYWORDS: &[&str] = &[
    "A.M.", "P.M.", "B.C.", "A.D.", "Y,YYY", "HH24", "HH12", "IYYY", "MONTH", "IDDD", "SSSS", "YYYY", "FF1", "FF2",
    "FF3", "FF4", "FF5", "FF6", "DAY", "IYY", "TZH", "TZM", "YYY", "MON", "DDD", "AM", "PM", "BC", "AD", "HH", "MI",
    "SS", "MS", "US", "NS", "IY", "YY", "MM", "DD", "DY", "ID", "IW", "WW", "CC", "RM", "TZ", "OF", "Y", "I", "D", "W",
    "J", "Q",
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(String),
    Key {
        key: &'static str,
        fm: bool,
        th: Option<bool>,
        case: Case,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    Upper,
    Capital,
    Lower,
}

fn case_of(s: &str) -> Case {
    let mut letters = s.chars().filter(|c| c.is_alphabetic());
    let first = letters.next();
    let rest_lower = letters.all(|c| c.is_lowercase());
    match first {
        Some(c) if c.is_uppercase() && rest_lower && s.chars().filter(|c| c.is_alphabetic()).count() > 1 => {
            Case::Capital
        }
        Some(c) if c.is_lowercase() => Case::Lower,
        _ => Case::Upper,
    }
}

fn tokenize(fmt: &str) -> Vec<Tok> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    let push_lit = |out: &mut Vec<Tok>, c: char| match out.last_mut() {
        Some(Tok::Lit(s)) => s.push(c),
        _ => out.push(Tok::Lit(c.to_string())),
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                push_lit(&mut out, chars[i]);
                i += 1;
            }
            i += 1;
            continue;
        }
        if c == '\\' && i + 1 < chars.len() {
            push_lit(&mut out, chars[i + 1]);
            i += 2;
            continue;
        }
        let rest: String = chars[i..].iter().collect();
        let upper = rest.to_ascii_uppercase();
        let mut fm = false;
        let mut skip = 0;
        if upper.starts_with("FM") {
            fm = true;
            skip = 2;
        }
        let key = KEYWORDS.iter().find(|k| upper[skip..].starts_with(*k));
        match key {
            Some(k) => {
                let klen = k.chars().count();
                let orig: String = chars[i + skip..i + skip + klen].iter().collect();
                i += skip + klen;
                let mut th = None;
                if i + 1 < chars.len() && chars[i].eq_ignore_ascii_case(&'t') && chars[i + 1].eq_ignore_ascii_case(&'h')
                {
                    th = Some(chars[i] == 'T');
                    i += 2;
                }
                out.push(Tok::Key {
                    key: k,
                    fm,
                    th,
                    case: case_of(&orig),
                });
            }
            None => {
                push_lit(&mut out, c);
                i += 1;
            }
        }
    }
    out
}

fn apply_case(s: &str, case: Case) -> String {
    match case {
        Case::Upper => s.to_uppercase(),
        Case::Lower => s.to_lowercase(),
        Case::Capital => s.to_string(),
    }
}

fn ordinal_suffix(n: i64, upper: bool) -> &'static str {
    let n = n.abs();
    let s = if n % 100 / 10 == 1 {
        "th"
    } else {
        match n % 10 {
            1 => "st",
            2 => "nd",
            3 => "rd",
            _ => "th",
        }
    };
    if upper {
        match s {
            "st" => "ST",
            "nd" => "ND",
            "rd" => "RD",
            _ => "TH",
        }
    } else {
        s
    }
}

/// `%0*d`: zero-padded to `width` (which counts the minus sign), or unpadded in FM mode.
fn pad(v: i64, width: usize, fm: bool) -> String {
    if fm {
        v.to_string()
    } else if v < 0 {
        format!("-{:0w$}", -v, w = width.saturating_sub(1))
    } else {
        format!("{v:0width$}")
    }
}

/// Broken-down time as Postgres' `pg_tm`, shared by timestamps and intervals.
struct Tm {
    year: i64,
    mon: i64,
    mday: i64,
    hour: i64,
    min: i64,
    sec: i64,
    fsec_us: i64,
    nanos: i64,
    date: Option<NaiveDate>,
    offset: Option<FixedOffset>,
    zone_abbr: Option<String>,
}

fn to_char_tm(fmt: &str, tm: &Tm, interval: bool) -> Result<String> {
    let mut out = String::new();
    let adjust_year = |y: i64| {
        if interval {
            y
        } else if y <= 0 {
            -(y - 1)
        } else {
            y
        }
    };
    let invalid = || exec("invalid format specification for an interval value");
    for tok in tokenize(fmt) {
        let (key, fm, th, case) = match tok {
            Tok::Lit(s) => {
                out.push_str(&s);
                continue;
            }
            Tok::Key { key, fm, th, case } => (key, fm, th, case),
        };
        let mut number: Option<i64> = None;
        let date_only = |d: Option<NaiveDate>| d.ok_or_else(invalid);
        let s = match key {
            "HH" | "HH12" => {
                let h = if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 };
                number = Some(h);
                pad(h, if tm.hour >= 0 { 2 } else { 3 }, fm)
            }
            "HH24" => {
                number = Some(tm.hour);
                pad(tm.hour, if tm.hour >= 0 { 2 } else { 3 }, fm)
            }
            "MI" => {
                number = Some(tm.min);
                pad(tm.min, if tm.min >= 0 { 2 } else { 3 }, fm)
            }
            "SS" => {
                number = Some(tm.sec);
                pad(tm.sec, if tm.sec >= 0 { 2 } else { 3 }, fm)
            }
            "MS" => pad(tm.fsec_us / 1000, 3, fm),
            "US" => pad(tm.fsec_us, 6, fm),
            "NS" => pad(tm.nanos, 9, fm),
            "FF1" | "FF2" | "FF3" | "FF4" | "FF5" | "FF6" => {
                let n: u32 = key[2..].parse().unwrap_or(6);
                pad(tm.fsec_us / 10i64.pow(6 - n), n as usize, false)
            }
            "SSSS" => (tm.hour * 3600 + tm.min * 60 + tm.sec).to_string(),
            "AM" | "PM" | "A.M." | "P.M." => {
                let pm = tm.hour % 24 >= 12;
                let dotted = key.contains('.');
                let s = match (pm, dotted) {
                    (true, true) => "P.M.",
                    (true, false) => "PM",
                    (false, true) => "A.M.",
                    (false, false) => "AM",
                };
                if case == Case::Lower {
                    s.to_lowercase()
                } else {
                    s.to_string()
                }
            }
            "BC" | "AD" | "B.C." | "A.D." => {
                let bc = !interval && tm.year <= 0;
                let dotted = key.contains('.');
                let s = match (bc, dotted) {
                    (true, true) => "B.C.",
                    (true, false) => "BC",
                    (false, true) => "A.D.",
                    (false, false) => "AD",
                };
                if case == Case::Lower {
                    s.to_lowercase()
                } else {
                    s.to_string()
                }
            }
            "Y,YYY" => {
                let y = adjust_year(tm.year);
                format!("{},{:03}", y / 1000, (y % 1000).abs())
            }
            "YYYY" | "IYYY" => {
                let y = if key == "YYYY" {
                    adjust_year(tm.year)
                } else {
                    adjust_year(date2isoyear(tm.year, tm.mon, tm.mday))
                };
                number = Some(y);
                pad(y, if adjust_year(tm.year) >= 0 { 4 } else { 5 }, fm)
            }
            "YYY" | "IYY" => {
                let y = if key == "YYY" {
                    adjust_year(tm.year)
                } else {
                    adjust_year(date2isoyear(tm.year, tm.mon, tm.mday))
                };
                pad(y % 1000, if adjust_year(tm.year) >= 0 { 3 } else { 4 }, fm)
            }
            "YY" | "IY" => {
                let y = if key == "YY" {
                    adjust_year(tm.year)
                } else {
                    adjust_year(date2isoyear(tm.year, tm.mon, tm.mday))
                };
                pad(y % 100, if adjust_year(tm.year) >= 0 { 2 } else { 3 }, fm)
            }
            "Y" | "I" => {
                let y = if key == "Y" {
                    adjust_year(tm.year)
                } else {
                    adjust_year(date2isoyear(tm.year, tm.mon, tm.mday))
                };
                (y % 10).to_string()
            }
            "MM" => {
                number = Some(tm.mon);
                pad(tm.mon, if tm.mon >= 0 { 2 } else { 3 }, fm)
            }
            "DD" => {
                number = Some(tm.mday);
                pad(tm.mday, 2, fm)
            }
            "MONTH" | "MON" => {
                if interval {
                    return Err(invalid());
                }
                let name = MONTHS[(tm.mon.clamp(1, 12) - 1) as usize];
                let name = if key == "MON" { &name[..3] } else { name };
                let s = apply_case(name, case);
                if key == "MONTH" && !fm {
                    format!("{s:<9}")
                } else {
                    s
                }
            }
            "DAY" | "DY" => {
                let d = date_only(tm.date)?;
                let name = DAYS[d.weekday().num_days_from_sunday() as usize];
                let name = if key == "DY" { &name[..3] } else { name };
                let s = apply_case(name, case);
                if key == "DAY" && !fm {
                    format!("{s:<9}")
                } else {
                    s
                }
            }
            "DDD" => {
                let d = date_only(tm.date)?;
                number = Some(d.ordinal() as i64);
                pad(d.ordinal() as i64, 3, fm)
            }
            "IDDD" => {
                let d = date_only(tm.date)?;
                let iw = d.iso_week();
                let n = (iw.week() as i64 - 1) * 7 + d.weekday().number_from_monday() as i64;
                pad(n, 3, fm)
            }
            "D" => (date_only(tm.date)?.weekday().num_days_from_sunday() as i64 + 1).to_string(),
            "ID" => date_only(tm.date)?.weekday().number_from_monday().to_string(),
            "W" => ((tm.mday - 1) / 7 + 1).to_string(),
            "WW" => pad((date_only(tm.date)?.ordinal() as i64 - 1) / 7 + 1, 2, fm),
            "IW" => pad(date_only(tm.date)?.iso_week().week() as i64, 2, fm),
            "CC" => {
                let y = tm.year;
                let cc = if interval {
                    y / 100
                } else if y > 0 {
                    (y + 99) / 100
                } else {
                    -((99 - (y - 1)) / 100)
                };
                pad(cc, 2, fm)
            }
            "J" => {
                let d = date_only(tm.date)?;
                date2j(tm.year, d.month() as i64, d.day() as i64).to_string()
            }
            "Q" => ((tm.mon - 1) / 3 + 1).to_string(),
            "RM" => {
                let r = ROMAN[(tm.mon.clamp(1, 12) - 1) as usize];
                let r = if case == Case::Lower {
                    r.to_lowercase()
                } else {
                    r.to_string()
                };
                if fm {
                    r
                } else {
                    format!("{r:<4}")
                }
            }
            "TZH" | "TZM" | "TZ" | "OF" => {
                if interval {
                    return Err(invalid());
                }
                let Some(off) = tm.offset else { continue };
                let secs = off.local_minus_utc() as i64;
                let sign = if secs < 0 { '-' } else { '+' };
                match key {
                    "TZH" => format!("{sign}{:02}", secs.abs() / 3600),
                    "TZM" => format!("{:02}", secs.abs() / 60 % 60),
                    "OF" => {
                        if secs.abs() % 3600 == 0 {
                            format!("{sign}{:02}", secs.abs() / 3600)
                        } else {
                            format!("{sign}{:02}:{:02}", secs.abs() / 3600, secs.abs() / 60 % 60)
                        }
                    }
                    _ => {
                        let a = tm
                            .zone_abbr
                            .clone()
                            .unwrap_or_else(|| format!("{sign}{:02}", secs.abs() / 3600));
                        if case == Case::Lower {
                            a.to_lowercase()
                        } else {
                            a
                        }
                    }
                }
            }
            other => return Err(exec(format!("unsupported format pattern {other}"))),
        };
        out.push_str(&s);
        if let (Some(upper), Some(n)) = (th, number) {
            out.push_str(ordinal_suffix(n, upper));
        }
    }
    Ok(out)
}

fn tm_of_moment(m: &Moment, zone: &Zone) -> Tm {
    let t = &m.local;
    let abbr = match (zone, m.offset) {
        (Zone::Named(tz), Some(_)) => {
            use chrono::{Offset, TimeZone};
            let o = tz.offset_from_utc_datetime(&m.utc);
            let _ = o.fix();
            Some(format!("{o}"))
        }
        _ => None,
    };
    Tm {
        year: t.year() as i64,
        mon: t.month() as i64,
        mday: t.day() as i64,
        hour: t.hour() as i64,
        min: t.minute() as i64,
        sec: t.second() as i64,
        fsec_us: (t.nanosecond() / 1000) as i64,
        nanos: t.nanosecond() as i64,
        date: Some(t.date()),
        offset: m.offset,
        zone_abbr: abbr,
    }
}

fn tm_of_interval(v: &IntervalMonthDayNano) -> Tm {
    let micros = v.nanoseconds / 1000;
    Tm {
        year: v.months as i64 / 12,
        mon: v.months as i64 % 12,
        mday: v.days as i64,
        hour: micros / 3_600_000_000,
        min: micros / 60_000_000 % 60,
        sec: micros / 1_000_000 % 60,
        fsec_us: micros % 1_000_000,
        nanos: v.nanoseconds % 1_000_000_000,
        date: None,
        offset: None,
        zone_abbr: None,
    }
}

/// Postgres' numeric templates: 9, 0, '.', D, ',', G, S, MI, PL, SG, FM, EEEE (partial).
pub(crate) fn to_char_number(v: f64, exact: Option<String>, fmt: &str) -> Result<String> {
    let upper = fmt.to_ascii_uppercase();
    let fm = upper.contains("FM");
    let body: String = upper.replace("FM", "");
    let int_digits = body
        .split(['.', 'D'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| *c == '9' || *c == '0')
        .count();
    let frac_digits = body
        .split_once(['.', 'D'])
        .map(|(_, f)| f.chars().filter(|c| *c == '9' || *c == '0').count())
        .unwrap_or(0);
    let neg = v < 0.0;
    let text = match exact {
        Some(t) if frac_digits == 0 || t.contains('.') => {
            let _ = t;
            format!("{:.*}", frac_digits, v.abs())
        }
        _ => format!("{:.*}", frac_digits, v.abs()),
    };
    let (ip, fp) = text.split_once('.').unwrap_or((&text, ""));
    if ip.len() > int_digits && !(ip == "0" && int_digits == 0) {
        // Postgres fills with '#' when the number doesn't fit.
        let hashes: String = body
            .chars()
            .map(|c| if c == '9' || c == '0' { '#' } else { c })
            .collect();
        return Ok(if fm { hashes } else { format!(" {hashes}") });
    }
    let int_tmpl: String = body.split(['.', 'D']).next().unwrap_or("").to_string();
    let mut digits_iter = ip.chars().rev().collect::<Vec<_>>();
    let mut int_out: Vec<char> = vec![];
    let mut started_zero = false;
    for c in int_tmpl.chars().rev() {
        match c {
            '9' | '0' => {
                if let Some(d) = digits_iter.first().copied() {
                    digits_iter.remove(0);
                    int_out.push(d);
                } else if c == '0' || started_zero {
                    started_zero = true;
                    int_out.push('0');
                } else if !fm {
                    int_out.push(' ');
                }
            }
            ',' | 'G' => {
                if !digits_iter.is_empty()
                    || int_out.last().is_some_and(|c| c.is_ascii_digit())
                        && ip.len() > int_out.iter().filter(|c| c.is_ascii_digit()).count()
                {
                    int_out.push(',');
                } else if !fm {
                    int_out.push(' ');
                }
            }
            _ => {}
        }
    }
    int_out.reverse();
    let mut int_s: String = int_out.into_iter().collect();
    if int_s.trim().is_empty() && frac_digits == 0 {
        int_s = "0".into();
    }
    let sign_explicit = upper.contains('S') || upper.contains("MI") || upper.contains("PL") || upper.contains("SG");
    let mut s = String::new();
    if !sign_explicit {
        let trimmed = int_s.trim_start().to_string();
        let lead = int_s.len() - trimmed.len();
        if !fm {
            s.push_str(&" ".repeat(lead));
        }
        s.push(if neg {
            '-'
        } else if fm {
            '\0'
        } else {
            ' '
        });
        s.retain(|c| c != '\0');
        s.push_str(&trimmed);
    } else {
        let sign = if neg { '-' } else { '+' };
        if upper.starts_with('S') || upper.starts_with("FMS") {
            s.push(sign);
            s.push_str(int_s.trim_start());
        } else {
            s.push_str(&int_s);
            if upper.contains("MI") {
                s.push(if neg { '-' } else { ' ' });
            } else {
                s.push(sign);
            }
        }
    }
    if frac_digits > 0 {
        s.push('.');
        let fp = if fm { fp.trim_end_matches('0') } else { fp };
        s.push_str(fp);
    } else if body.contains('.') || body.contains('D') {
        s.push('.');
    }
    Ok(s)
}

fn to_char() -> ScalarUDF {
    func("to_char")
        .stable()
        .coerce(|t| {
            if t.len() != 2 {
                return Err(no_function("to_char", t));
            }
            let src = match &t[0] {
                t0 if is_numeric(t0) => t0.clone(),
                t0 => norm_datetime(t0)
                    .filter(|x| !matches!(x, DataType::Time64(_)))
                    .ok_or_else(|| no_function("to_char", t))?,
            };
            Ok(vec![src, DataType::Utf8])
        })
        .returns_type(DataType::Utf8)
        .strict(|a, ctx| {
            let ScalarValue::Utf8(Some(fmt)) = &a[1] else {
                return Ok(ScalarValue::Null);
            };
            let zone = ctx.time_zone()?;
            let s = match &a[0] {
                ScalarValue::IntervalMonthDayNano(Some(v)) => to_char_tm(fmt, &tm_of_interval(v), true)?,
                v if is_numeric(&v.data_type()) => {
                    let f = v.cast_to(&DataType::Float64)?;
                    let ScalarValue::Float64(Some(x)) = f else {
                        return Ok(ScalarValue::Null);
                    };
                    to_char_number(x, None, fmt)?
                }
                v => match moment(v, &zone)? {
                    Some(m) => to_char_tm(fmt, &tm_of_moment(&m, &zone), false)?,
                    None => return Ok(ScalarValue::Null),
                },
            };
            Ok(ScalarValue::Utf8(Some(s)))
        })
}

// ---------------------------------------------------------------------------------------------
// to_timestamp / to_date with a template

struct Parsed {
    year: Option<i64>,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    pm: Option<bool>,
    hour12: bool,
    offset_secs: Option<i32>,
    tzm: i32,
    tzh_neg: bool,
    bc: bool,
    doy: Option<u32>,
}

fn parse_with_template(input: &str, fmt: &str) -> Result<Parsed> {
    let bad = |what: &str| exec(format!("invalid value for {what} in \"{input}\""));
    let chars: Vec<char> = input.chars().collect();
    let mut pos = 0usize;
    let mut p = Parsed {
        year: None,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        pm: None,
        hour12: false,
        offset_secs: None,
        tzm: 0,
        tzh_neg: false,
        bc: false,
        doy: None,
    };
    let skip_spaces = |pos: &mut usize| {
        while *pos < chars.len() && chars[*pos].is_whitespace() {
            *pos += 1;
        }
    };
    // Reads up to `max` digits (exactly `max` when `exact`), with an optional sign if `signed`.
    let read_num = |pos: &mut usize, max: usize, exact: bool, signed: bool, what: &str| -> Result<i64> {
        skip_spaces(pos);
        let mut neg = false;
        if signed && *pos < chars.len() && (chars[*pos] == '-' || chars[*pos] == '+') {
            neg = chars[*pos] == '-';
            *pos += 1;
        }
        let start = *pos;
        while *pos < chars.len() && *pos - start < max && chars[*pos].is_ascii_digit() {
            *pos += 1;
        }
        let n = *pos - start;
        if n == 0 || (exact && n != max) {
            return Err(bad(what));
        }
        let s: String = chars[start..*pos].iter().collect();
        let v: i64 = s.parse().map_err(|_| bad(what))?;
        Ok(if neg { -v } else { v })
    };
    for tok in tokenize(fmt) {
        match tok {
            Tok::Lit(s) => {
                for c in s.chars() {
                    if c.is_whitespace() {
                        skip_spaces(&mut pos);
                    } else if pos < chars.len()
                        && (chars[pos] == c || (!chars[pos].is_alphanumeric() && !c.is_alphanumeric()))
                    {
                        pos += 1;
                    } else if pos < chars.len() && !c.is_alphanumeric() && chars[pos].is_alphanumeric() {
                        // A separator in the template may be absent from the input.
                    } else {
                        return Err(exec(format!("input \"{input}\" doesn't match template \"{fmt}\"")));
                    }
                }
            }
            Tok::Key { key, .. } => match key {
                "YYYY" | "IYYY" => p.year = Some(read_num(&mut pos, 6, false, true, "YYYY")?),
                "Y,YYY" => {
                    let a = read_num(&mut pos, 3, false, false, "Y,YYY")?;
                    if pos < chars.len() && chars[pos] == ',' {
                        pos += 1;
                    }
                    let b = read_num(&mut pos, 3, true, false, "Y,YYY")?;
                    p.year = Some(a * 1000 + b);
                }
                "YYY" | "IYY" => p.year = Some(2000 + read_num(&mut pos, 3, false, false, "YYY")?),
                "YY" | "IY" => {
                    let y = read_num(&mut pos, 2, false, false, "YY")?;
                    p.year = Some(if y < 70 { 2000 + y } else { 1900 + y });
                }
                "Y" | "I" => p.year = Some(2000 + read_num(&mut pos, 1, false, false, "Y")?),
                "MM" => p.month = read_num(&mut pos, 2, false, false, "MM")? as u32,
                "DD" => p.day = read_num(&mut pos, 2, false, false, "DD")? as u32,
                "DDD" => p.doy = Some(read_num(&mut pos, 3, false, false, "DDD")? as u32),
                "HH" | "HH12" => {
                    p.hour = read_num(&mut pos, 2, false, false, "HH12")? as u32;
                    p.hour12 = true;
                }
                "HH24" => p.hour = read_num(&mut pos, 2, false, false, "HH24")? as u32,
                "MI" => p.minute = read_num(&mut pos, 2, false, false, "MI")? as u32,
                "SS" => p.second = read_num(&mut pos, 2, false, false, "SS")? as u32,
                "MS" => p.nanos = read_num(&mut pos, 3, true, false, "MS")? as u32 * 1_000_000,
                "US" => p.nanos = read_num(&mut pos, 6, true, false, "US")? as u32 * 1_000,
                "NS" => p.nanos = read_num(&mut pos, 9, true, false, "NS")? as u32,
                "FF1" | "FF2" | "FF3" | "FF4" | "FF5" | "FF6" => {
                    let n: usize = key[2..].parse().unwrap_or(6);
                    p.nanos = read_num(&mut pos, n, false, false, key)? as u32 * 10u32.pow(9 - n as u32);
                }
                "SSSS" => {
                    let s = read_num(&mut pos, 5, false, false, "SSSS")?;
                    p.hour = (s / 3600) as u32;
                    p.minute = (s / 60 % 60) as u32;
                    p.second = (s % 60) as u32;
                }
                "AM" | "PM" | "A.M." | "P.M." => {
                    skip_spaces(&mut pos);
                    let rest: String = chars[pos..].iter().collect::<String>().to_ascii_uppercase();
                    let word = ["A.M.", "P.M.", "AM", "PM"]
                        .iter()
                        .find(|w| rest.starts_with(*w))
                        .ok_or_else(|| bad("AM/PM"))?;
                    p.pm = Some(word.starts_with('P'));
                    pos += word.len();
                }
                "BC" | "AD" | "B.C." | "A.D." => {
                    skip_spaces(&mut pos);
                    let rest: String = chars[pos..].iter().collect::<String>().to_ascii_uppercase();
                    let word = ["B.C.", "A.D.", "BC", "AD"]
                        .iter()
                        .find(|w| rest.starts_with(*w))
                        .ok_or_else(|| bad("BC/AD"))?;
                    p.bc = word.starts_with('B');
                    pos += word.len();
                }
                "MONTH" | "MON" => {
                    skip_spaces(&mut pos);
                    let rest: String = chars[pos..].iter().collect::<String>().to_ascii_lowercase();
                    let (k, name) = MONTHS
                        .iter()
                        .enumerate()
                        .find_map(|(k, m)| {
                            let m = m.to_ascii_lowercase();
                            if key == "MONTH" && rest.starts_with(&m) {
                                Some((k, m.len()))
                            } else if rest.starts_with(&m[..3]) {
                                Some((k, 3))
                            } else {
                                None
                            }
                        })
                        .ok_or_else(|| bad("month"))?;
                    p.month = k as u32 + 1;
                    pos += name;
                }
                "DAY" | "DY" => {
                    skip_spaces(&mut pos);
                    while pos < chars.len() && chars[pos].is_alphabetic() {
                        pos += 1;
                    }
                }
                "TZH" => {
                    skip_spaces(&mut pos);
                    let neg = pos < chars.len() && chars[pos] == '-';
                    let h = read_num(&mut pos, 2, true, true, "TZH")?;
                    p.tzh_neg = neg;
                    p.offset_secs = Some((h * 3600) as i32);
                }
                "TZM" => {
                    p.tzm = read_num(&mut pos, 2, true, false, "TZM")? as i32;
                    if p.offset_secs.is_none() {
                        p.offset_secs = Some(0);
                    }
                }
                "J" => {
                    let j = read_num(&mut pos, 8, false, false, "J")?;
                    let d = NaiveDate::from_num_days_from_ce_opt((j - 1_721_426) as i32).ok_or_else(|| bad("J"))?;
                    p.year = Some(d.year() as i64);
                    p.month = d.month();
                    p.day = d.day();
                }
                _ => {
                    // Fields that carry no date information are read past.
                    read_num(&mut pos, 6, false, false, key)?;
                }
            },
        }
    }
    skip_spaces(&mut pos);
    if pos < chars.len() {
        return Err(exec(format!(
            "trailing characters \"{}\" after template \"{fmt}\"",
            chars[pos..].iter().collect::<String>()
        )));
    }
    Ok(p)
}

fn template_to_naive(p: &Parsed) -> Result<NaiveDateTime> {
    let mut year = p.year.unwrap_or(1);
    if p.bc {
        year = 1 - year;
    }
    let year = i32::try_from(year).map_err(|_| out_of_range())?;
    let date = match p.doy {
        Some(doy) => NaiveDate::from_yo_opt(year, doy),
        None => NaiveDate::from_ymd_opt(year, p.month, p.day),
    }
    .ok_or_else(|| {
        exec(format!(
            "date/time field value out of range: {year}-{}-{}",
            p.month, p.day
        ))
    })?;
    let mut hour = p.hour;
    if p.hour12 || p.pm.is_some() {
        if !(1..=12).contains(&hour) && p.hour12 {
            return Err(exec(format!("hour \"{hour}\" is invalid for the 12-hour clock")));
        }
        hour %= 12;
        if p.pm == Some(true) {
            hour += 12;
        }
    }
    let time = NaiveTime::from_hms_nano_opt(hour, p.minute, p.second, p.nanos).ok_or_else(|| {
        exec(format!(
            "date/time field value out of range: {hour}:{}:{}",
            p.minute, p.second
        ))
    })?;
    Ok(date.and_time(time))
}

fn to_timestamp() -> ScalarUDF {
    func("to_timestamp")
        .stable()
        .coerce(|t| match t {
            [a] if is_numeric(a) || matches!(a, DataType::Null) || is_string(a) => Ok(vec![DataType::Float64]),
            [_, _] => Ok(vec![DataType::Utf8, DataType::Utf8]),
            _ => Err(no_function("to_timestamp", t)),
        })
        .returns_type(timestamptz())
        .strict(|a, ctx| {
            let tz = Some(Arc::from("+00:00"));
            match a {
                [ScalarValue::Float64(Some(x))] => {
                    let us = x * 1e6;
                    if !us.is_finite() || us.abs() > 9.2e18 {
                        return Err(exec("timestamp out of range"));
                    }
                    Ok(ScalarValue::TimestampMicrosecond(Some(us.round() as i64), tz))
                }
                [ScalarValue::Utf8(Some(s)), ScalarValue::Utf8(Some(f))] => {
                    let p = parse_with_template(s, f)?;
                    let local = template_to_naive(&p)?;
                    let utc = match p.offset_secs {
                        Some(h) => {
                            let m = if p.tzh_neg || h < 0 { -p.tzm * 60 } else { p.tzm * 60 };
                            local - Duration::seconds((h + m) as i64)
                        }
                        None => ctx.time_zone()?.to_utc(&local),
                    };
                    Ok(ScalarValue::TimestampMicrosecond(Some(naive_to_micros(&utc)), tz))
                }
                _ => Ok(ScalarValue::Null),
            }
        })
}

fn to_date() -> ScalarUDF {
    func("to_date")
        .args(vec![DataType::Utf8, DataType::Utf8])
        .returns_type(DataType::Date32)
        .strict(|a, _| {
            let (ScalarValue::Utf8(Some(s)), ScalarValue::Utf8(Some(f))) = (&a[0], &a[1]) else {
                return Ok(ScalarValue::Null);
            };
            let p = parse_with_template(s, f)?;
            Ok(ScalarValue::Date32(Some(date_to_days(&template_to_naive(&p)?.date()))))
        })
}

// ---------------------------------------------------------------------------------------------
// make_*

fn int_of(v: &ScalarValue) -> i64 {
    super::math::scalar_i64(v).unwrap_or(0)
}

fn float_of(v: &ScalarValue) -> f64 {
    match v {
        ScalarValue::Float64(Some(f)) => *f,
        _ => 0.0,
    }
}

fn make_date_checked(y: i64, m: i64, d: i64) -> Result<NaiveDate> {
    // Negative years are BC: -1 is 1 BC, which chrono numbers 0.
    let cy = if y < 0 { y + 1 } else { y };
    let bad = || {
        exec(format!(
            "Invalid parameter year, month, day: invalid date: {cy}-{m}-{d}"
        ))
    };
    if y == 0 {
        return Err(bad());
    }
    let (Ok(cy32), Ok(m32), Ok(d32)) = (i32::try_from(cy), u32::try_from(m), u32::try_from(d)) else {
        return Err(bad());
    };
    NaiveDate::from_ymd_opt(cy32, m32, d32).ok_or_else(bad)
}

fn make_time_checked(h: i64, m: i64, sec: f64) -> Result<NaiveTime> {
    let bad = || exec(format!("Invalid parameter hour, min, sec: invalid time: {h}:{m}:{sec}"));
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0.0..60.0).contains(&sec) || sec.is_nan() {
        return Err(bad());
    }
    let nanos = (sec * 1e9).round() as i64;
    let n = NaiveTime::from_hms_opt(h as u32, m as u32, 0).ok_or_else(bad)?;
    // Postgres keeps microseconds.
    let micros = (nanos + 500) / 1000;
    Ok(n + Duration::microseconds(micros))
}

fn make_timestamp_parts(a: &[ScalarValue]) -> Result<NaiveDateTime> {
    let sec = float_of(&a[5]);
    if sec < 0.0 {
        return Err(exec(format!("Invalid parameter sec: invalid sec: {sec}")));
    }
    let d = make_date_checked(int_of(&a[0]), int_of(&a[1]), int_of(&a[2]))?;
    let t = make_time_checked(int_of(&a[3]), int_of(&a[4]), sec)?;
    Ok(d.and_time(t))
}

fn coerce_ints_then_float(
    name: &'static str,
    n_int: usize,
    n_total: usize,
    extra: Option<DataType>,
) -> impl Fn(&[DataType]) -> Result<Vec<DataType>> {
    move |t: &[DataType]| {
        let ok_len = t.len() == n_total || (extra.is_some() && t.len() == n_total + 1);
        if !ok_len {
            return Err(no_function(name, t));
        }
        let mut out = vec![DataType::Int64; n_int];
        out.extend(std::iter::repeat_n(DataType::Float64, n_total - n_int));
        if t.len() > n_total {
            out.push(extra.clone().unwrap_or(DataType::Utf8));
        }
        Ok(out)
    }
}

fn make_functions() -> Vec<ScalarUDF> {
    vec![
        func("make_date")
            .coerce(coerce_ints_then_float("make_date", 3, 3, None))
            .returns_type(DataType::Date32)
            .strict(|a, _| {
                Ok(ScalarValue::Date32(Some(date_to_days(&make_date_checked(
                    int_of(&a[0]),
                    int_of(&a[1]),
                    int_of(&a[2]),
                )?))))
            }),
        func("make_time")
            .coerce(coerce_ints_then_float("make_time", 2, 3, None))
            .returns_type(TIME)
            .strict(|a, _| {
                let t = make_time_checked(int_of(&a[0]), int_of(&a[1]), float_of(&a[2]))?;
                Ok(ScalarValue::Time64Microsecond(Some(time_to_micros(&t))))
            }),
        func("make_timestamp")
            .coerce(coerce_ints_then_float("make_timestamp", 5, 6, None))
            .returns_type(TIMESTAMP)
            .strict(|a, _| {
                Ok(ScalarValue::TimestampMicrosecond(
                    Some(naive_to_micros(&make_timestamp_parts(a)?)),
                    None,
                ))
            }),
        func("make_timestamptz")
            .stable()
            .coerce(coerce_ints_then_float("make_timestamptz", 5, 6, Some(DataType::Utf8)))
            .returns_type(timestamptz())
            .strict(|a, ctx| {
                let local = make_timestamp_parts(a)?;
                let zone = match a.get(6) {
                    Some(ScalarValue::Utf8(Some(z))) => super::tz::parse_zone(z)
                        .ok_or_else(|| exec(format!("Invalid parameter time_zone: '{z}' is not a valid timezone")))?,
                    _ => ctx.time_zone()?,
                };
                Ok(ScalarValue::TimestampMicrosecond(
                    Some(naive_to_micros(&zone.to_utc(&local))),
                    Some(Arc::from("+00:00")),
                ))
            }),
    ]
}

// ---------------------------------------------------------------------------------------------
// time zones, age, justify

/// `timezone(zone, ts)`: timestamp → timestamptz reading it as wall-clock time in `zone`;
/// timestamptz → timestamp giving the wall-clock time in `zone`. Also `ts AT TIME ZONE zone`.
pub(crate) fn timezone() -> ScalarUDF {
    func("timezone")
        .coerce(|t| {
            if t.len() != 2 {
                return Err(no_function("timezone", t));
            }
            let src = match &t[1] {
                DataType::Date32 => timestamptz(),
                other => norm_datetime(other)
                    .filter(|x| matches!(x, DataType::Timestamp(..)))
                    .ok_or_else(|| no_function("timezone", t))?,
            };
            Ok(vec![DataType::Utf8, src])
        })
        .returns(|t| {
            Ok(if is_timestamptz(&t[1]) {
                TIMESTAMP
            } else {
                timestamptz()
            })
        })
        .strict(|a, _| {
            let (ScalarValue::Utf8(Some(z)), Some((us, tz))) = (&a[0], ts_micros(&a[1])) else {
                return Ok(ScalarValue::Null);
            };
            let zone = zone_or_err(z)?;
            let n = micros_to_naive(us).ok_or_else(out_of_range)?;
            Ok(if tz {
                ScalarValue::TimestampMicrosecond(Some(naive_to_micros(&zone.to_local(&n))), None)
            } else {
                ScalarValue::TimestampMicrosecond(Some(naive_to_micros(&zone.to_utc(&n))), Some(Arc::from("+00:00")))
            })
        })
}

fn months_between(a: &NaiveDateTime, b: &NaiveDateTime) -> IntervalMonthDayNano {
    // Postgres' age(): field-wise difference, borrowing from the next larger field.
    let (mut years, mut months, mut days) = (
        a.year() as i64 - b.year() as i64,
        a.month() as i64 - b.month() as i64,
        a.day() as i64 - b.day() as i64,
    );
    let ta = time_to_micros(&a.time());
    let tb = time_to_micros(&b.time());
    let mut micros = ta - tb;
    let neg = a < b;
    let (hi, lo) = if neg { (b, a) } else { (a, b) };
    if neg {
        years = -years;
        months = -months;
        days = -days;
        micros = -micros;
    }
    if micros < 0 {
        micros += MICROS_PER_DAY;
        days -= 1;
    }
    if days < 0 {
        // Borrowed days are those of the earlier date's month, as in Postgres.
        let _ = hi;
        let dim = days_in_month(lo.year(), lo.month()) as i64;
        days += dim;
        months -= 1;
    }
    if months < 0 {
        months += 12;
        years -= 1;
    }
    let total_months = years * 12 + months;
    let sign = if neg { -1 } else { 1 };
    IntervalMonthDayNano {
        months: (sign * total_months) as i32,
        days: (sign * days) as i32,
        nanoseconds: sign * micros * 1000,
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    match (next, NaiveDate::from_ymd_opt(y, m, 1)) {
        (Some(n), Some(c)) => (n - c).num_days() as u32,
        _ => 30,
    }
}

fn age() -> ScalarUDF {
    func("age")
        .stable()
        .coerce(|t| {
            if t.is_empty() || t.len() > 2 {
                return Err(no_function("age", t));
            }
            let tz = t.iter().any(is_timestamptz);
            Ok(vec![if tz { timestamptz() } else { TIMESTAMP }; t.len()])
        })
        .returns_type(INTERVAL)
        .strict(|a, ctx| {
            let zone = ctx.time_zone()?;
            let m1 = moment(&a[0], &zone)?.ok_or_else(out_of_range)?;
            let other = match a.get(1) {
                Some(v) => moment(v, &zone)?.ok_or_else(out_of_range)?.local,
                None => {
                    // Postgres: age(ts) = age(current_date, ts), midnight of today.
                    let now = chrono::Utc::now().naive_utc();
                    zone.to_local(&now).date().and_time(NaiveTime::MIN)
                }
            };
            let (x, y) = if a.len() == 2 {
                (m1.local, other)
            } else {
                (other, m1.local)
            };
            Ok(ScalarValue::IntervalMonthDayNano(Some(months_between(&x, &y))))
        })
}

fn justify(name: &'static str) -> ScalarUDF {
    func(name)
        .args(vec![INTERVAL])
        .returns_type(INTERVAL)
        .strict(move |a, _| {
            let ScalarValue::IntervalMonthDayNano(Some(v)) = &a[0] else {
                return Ok(ScalarValue::Null);
            };
            let (mut months, mut days, mut nanos) = (v.months as i64, v.days as i64, v.nanoseconds);
            const DAY: i64 = 86_400_000_000_000;
            if name != "justify_days" {
                days += nanos / DAY;
                nanos %= DAY;
            }
            if name != "justify_hours" {
                months += days / 30;
                days %= 30;
            }
            if name == "justify_interval" {
                if months > 0 && (days < 0 || (days == 0 && nanos < 0)) {
                    days += 30;
                    months -= 1;
                } else if months < 0 && (days > 0 || (days == 0 && nanos > 0)) {
                    days -= 30;
                    months += 1;
                }
            }
            if days > 0 && nanos < 0 {
                nanos += DAY;
                days -= 1;
            } else if days < 0 && nanos > 0 {
                nanos -= DAY;
                days += 1;
            }
            let months = i32::try_from(months).map_err(|_| exec("interval out of range"))?;
            let days = i32::try_from(days).map_err(|_| exec("interval out of range"))?;
            Ok(ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano {
                months,
                days,
                nanoseconds: nanos,
            })))
        })
}

/// `date(x)`: the cast to date as a function.
fn date_fn() -> ScalarUDF {
    func("date")
        .stable()
        .coerce(|t| match t {
            [a] if is_string(a) || matches!(a, DataType::Null | DataType::Date32 | DataType::Timestamp(..)) => {
                Ok(t.to_vec())
            }
            [a] => Err(super::err::plan(format!(
                "cannot cast type \"{}\" to \"date\" in Explicit context",
                pg_type_name(a)
            ))),
            _ => Err(super::err::plan(format!(
                "unexpected arguments number {} for function date",
                t.len()
            ))),
        })
        .returns_type(DataType::Date32)
        .batch(|args, ctx| super::cast::cast_array(&args[0], &DataType::Date32, &ctx.time_zone()?))
}

/// `timestamp - timestamp` as Postgres gives it: an interval of days and time (no months).
pub(crate) fn timestamp_diff() -> ScalarUDF {
    func("pg_timestamp_diff")
        .coerce(|t| {
            let tz = t.iter().any(is_timestamptz);
            Ok(vec![if tz { timestamptz() } else { TIMESTAMP }; t.len().min(2)])
        })
        .returns_type(INTERVAL)
        .strict(|a, _| {
            let (Some((x, _)), Some((y, _))) = (ts_micros(&a[0]), ts_micros(&a[1])) else {
                return Ok(ScalarValue::Null);
            };
            let d = x.checked_sub(y).ok_or_else(|| exec("interval out of range"))?;
            let days = d / MICROS_PER_DAY;
            let rest = d % MICROS_PER_DAY;
            let days = i32::try_from(days).map_err(|_| exec("interval out of range"))?;
            Ok(ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano {
                months: 0,
                days,
                nanoseconds: rest * 1000,
            })))
        })
}

/// `interval * number` and `interval / number` (Postgres' interval_mul): fractional months spill
/// into days (30 per month) and fractional days into time; the time is rounded to microseconds.
pub(crate) fn interval_mul(v: &IntervalMonthDayNano, factor: f64) -> Result<IntervalMonthDayNano> {
    let range = || exec("interval out of range");
    if !factor.is_finite() {
        return Err(range());
    }
    let months_f = v.months as f64 * factor;
    let months = months_f.trunc();
    let days_f = v.days as f64 * factor + (months_f - months) * 30.0;
    let days = days_f.trunc();
    let micros = (v.nanoseconds as f64 / 1000.0) * factor + (days_f - days) * MICROS_PER_DAY as f64;
    let micros = micros.round();
    if months.abs() > i32::MAX as f64 || days.abs() > i32::MAX as f64 || micros.abs() > (i64::MAX / 1000) as f64 {
        return Err(range());
    }
    Ok(IntervalMonthDayNano {
        months: months as i32,
        days: days as i32,
        nanoseconds: micros as i64 * 1000,
    })
}

/// The span of an interval as Postgres compares intervals (a month is 30 days, a day 24 hours),
/// in nanoseconds: `interval '1 day' = interval '24 hours'`, while DataFusion compares the
/// months, days and nanoseconds fields one by one.
pub(crate) fn interval_span() -> ScalarUDF {
    const NANOS_PER_DAY: i128 = 86_400_000_000_000;
    func("pg_interval_span")
        .args(vec![INTERVAL])
        .returns_type(DataType::Decimal128(38, 0))
        .strict(|a, _| {
            let ScalarValue::IntervalMonthDayNano(Some(v)) = &a[0] else {
                return Ok(ScalarValue::Null);
            };
            let span = (i128::from(v.months) * 30 + i128::from(v.days)) * NANOS_PER_DAY + i128::from(v.nanoseconds);
            Ok(ScalarValue::Decimal128(Some(span), 38, 0))
        })
}

/// `pg_interval_mul(interval, factor)` / `pg_interval_div(interval, divisor)`.
pub(crate) fn interval_arith(divide: bool) -> ScalarUDF {
    let name = if divide { "pg_interval_div" } else { "pg_interval_mul" };
    func(name)
        .args(vec![INTERVAL, DataType::Float64])
        .returns_type(INTERVAL)
        .strict(move |a, _| {
            let (ScalarValue::IntervalMonthDayNano(Some(v)), ScalarValue::Float64(Some(f))) = (&a[0], &a[1]) else {
                return Ok(ScalarValue::Null);
            };
            let factor = if divide {
                if *f == 0.0 {
                    return Err(exec("division by zero"));
                }
                1.0 / f
            } else {
                *f
            };
            Ok(ScalarValue::IntervalMonthDayNano(Some(interval_mul(v, factor)?)))
        })
}

/// `now()` / `current_timestamp`: the statement's start time as a timestamptz of this crate
/// (microseconds at +00:00; DataFusion's gives nanoseconds in the session zone, which does not
/// compare with other timestamptz values).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct PgNow {
    signature: datafusion::logical_expr::Signature,
    aliases: Vec<String>,
}

impl PgNow {
    pub(crate) fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(PgNow {
            signature: datafusion::logical_expr::Signature::nullary(datafusion::logical_expr::Volatility::Stable),
            aliases: vec!["current_timestamp".to_string(), "transaction_timestamp".to_string(), "statement_timestamp".to_string()],
        })
    }
}

impl datafusion::logical_expr::ScalarUDFImpl for PgNow {
    fn name(&self) -> &str {
        "now"
    }
    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(timestamptz())
    }
    fn invoke_with_args(
        &self,
        _args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> Result<datafusion::logical_expr::ColumnarValue> {
        // As DataFusion's now(): always simplified to the statement's start time first (an error
        // here also keeps the constant folder, which runs before `simplify`, away from it).
        Err(datafusion::common::DataFusionError::Internal(
            "now() should have been simplified to the statement's start time".into(),
        ))
    }
    fn simplify(
        &self,
        args: Vec<datafusion::logical_expr::Expr>,
        info: &datafusion::logical_expr::simplify::SimplifyContext,
    ) -> Result<datafusion::logical_expr::simplify::ExprSimplifyResult> {
        use datafusion::logical_expr::simplify::ExprSimplifyResult;
        let Some(t) = info.query_execution_start_time() else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        Ok(ExprSimplifyResult::Simplified(datafusion::logical_expr::Expr::Literal(
            ScalarValue::TimestampMicrosecond(Some(t.timestamp_micros()), Some(Arc::from("+00:00"))),
            None,
        )))
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
}

pub(crate) fn functions() -> Vec<ScalarUDF> {
    let mut v = vec![
        PgNow::udf(),
        interval_arith(false),
        interval_arith(true),
        interval_span(),
        date_fn(),
        extract(),
        date_part(),
        date_trunc(),
        to_char(),
        to_timestamp(),
        to_date(),
        timezone(),
        age(),
        justify("justify_days"),
        justify("justify_hours"),
        justify("justify_interval"),
    ];
    v.extend(make_functions());
    v
}

#[allow(dead_code)]
fn ctx_unused(_: &Ctx) {}

#[allow(dead_code)]
const _UNIT: TimeUnit = TimeUnit::Microsecond;

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    fn iv(s: &str) -> IntervalMonthDayNano {
        let (months, days, nanoseconds) = super::super::parse::parse_interval(s).unwrap();
        IntervalMonthDayNano {
            months,
            days,
            nanoseconds,
        }
    }

    fn char_ts(t: &str, f: &str) -> String {
        let n = ts(t);
        let m = Moment {
            local: n,
            offset: None,
            utc: n,
        };
        to_char_tm(f, &tm_of_moment(&m, &Zone::utc()), false).unwrap()
    }

    #[test]
    fn to_char_timestamps() {
        assert_eq!(char_ts("2002-04-20 17:31:12.66", "HH12:MI:SS"), "05:31:12");
        assert_eq!(
            char_ts("2006-01-02 15:04:05", "yyyy-mm-dd hh24:mi:ss"),
            "2006-01-02 15:04:05"
        );
        assert_eq!(
            char_ts("2006-01-02 15:04:05.003", "yyyy-mm-dd hh24:mi:ss.ms"),
            "2006-01-02 15:04:05.003"
        );
        assert_eq!(
            char_ts("2006-01-02 15:04:05.3", "yyyy-mm-dd hh24:mi:ss.us"),
            "2006-01-02 15:04:05.300000"
        );
        assert_eq!(
            char_ts("2021-03-31 17:00:00", "Mon DD, YYYY HH12:MI:SS am"),
            "Mar 31, 2021 05:00:00 pm"
        );
        assert_eq!(
            char_ts("2021-03-31 17:00:00", "Day Month FMDD"),
            "Wednesday March     31"
        );
        assert_eq!(char_ts("2021-03-01 17:00:00", "DDth \"lit\" Q"), "01st lit 1");
    }

    #[test]
    fn to_char_intervals() {
        let c = |i: &str, f: &str| to_char_tm(f, &tm_of_interval(&iv(i)), true);
        assert_eq!(
            c(
                "-20459year -256 days  -120hours 866seconds",
                "YYYY IYYY YY IY MM DD PM pm HH HH12 HH24 MI SS"
            )
            .unwrap(),
            "-20459 -20460 -59 -60 00 -256 AM am -11 -11 -119 -45 -34"
        );
        assert_eq!(
            c(
                "0year -256 days  -120hours",
                "YYYY IYYY YY IY MM DD PM pm HH HH12 HH24 MI SS"
            )
            .unwrap(),
            "0000 -001 00 -1 00 -256 AM am 012 012 -120 00 00"
        );
        assert_eq!(
            c(
                "1year 1month 1day 1hours 1minute 1second",
                "YYYY IYYY YY IY MM DD PM pm HH12 HH24 MI SS MS US"
            )
            .unwrap(),
            "0001 0001 01 01 01 01 AM am 01 01 01 01 000 000000"
        );
        assert_eq!(
            c(
                "-1year -1month -1day -1hours -1minute -1second",
                "YYYY IYYY YY IY MM DD PM pm HH12 HH24 MI SS MS US"
            )
            .unwrap(),
            "-0001 -0002 -01 -02 -01 -1 AM am -01 -01 -01 -01 000 000000"
        );
        assert_eq!(
            c("-23:22:57.124562", "HH12 MI SS MS US").unwrap(),
            "-11 -22 -57 -124 -124562"
        );
        assert!(c("1 year", "IY MM DD AM HH12 MM SS tzhtzm").is_err());
        assert!(c("1 year", "Mon").is_err());
    }

    #[test]
    fn templates() {
        let p = parse_with_template("2021/12/30 14:52:49 +03:30", "YYYY/MM/DD HH24:MI:SS TZH:TZM").unwrap();
        assert_eq!(p.offset_secs, Some(3 * 3600));
        assert_eq!(p.tzm, 30);
        assert!(parse_with_template("2021/12/30 14:52:49 +330", "YYYY/MM/DD HH24:MI:SS TZHTZM").is_err());
        assert!(parse_with_template("2001-04-17 00:00:00.9", "YYYY-MM-DD HH24:MI:SS.MS").is_err());
        assert!(parse_with_template("2001-04-17 00:00:00.9999", "YYYY-MM-DD HH24:MI:SS.US").is_err());
        let p = parse_with_template("2022/12/25 10:24:33", "YYYY/MM/DD HH12:MI:SS").unwrap();
        assert_eq!(template_to_naive(&p).unwrap().to_string(), "2022-12-25 10:24:33");
    }

    #[test]
    fn ages_and_numbers() {
        let a = months_between(&ts("2001-04-10 00:00:00"), &ts("1957-06-13 00:00:00"));
        assert_eq!((a.months, a.days, a.nanoseconds), (43 * 12 + 9, 27, 0));
        assert_eq!(to_char_number(12345.678, None, "99999.99").unwrap(), " 12345.68");
        assert_eq!(to_char_number(-1.5, None, "FM999.9").unwrap(), "-1.5");
        assert_eq!(to_char_number(123.0, None, "99").unwrap(), " ##");
    }
}
