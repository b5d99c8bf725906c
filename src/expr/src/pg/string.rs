//! String and bytea functions: concatenation of any types through their text output, format(),
//! quoting, trimming bytea, checksums, pg_typeof.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use super::err::{exec, no_function};
use super::func::{func, Ctx};
use super::text::{Printer, Style};
use super::types::*;

fn output_printer(ctx: &Ctx) -> Result<Printer> {
    Ok(Printer::new(ctx.time_zone()?, Style::Output))
}

fn text_of(v: &ScalarValue, p: &Printer) -> Result<Option<String>> {
    p.scalar_text(v)
}

fn str_arg(v: &ScalarValue) -> Option<&str> {
    match v {
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => Some(s),
        _ => None,
    }
}

fn bytes_arg(v: &ScalarValue) -> Option<&[u8]> {
    match v {
        ScalarValue::Binary(Some(b)) | ScalarValue::LargeBinary(Some(b)) | ScalarValue::BinaryView(Some(b)) => Some(b),
        _ => None,
    }
}

/// Untyped NULLs become text, so that they have a printable type.
fn keep_types(t: &[DataType]) -> Vec<DataType> {
    t.iter()
        .map(|t| {
            if matches!(t, DataType::Null) {
                DataType::Utf8
            } else {
                t.clone()
            }
        })
        .collect()
}

fn concat() -> ScalarUDF {
    func("concat")
        .coerce(|t| {
            if t.is_empty() {
                return Err(no_function("concat", t));
            }
            Ok(keep_types(t))
        })
        .returns_type(DataType::Utf8)
        .row(false, |a, ctx| {
            let p = output_printer(ctx)?;
            let mut s = String::new();
            for v in a {
                if let Some(t) = text_of(v, &p)? {
                    s.push_str(&t);
                }
            }
            Ok(ScalarValue::Utf8(Some(s)))
        })
}

fn concat_ws() -> ScalarUDF {
    func("concat_ws")
        .coerce(|t| {
            if t.len() < 2 {
                return Err(no_function("concat_ws", t));
            }
            let mut out = keep_types(t);
            out[0] = DataType::Utf8;
            Ok(out)
        })
        .returns_type(DataType::Utf8)
        .row(false, |a, ctx| {
            let Some(sep) = str_arg(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            let p = output_printer(ctx)?;
            let mut parts = vec![];
            for v in &a[1..] {
                if let Some(t) = text_of(v, &p)? {
                    parts.push(t);
                }
            }
            Ok(ScalarValue::Utf8(Some(parts.join(sep))))
        })
}

/// `text || anything` and `anything || text`: the non-text side goes through its output function.
pub(crate) fn textcat() -> ScalarUDF {
    func("pg_textcat")
        .coerce(|t| {
            if t.len() != 2 {
                return Err(no_function("pg_textcat", t));
            }
            Ok(keep_types(t))
        })
        .returns_type(DataType::Utf8)
        .strict(|a, ctx| {
            // `text || anynonarray` casts the other side to text: booleans become `true`/`false`.
            let p = Printer::new(ctx.time_zone()?, Style::Cast);
            let l = text_of(&a[0], &p)?.unwrap_or_default();
            let r = text_of(&a[1], &p)?.unwrap_or_default();
            Ok(ScalarValue::Utf8(Some(l + &r)))
        })
}

pub(crate) fn quote_ident_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

pub(crate) fn quote_literal_str(s: &str) -> String {
    let q = s.replace('\'', "''");
    if s.contains('\\') {
        format!("E'{}'", q.replace('\\', "\\\\"))
    } else {
        format!("'{q}'")
    }
}

/// Postgres' `format()`: `%s`, `%I`, `%L`, `%%`, with `n$` positions and `-`/width.
pub(crate) fn pg_format(fmt: &str, args: &[Option<String>]) -> Result<String> {
    let mut out = String::new();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    let mut next_arg = 0usize;
    let unterminated = || exec("unterminated format() type specifier");
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&c) = chars.get(i) else {
            return Err(unterminated());
        };
        if c == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        // Optional `n$`.
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let mut pos: Option<usize> = None;
        if i < chars.len() && chars[i] == '$' && i > start {
            let n: usize = chars[start..i]
                .iter()
                .collect::<String>()
                .parse()
                .map_err(|_| exec("invalid argument number"))?;
            if n == 0 {
                return Err(exec("format specifies argument 0, but arguments are numbered from 1"));
            }
            pos = Some(n - 1);
            i += 1;
        } else {
            i = start;
        }
        let mut left = false;
        if chars.get(i) == Some(&'-') {
            left = true;
            i += 1;
        }
        let ws = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let width: usize = if i > ws {
            chars[ws..i].iter().collect::<String>().parse().unwrap_or(0)
        } else {
            0
        };
        let Some(&kind) = chars.get(i) else {
            return Err(unterminated());
        };
        i += 1;
        let idx = match pos {
            Some(p) => p,
            None => next_arg,
        };
        next_arg = idx + 1;
        if idx >= args.len() {
            return Err(exec("too few arguments for format()"));
        }
        let v = &args[idx];
        let s = match kind {
            's' => v.clone().unwrap_or_default(),
            'I' => match v {
                Some(v) => quote_ident_str(v),
                None => return Err(exec("null values cannot be formatted as an SQL identifier")),
            },
            'L' => match v {
                Some(v) => quote_literal_str(v),
                None => "NULL".to_string(),
            },
            other => return Err(exec(format!("unrecognized format() type specifier \"{other}\""))),
        };
        let n = s.chars().count();
        if n < width {
            let pad = " ".repeat(width - n);
            if left {
                out.push_str(&s);
                out.push_str(&pad);
            } else {
                out.push_str(&pad);
                out.push_str(&s);
            }
        } else {
            out.push_str(&s);
        }
    }
    Ok(out)
}

fn format_fn() -> ScalarUDF {
    func("format")
        .coerce(|t| {
            if t.is_empty() {
                return Err(no_function("format", t));
            }
            let mut out = keep_types(t);
            out[0] = DataType::Utf8;
            Ok(out)
        })
        .returns_type(DataType::Utf8)
        .row(false, |a, ctx| {
            let Some(f) = str_arg(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            let p = output_printer(ctx)?;
            let args = a[1..].iter().map(|v| text_of(v, &p)).collect::<Result<Vec<_>>>()?;
            Ok(ScalarValue::Utf8(Some(pg_format(f, &args)?)))
        })
}

fn quote_ident() -> ScalarUDF {
    func("quote_ident")
        .args(vec![DataType::Utf8])
        .returns_type(DataType::Utf8)
        .strict(|a, _| Ok(ScalarValue::Utf8(str_arg(&a[0]).map(quote_ident_str))))
}

fn quote_literal(name: &'static str) -> ScalarUDF {
    func(name)
        .coerce(move |t| {
            if t.len() == 1 {
                Ok(keep_types(t))
            } else {
                Err(no_function(name, t))
            }
        })
        .returns_type(DataType::Utf8)
        .row(name == "quote_literal", move |a, ctx| {
            let p = Printer::new(ctx.time_zone()?, Style::Output);
            Ok(ScalarValue::Utf8(Some(match text_of(&a[0], &p)? {
                Some(t) => quote_literal_str(&t),
                None => "NULL".to_string(),
            })))
        })
}

fn crc_table(poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    for (i, e) in t.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { poly ^ (c >> 1) } else { c >> 1 };
        }
        *e = c;
    }
    t
}

pub(crate) fn crc(poly: u32, data: &[u8]) -> u32 {
    // Tables are small; computing one per call keeps this free of global state.
    let t = crc_table(poly);
    let mut c = !0u32;
    for b in data {
        c = t[((c ^ *b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

fn crc_fn(name: &'static str, poly: u32) -> ScalarUDF {
    func(name)
        .coerce(move |t| match t {
            [DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Null] => {
                Ok(vec![DataType::Binary])
            }
            _ => Err(no_function(name, t)),
        })
        .returns_type(DataType::Int64)
        .strict(move |a, _| Ok(ScalarValue::Int64(bytes_arg(&a[0]).map(|b| crc(poly, b) as i64))))
}

#[derive(Clone, Copy, PartialEq)]
enum TrimSide {
    Both,
    Left,
    Right,
}

fn trim_bytes<'a>(mut b: &'a [u8], set: &[u8], side: TrimSide) -> &'a [u8] {
    if side != TrimSide::Right {
        while let Some((f, rest)) = b.split_first() {
            if !set.contains(f) {
                break;
            }
            b = rest;
        }
    }
    if side != TrimSide::Left {
        while let Some((l, rest)) = b.split_last() {
            if !set.contains(l) {
                break;
            }
            b = rest;
        }
    }
    b
}

fn trim_str<'a>(s: &'a str, set: &str, side: TrimSide) -> &'a str {
    let is = |c: char| set.contains(c);
    match side {
        TrimSide::Both => s.trim_matches(is),
        TrimSide::Left => s.trim_start_matches(is),
        TrimSide::Right => s.trim_end_matches(is),
    }
}

fn trim_fn(name: &'static str, aliases: &[&str], side: TrimSide) -> ScalarUDF {
    let mut b = func(name);
    for a in aliases {
        b = b.alias(a);
    }
    b.coerce(move |t| {
        let binary = t
            .iter()
            .any(|t| matches!(t, DataType::Binary | DataType::LargeBinary | DataType::BinaryView));
        let target = if binary { DataType::Binary } else { DataType::Utf8 };
        if t.is_empty() || t.len() > 2 {
            return Err(no_function(name, t));
        }
        Ok(vec![target; t.len()])
    })
    .returns(|t| Ok(t[0].clone()))
    .strict(move |a, _| {
        if let Some(s) = str_arg(&a[0]) {
            let set = a.get(1).and_then(str_arg).unwrap_or(" ");
            return Ok(ScalarValue::Utf8(Some(trim_str(s, set, side).to_string())));
        }
        if let Some(b) = bytes_arg(&a[0]) {
            let set = a.get(1).and_then(bytes_arg).unwrap_or(b" ");
            return Ok(ScalarValue::Binary(Some(trim_bytes(b, set, side).to_vec())));
        }
        Ok(ScalarValue::Null)
    })
}

fn pg_typeof() -> ScalarUDF {
    func("pg_typeof")
        .coerce(|t| {
            if t.len() == 1 {
                Ok(t.to_vec())
            } else {
                Err(no_function("pg_typeof", t))
            }
        })
        .returns_type(DataType::Utf8)
        .batch(|args, ctx| {
            let name = pg_type_name(&ctx.arg_types[0]);
            Ok(Arc::new(StringArray::from(vec![name.as_str(); args[0].len()])) as ArrayRef)
        })
}

/// `length`, `octet_length` and `bit_length` of bytea (DataFusion's take text only).
fn length_fn(name: &'static str, aliases: &[&str]) -> ScalarUDF {
    let mut b = func(name);
    for a in aliases {
        b = b.alias(a);
    }
    b.coerce(move |t| match t {
        [DataType::Binary | DataType::LargeBinary | DataType::BinaryView] => Ok(vec![DataType::Binary]),
        [_] => Ok(vec![DataType::Utf8]),
        _ => Err(no_function(name, t)),
    })
    .returns_type(DataType::Int32)
    .strict(move |a, _| {
        let n = if let Some(s) = str_arg(&a[0]) {
            match name {
                "octet_length" => s.len(),
                "bit_length" => s.len() * 8,
                _ => s.chars().count(),
            }
        } else if let Some(b) = bytes_arg(&a[0]) {
            if name == "bit_length" {
                b.len() * 8
            } else {
                b.len()
            }
        } else {
            return Ok(ScalarValue::Null);
        };
        Ok(ScalarValue::Int32(Some(
            i32::try_from(n).map_err(|_| exec("length out of range"))?,
        )))
    })
}

/// Translates a SQL `SIMILAR TO` pattern into an anchored regular expression, as Postgres'
/// similar_escape(): `%` and `_` are wildcards, regex operators (`| * + ? {} () []`) keep their
/// meaning, the escape character quotes the next one, and `<esc>"` marks a capture group.
pub(crate) fn similar_to_regex(pat: &str, escape: Option<char>) -> Result<String> {
    let mut out = String::from("^(?:");
    let mut chars = pat.chars().peekable();
    let mut in_class = false;
    let mut group_open = false;
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            match chars.next() {
                Some('"') => {
                    out.push(if group_open { ')' } else { '(' });
                    group_open = !group_open;
                }
                Some(n) => out.push_str(&regex::escape(&n.to_string())),
                None => {
                    return Err(exec(
                        "invalid escape string: SIMILAR TO pattern must not end with the escape character",
                    ))
                }
            }
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
            continue;
        }
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '[' => {
                in_class = true;
                out.push('[');
            }
            '|' | '*' | '+' | '?' | '{' | '}' | '(' | ')' | ',' => out.push(c),
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out.push_str(")$");
    Ok(out)
}

fn compile(re: &str) -> Result<regex::Regex> {
    regex::Regex::new(re).map_err(|e| exec(format!("invalid regular expression: {e}")))
}

/// `expr [NOT] SIMILAR TO pattern [ESCAPE e]` (put in place of DataFusion's by the cast rule).
pub(crate) fn similar_to() -> ScalarUDF {
    func("pg_similar_to")
        .coerce(|t| {
            if t.len() != 3 {
                return Err(no_function("pg_similar_to", t));
            }
            Ok(vec![DataType::Utf8; 3])
        })
        .returns_type(DataType::Boolean)
        .batch(|args, _| {
            // Built by the analyzer after type coercion, so the arguments may be any string type.
            let utf8 = |a: &ArrayRef| arrow::compute::cast(a, &DataType::Utf8);
            let (v, p, e) = (utf8(&args[0])?, utf8(&args[1])?, utf8(&args[2])?);
            let (v, p, e) = (v.as_string::<i32>(), p.as_string::<i32>(), e.as_string::<i32>());
            let mut cache: std::collections::HashMap<(String, String), regex::Regex> = Default::default();
            let mut out = arrow::array::BooleanBuilder::with_capacity(v.len());
            for i in 0..v.len() {
                if v.is_null(i) || p.is_null(i) || e.is_null(i) {
                    out.append_null();
                    continue;
                }
                let key = (p.value(i).to_string(), e.value(i).to_string());
                if !cache.contains_key(&key) {
                    let mut esc = key.1.chars();
                    let escape = esc.next();
                    if esc.next().is_some() {
                        return Err(exec(
                            "invalid escape string: escape string must be empty or one character",
                        ));
                    }
                    let re = compile(&similar_to_regex(&key.0, escape)?)?;
                    cache.insert(key.clone(), re);
                }
                out.append_value(cache.get(&key).is_some_and(|re| re.is_match(v.value(i))));
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
}

/// Flags of the regexp_* functions as an inline-flag prefix (`i`, `c`, `n`/`s`, `x`); `g` is the caller's.
fn regex_flags(flags: &str) -> Result<String> {
    let mut f = String::new();
    for c in flags.chars() {
        match c {
            'i' => f.push('i'),
            'c' | 'g' => {}
            'n' | 'm' => f.push('m'),
            's' => f.push('s'),
            'x' => f.push('x'),
            other => return Err(exec(format!("invalid regular expression option: \"{other}\""))),
        }
    }
    Ok(if f.is_empty() { String::new() } else { format!("(?{f})") })
}

fn regexp_split_to_array() -> ScalarUDF {
    func("regexp_split_to_array")
        .coerce(|t| {
            if t.len() < 2 || t.len() > 3 {
                return Err(no_function("regexp_split_to_array", t));
            }
            Ok(vec![DataType::Utf8; t.len()])
        })
        .returns_type(list_of(DataType::Utf8))
        .strict(|a, _| {
            let (Some(s), Some(p)) = (str_arg(&a[0]), str_arg(&a[1])) else {
                return Ok(ScalarValue::Null);
            };
            let flags = a.get(2).and_then(str_arg).unwrap_or("");
            let re = compile(&format!("{}{}", regex_flags(flags)?, p))?;
            let parts: Vec<Option<&str>> = if p.is_empty() {
                s.char_indices().map(|(k, c)| Some(&s[k..k + c.len_utf8()])).collect()
            } else {
                re.split(s).map(Some).collect()
            };
            Ok(super::array::list_value(Arc::new(StringArray::from(parts))))
        })
}

/// The rows of Postgres' set-returning `regexp_matches(string, pattern [, flags])` as one list
/// per input row: every match with flag `g`, else at most the first. A match is its capture
/// groups (NULL for a group that did not take part), or the whole match when the pattern has
/// none. The frontend plans `regexp_matches(...)` as `unnest(__regexp_matches_list(...))`, so a
/// NULL argument gives an empty list (no rows), as a strict set-returning function does.
fn regexp_matches_list() -> ScalarUDF {
    func(REGEXP_MATCHES_LIST)
        .coerce(|t| {
            if t.len() < 2 || t.len() > 3 {
                return Err(no_function("regexp_matches", t));
            }
            Ok(vec![DataType::Utf8; t.len()])
        })
        .returns_type(list_of(list_of(DataType::Utf8)))
        .row(false, |a, _| {
            use arrow::array::{ListBuilder, StringBuilder};
            let mut out = ListBuilder::new(StringBuilder::new());
            let flags = match a.get(2) {
                Some(f) if f.is_null() => None,
                Some(f) => str_arg(f),
                None => Some(""),
            };
            if let (Some(s), Some(p), Some(flags)) = (str_arg(&a[0]), str_arg(&a[1]), flags) {
                let re = compile(&format!("{}{}", regex_flags(flags)?, p))?;
                let global = flags.contains('g');
                for caps in re.captures_iter(s) {
                    if caps.len() == 1 {
                        out.values().append_option(caps.get(0).map(|m| m.as_str()));
                    } else {
                        for g in caps.iter().skip(1) {
                            out.values().append_option(g.map(|m| m.as_str()));
                        }
                    }
                    out.append(true);
                    if !global {
                        break;
                    }
                }
            }
            Ok(super::array::list_value(Arc::new(out.finish())))
        })
}

/// The list-valued twin of `regexp_matches` (see [`regexp_matches_list`]).
pub const REGEXP_MATCHES_LIST: &str = "__regexp_matches_list";

/// The 0-based range `[from, to)` of `substr(x, start, len)` in a value of `n` units.
fn substr_range(n: usize, start: i64, len: Option<i64>) -> Result<(usize, usize)> {
    let end = match len {
        Some(l) if l < 0 => return Err(exec("negative substring length not allowed")),
        Some(l) => start.saturating_add(l),
        None => i64::MAX,
    };
    let from = (start.max(1) - 1).min(n as i64) as usize;
    let to = (end.max(1) - 1).min(n as i64) as usize;
    Ok((from, to.max(from)))
}

/// `substr(text|bytea, start [, count])` (also `SUBSTRING(x FROM a FOR b)`): characters of text,
/// bytes of bytea.
pub(crate) fn substr() -> ScalarUDF {
    func("substr")
        .alias("substring")
        .coerce(|t| {
            if !(t.len() == 2 || t.len() == 3) {
                return Err(no_function("substr", t));
            }
            let first = match &t[0] {
                DataType::Binary | DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
                x if is_string(x) || matches!(x, DataType::Null) => DataType::Utf8,
                _ => return Err(no_function("substr", t)),
            };
            let mut out = vec![first];
            out.extend(std::iter::repeat_n(DataType::Int64, t.len() - 1));
            Ok(out)
        })
        .strict(|a, _| {
            let start = match &a[1] {
                ScalarValue::Int64(Some(v)) => *v,
                _ => return Ok(ScalarValue::Null),
            };
            let len = match a.get(2) {
                Some(ScalarValue::Int64(Some(v))) => Some(*v),
                Some(_) => return Ok(ScalarValue::Null),
                None => None,
            };
            if let Some(b) = bytes_arg(&a[0]) {
                let (from, to) = substr_range(b.len(), start, len)?;
                return Ok(ScalarValue::Binary(Some(b[from..to].to_vec())));
            }
            let Some(s) = str_arg(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            let n = s.chars().count();
            let (from, to) = substr_range(n, start, len)?;
            Ok(ScalarValue::Utf8(Some(s.chars().skip(from).take(to - from).collect())))
        })
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Postgres' base64 output: padded, a newline after every 76 characters.
fn base64_encode(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 4 / 3 + 4);
    let mut line = 0;
    for chunk in b.chunks(3) {
        if line == 76 {
            out.push('\n');
            line = 0;
        }
        let n = (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        line += 4;
    }
    out
}

fn base64_decode(s: &str) -> Result<Vec<u8>> {
    let mut out = vec![];
    let (mut acc, mut bits, mut pad) = (0u32, 0u32, 0);
    for c in s.bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            pad += 1;
            continue;
        }
        if pad > 0 {
            return Err(exec("invalid base64 end sequence"));
        }
        let v = B64
            .iter()
            .position(|&x| x == c)
            .ok_or_else(|| exec(format!("invalid symbol \"{}\" found while decoding base64 sequence", c as char)))?;
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

fn escape_encode(b: &[u8]) -> String {
    let mut out = String::new();
    for &c in b {
        if c == b'\\' {
            out.push_str("\\\\");
        } else if c == 0 || c >= 0x80 {
            out.push_str(&format!("\\{c:03o}"));
        } else {
            out.push(c as char);
        }
    }
    out
}

fn unknown_encoding(f: &str) -> datafusion::common::DataFusionError {
    exec(format!("unrecognized encoding: \"{f}\""))
}

/// `encode(bytea, 'hex'|'base64'|'escape')` and `decode(text, format)` as in Postgres.
fn encode_decode(decode: bool) -> ScalarUDF {
    let name = if decode { "decode" } else { "encode" };
    func(name)
        .args(vec![if decode { DataType::Utf8 } else { DataType::Binary }, DataType::Utf8])
        .returns_type(if decode { DataType::Binary } else { DataType::Utf8 })
        .strict(move |a, _| {
            let Some(fmt) = str_arg(&a[1]) else {
                return Ok(ScalarValue::Null);
            };
            let fmt = fmt.to_ascii_lowercase();
            if !decode {
                let Some(b) = bytes_arg(&a[0]) else {
                    return Ok(ScalarValue::Null);
                };
                let s = match fmt.as_str() {
                    "hex" => b.iter().map(|c| format!("{c:02x}")).collect(),
                    "base64" => base64_encode(b),
                    "escape" => escape_encode(b),
                    _ => return Err(unknown_encoding(&fmt)),
                };
                return Ok(ScalarValue::Utf8(Some(s)));
            }
            let Some(s) = str_arg(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            let b = match fmt.as_str() {
                "hex" => {
                    let digits: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
                    if digits.len() % 2 != 0 {
                        return Err(exec("invalid hexadecimal data: odd number of digits"));
                    }
                    digits
                        .chunks(2)
                        .map(|p| {
                            u8::from_str_radix(std::str::from_utf8(p).unwrap_or("zz"), 16)
                                .map_err(|_| exec("invalid hexadecimal digit"))
                        })
                        .collect::<Result<Vec<u8>>>()?
                }
                "base64" => base64_decode(s)?,
                "escape" => {
                    let b = s.as_bytes();
                    let (mut out, mut i) = (vec![], 0);
                    while i < b.len() {
                        if b[i] != b'\\' {
                            out.push(b[i]);
                            i += 1;
                        } else if b.get(i + 1) == Some(&b'\\') {
                            out.push(b'\\');
                            i += 2;
                        } else if i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'3').contains(&b[i + 1]) && (b'0'..=b'7').contains(c)) {
                            let d = |k: usize| (b[i + k] - b'0') as u32;
                            out.push((d(1) << 6 | d(2) << 3 | d(3)) as u8);
                            i += 4;
                        } else {
                            return Err(exec("invalid input syntax for type bytea"));
                        }
                    }
                    out
                }
                _ => return Err(unknown_encoding(&fmt)),
            };
            Ok(ScalarValue::Binary(Some(b)))
        })
}

fn norm_encoding(e: &str) -> String {
    e.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase()
}

/// `convert_from(bytea, encoding)` / `convert_to(text, encoding)`: UTF8 (and LATIN1) only.
fn convert_fn(to_text: bool) -> ScalarUDF {
    let name = if to_text { "convert_from" } else { "convert_to" };
    func(name)
        .args(vec![if to_text { DataType::Binary } else { DataType::Utf8 }, DataType::Utf8])
        .returns_type(if to_text { DataType::Utf8 } else { DataType::Binary })
        .strict(move |a, _| {
            let Some(enc) = str_arg(&a[1]) else {
                return Ok(ScalarValue::Null);
            };
            let enc = norm_encoding(enc);
            let latin1 = matches!(enc.as_str(), "LATIN1" | "ISO88591");
            if !(latin1 || enc == "UTF8") {
                return Err(exec(format!("invalid encoding name \"{}\"", str_arg(&a[1]).unwrap_or_default())));
            }
            if to_text {
                let Some(b) = bytes_arg(&a[0]) else {
                    return Ok(ScalarValue::Null);
                };
                let s = if latin1 {
                    b.iter().map(|&c| c as char).collect()
                } else {
                    String::from_utf8(b.to_vec())
                        .map_err(|_| exec("invalid byte sequence for encoding \"UTF8\""))?
                };
                return Ok(ScalarValue::Utf8(Some(s)));
            }
            let Some(s) = str_arg(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            let b = if latin1 {
                s.chars()
                    .map(|c| u8::try_from(c as u32).map_err(|_| exec(format!("character with byte sequence has no equivalent in encoding \"LATIN1\": {c}"))))
                    .collect::<Result<Vec<u8>>>()?
            } else {
                s.as_bytes().to_vec()
            };
            Ok(ScalarValue::Binary(Some(b)))
        })
}

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![
        convert_fn(true),
        convert_fn(false),
        encode_decode(false),
        encode_decode(true),
        substr(),
        similar_to(),
        regexp_split_to_array(),
        regexp_matches_list(),
        concat(),
        concat_ws(),
        textcat(),
        format_fn(),
        quote_ident(),
        quote_literal("quote_literal"),
        quote_literal("quote_nullable"),
        crc_fn("crc32", 0xEDB8_8320),
        crc_fn("crc32c", 0x82F6_3B78),
        trim_fn("btrim", &["trim"], TrimSide::Both),
        trim_fn("ltrim", &[], TrimSide::Left),
        trim_fn("rtrim", &[], TrimSide::Right),
        pg_typeof(),
        length_fn("length", &["char_length", "character_length"]),
        length_fn("octet_length", &[]),
        length_fn("bit_length", &[]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_quote() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(pg_format("Hello %s", &[s("World")]).unwrap(), "Hello World");
        assert_eq!(pg_format("%s, %%", &[s("a")]).unwrap(), "a, %");
        assert_eq!(pg_format("%2$s %1$s", &[s("a"), s("b")]).unwrap(), "b a");
        assert_eq!(pg_format("|%-4s|%4s|", &[s("a"), s("b")]).unwrap(), "|a   |   b|");
        assert_eq!(
            pg_format("%I %L %L", &[s("Foo"), s("O'R"), None]).unwrap(),
            "\"Foo\" 'O''R' NULL"
        );
        assert!(pg_format("%s %s", &[s("a")])
            .unwrap_err()
            .to_string()
            .contains("too few arguments for format()"));
        assert!(pg_format("%", &[]).is_err());
        assert!(pg_format("%x", &[s("a")]).is_err());
        assert_eq!(crc(0xEDB8_8320, b"123456789"), 0xCBF4_3926);
        assert_eq!(crc(0x82F6_3B78, b"123456789"), 0xE306_9283);
        assert_eq!(quote_ident_str("foo_1"), "foo_1");
        let m = |v: &str, p: &str, e: Option<char>| compile(&similar_to_regex(p, e).unwrap()).unwrap().is_match(v);
        assert!(m("abc", "%(b|d)%", Some('\\')));
        assert!(!m("abc", "(b|c)%", Some('\\')));
        assert!(m("-abc-", "%abc-%", Some('\\')));
        assert!(!m("xabcy", "%abc-%", Some('\\')));
        assert!(m("foobar", "%#\"o_b#\"%", Some('#')));
        assert!(!m("foobar", "%#\"o_b#\"%", Some('\\')));
        assert!(m("foo%bar", "foo\\%bar", Some('\\')));
        assert!(!m("foo\\bar", "foo\\%bar", Some('\\')));
        assert!(m("foo\\bar", "foo\\%bar", None));
        assert!(m("a.c", "a.c", None) && !m("abc", "a.c", None));
        assert_eq!(quote_ident_str("a\"b"), "\"a\"\"b\"");
    }
}
