//! The in-memory jsonb value: parsing JSON text, printing it in the normalized form that is
//! stored in `LargeUtf8` columns, and the printing helpers shared by the functions.

use std::cmp::Ordering;
use std::fmt::Write as _;

/// How numbers are printed. RisingWave (jsonbb) keeps integers that fit 64 bits exact and turns
/// every other number into an `f64` (printed shortest round-trip: `1.0`, `1e-7`,
/// `1.1451419198101145e38`); Postgres keeps the numeric text (`1e2` → `100`, `1.50` → `1.50`).
/// The e2e suite expects the RisingWave form (batch/types/jsonb_issue_23376), so it is the one
/// in use; the Postgres one is kept for the day the project decides otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberStyle {
    RisingWave,
    Postgres,
}

pub const NUMBER_STYLE: NumberStyle = NumberStyle::RisingWave;

/// Nesting deeper than this is refused: every walk over a value is recursive, and user input
/// must not be able to overflow the stack.
pub const MAX_DEPTH: usize = 1000;

/// A number in its canonical printed form (see [`NumberStyle`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Number(String);

impl Number {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_i64(v: i64) -> Number {
        Number(v.to_string())
    }

    pub fn from_u64(v: u64) -> Number {
        Number(v.to_string())
    }

    /// `None` for NaN and infinities, which JSON cannot hold.
    pub fn from_f64(v: f64) -> Option<Number> {
        if !v.is_finite() {
            return None;
        }
        let mut buf = ryu::Buffer::new();
        let text = buf.format_finite(v);
        Some(match NUMBER_STYLE {
            NumberStyle::RisingWave => Number(text.to_string()),
            // Postgres prints float8 1 as `1`; the numeric built from that text keeps no `.0`.
            NumberStyle::Postgres => {
                let text = text.strip_suffix(".0").unwrap_or(text);
                Number(pg_numeric_text(text).unwrap_or_else(|| text.to_string()))
            }
        })
    }

    /// A number written as decimal text (as SQL `numeric` prints), canonicalized per style.
    pub fn from_decimal_text(text: &str) -> Option<Number> {
        match NUMBER_STYLE {
            NumberStyle::RisingWave => {
                let integer = !text.contains(['.', 'e', 'E']);
                // `-0` is not an integer to serde_json (which jsonbb follows) but the double -0.0.
                let negative_zero = text.starts_with('-') && text.bytes().skip(1).all(|b| b == b'0');
                if integer && !negative_zero {
                    if let Ok(v) = text.parse::<i64>() {
                        return Some(Number::from_i64(v));
                    }
                    if let Ok(v) = text.parse::<u64>() {
                        return Some(Number::from_u64(v));
                    }
                }
                text.parse::<f64>().ok().and_then(Number::from_f64)
            }
            NumberStyle::Postgres => pg_numeric_text(text).map(Number),
        }
    }

    /// Canonicalizes a JSON number literal that the parser has already validated.
    fn from_json_literal(text: &str) -> Option<Number> {
        Number::from_decimal_text(text)
    }

    pub fn as_f64(&self) -> f64 {
        self.0.parse::<f64>().unwrap_or(f64::NAN)
    }

    /// Numeric equality: `1` and `1.0` are the same jsonb number.
    pub fn num_eq(&self, other: &Number) -> bool {
        self.0 == other.0 || self.as_f64() == other.as_f64()
    }
}

/// Postgres `numeric` output for a decimal literal: no exponent, no leading zeros, and as many
/// fraction digits as the literal's scale (`1.50e1` → `15.0`). `None` when the exponent is too
/// large for numeric.
pub(crate) fn pg_numeric_text(text: &str) -> Option<String> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i64>().ok()?),
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // Postgres numeric limits: 131072 digits before the point, 16383 after.
    if !(-16383..=131072).contains(&exp) {
        return None;
    }
    let digits: String = format!("{int_part}{frac_part}");
    let point = int_part.len() as i64 + exp; // position of the decimal point within `digits`
    let scale = (frac_part.len() as i64 - exp).max(0) as usize;
    let mut int_digits = String::new();
    let mut frac_digits = String::new();
    if point <= 0 {
        frac_digits.push_str(&"0".repeat((-point) as usize));
        frac_digits.push_str(&digits);
    } else if point as usize >= digits.len() {
        int_digits.push_str(&digits);
        int_digits.push_str(&"0".repeat(point as usize - digits.len()));
    } else {
        int_digits.push_str(&digits[..point as usize]);
        frac_digits.push_str(&digits[point as usize..]);
    }
    frac_digits.truncate(scale);
    while frac_digits.len() < scale {
        frac_digits.push('0');
    }
    let int_digits = int_digits.trim_start_matches('0');
    let int_digits = if int_digits.is_empty() {
        "0"
    } else {
        int_digits
    };
    let is_zero = int_digits == "0" && frac_digits.bytes().all(|b| b == b'0');
    let mut out = String::new();
    if negative && !is_zero {
        out.push('-');
    }
    out.push_str(int_digits);
    if scale > 0 {
        out.push('.');
        out.push_str(&frac_digits);
    }
    Some(out)
}

/// Object entries in jsonb order (see [`key_cmp`]), keys unique.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object(Vec<(String, Value)>);

/// jsonb's key order: shorter keys first, then bytewise.
pub fn key_cmp(a: &str, b: &str) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

impl Object {
    pub fn new() -> Object {
        Object(Vec::new())
    }

    /// Builds from entries in input order; on duplicate keys the last one wins, as in jsonb.
    pub fn from_entries(entries: Vec<(String, Value)>) -> Object {
        let mut obj = Object(Vec::with_capacity(entries.len()));
        for (k, v) in entries {
            obj.insert(k, v);
        }
        obj
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| key_cmp(k, key))
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match self.find(key) {
            Ok(i) => Some(&mut self.0[i].1),
            Err(_) => None,
        }
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    pub fn insert(&mut self, key: String, value: Value) {
        match self.find(&key) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        match self.find(key) {
            Ok(i) => Some(self.0.remove(i).1),
            Err(_) => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn retain(&mut self, f: impl FnMut(&(String, Value)) -> bool) {
        self.0.retain(f)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.0.iter_mut().map(|(_, v)| v)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Object),
}

impl Value {
    /// The name `jsonb_typeof` returns, also used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    pub fn is_scalar(&self) -> bool {
        !matches!(self, Value::Array(_) | Value::Object(_))
    }

    /// The normalized text stored in jsonb columns.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self);
        out
    }

    /// The text `->>` and `#>>` return: strings unquoted, JSON null as SQL NULL.
    pub fn to_sql_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_text()),
        }
    }
}

/// Why JSON text was refused; shown after `invalid input syntax for type json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid input syntax for type json: {}", self.0)
    }
}

pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos < p.s.len() {
        return Err(p.unexpected());
    }
    Ok(v)
}

/// Parses and prints in normalized form; what `'...'::jsonb` does.
pub fn normalize(text: &str) -> Result<String, ParseError> {
    parse(text).map(|v| v.to_text())
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
    }

    fn unexpected(&self) -> ParseError {
        if self.pos >= self.s.len() {
            return ParseError("The input string ended unexpectedly.".into());
        }
        // Show the offending token the way Postgres does: up to the next delimiter.
        let rest = &self.text[self.pos..];
        let end = rest
            .char_indices()
            .skip(1)
            .find(|(_, c)| !c.is_alphanumeric())
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        ParseError(format!("Token \"{}\" is invalid.", &rest[..end]))
    }

    fn expect_literal(&mut self, word: &str) -> Result<(), ParseError> {
        if self.s[self.pos..].starts_with(word.as_bytes()) {
            let end = self.pos + word.len();
            if self.s.get(end).is_some_and(|b| b.is_ascii_alphanumeric()) {
                return Err(self.unexpected());
            }
            self.pos = end;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth >= MAX_DEPTH {
            return Err(ParseError(format!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        match self.s.get(self.pos) {
            None => Err(self.unexpected()),
            Some(b'{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.s.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Value::Object(Object::new()));
                }
                loop {
                    self.skip_ws();
                    if self.s.get(self.pos) != Some(&b'"') {
                        return Err(self.unexpected());
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    if self.s.get(self.pos) != Some(&b':') {
                        return Err(self.unexpected());
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let v = self.value(depth + 1)?;
                    entries.push((key, v));
                    self.skip_ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Value::Object(Object::from_entries(entries)));
                        }
                        _ => return Err(self.unexpected()),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    self.skip_ws();
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::Array(items));
                        }
                        _ => return Err(self.unexpected()),
                    }
                }
            }
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.expect_literal("true").map(|_| Value::Bool(true)),
            Some(b'f') => self.expect_literal("false").map(|_| Value::Bool(false)),
            Some(b'n') => self.expect_literal("null").map(|_| Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        if self.s.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.s.get(self.pos) {
            Some(b'0') => {
                self.pos += 1;
                if self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    return Err(self.token_error(start));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.token_error(start)),
        }
        if self.s.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.token_error(start));
            }
        }
        if let Some(b'e' | b'E') = self.s.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.s.get(self.pos) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.token_error(start));
            }
        }
        if self
            .s
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
        {
            return Err(self.token_error(start));
        }
        let literal = &self.text[start..self.pos];
        Number::from_json_literal(literal)
            .map(Value::Number)
            .ok_or_else(|| ParseError(format!("number \"{literal}\" is out of range")))
    }

    fn token_error(&mut self, start: usize) -> ParseError {
        self.pos = start;
        self.unexpected()
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let hex = self.s.get(self.pos..self.pos + 4).ok_or_else(|| {
            ParseError("\"\\u\" must be followed by four hexadecimal digits.".into())
        })?;
        let mut v = 0u32;
        for &b in hex {
            let d = (b as char).to_digit(16).ok_or_else(|| {
                ParseError("\"\\u\" must be followed by four hexadecimal digits.".into())
            })?;
            v = v * 16 + d;
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        // Caller checked the opening quote.
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.s.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run ends at an ASCII byte or at the end, so it is a char boundary.
            out.push_str(&self.text[run_start..self.pos]);
            match self.s.get(self.pos) {
                None => return Err(ParseError("The input string ended unexpectedly.".into())),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(&esc) = self.s.get(self.pos) else {
                        return Err(ParseError("The input string ended unexpectedly.".into()));
                    };
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(ParseError(
                                        "Unicode high surrogate must not follow a high surrogate or end the string."
                                            .into(),
                                    ));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(ParseError(
                                        "Unicode low surrogate must follow a high surrogate."
                                            .into(),
                                    ));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(ParseError(
                                    "Unicode low surrogate must follow a high surrogate.".into(),
                                ));
                            } else {
                                hi
                            };
                            match char::from_u32(code) {
                                Some(c) => out.push(c),
                                None => {
                                    return Err(ParseError("invalid Unicode escape value".into()))
                                }
                            }
                        }
                        other => {
                            let c = self.text[self.pos - 1..]
                                .chars()
                                .next()
                                .unwrap_or(other as char);
                            return Err(ParseError(format!(
                                "Escape sequence \"\\{c}\" is invalid."
                            )));
                        }
                    }
                }
                Some(&b) => {
                    return Err(ParseError(format!(
                        "Character with value 0x{b:02x} must be escaped."
                    )));
                }
            }
        }
    }
}

pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(n.as_str()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(obj) => {
            out.push('{');
            for (i, (k, item)) in obj.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, k);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// `jsonb_pretty`: four-space indentation, one element per line, empty containers kept on
/// one line (RisingWave's layout).
pub fn pretty(v: &Value) -> String {
    let mut out = String::new();
    write_pretty(&mut out, v, 0);
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("    ");
    }
}

fn write_pretty(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                indent(out, level + 1);
                write_pretty(out, item, level + 1);
            }
            out.push('\n');
            indent(out, level);
            out.push(']');
        }
        Value::Object(obj) if !obj.is_empty() => {
            out.push_str("{\n");
            for (i, (k, item)) in obj.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                indent(out, level + 1);
                write_string(out, k);
                out.push_str(": ");
                write_pretty(out, item, level + 1);
            }
            out.push('\n');
            indent(out, level);
            out.push('}');
        }
        other => write_value(out, other),
    }
}

/// Parses a Postgres array literal of text (`{a,b,"c d",NULL}`), as an untyped string given
/// where a `text[]` is expected (`#> '{a,0}'`). One dimension only, which is what paths use.
pub fn parse_text_array(text: &str) -> Result<Vec<Option<String>>, String> {
    let err = || format!("malformed array literal: \"{text}\"");
    let t = text.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .ok_or_else(err)?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    if inner.trim().is_empty() {
        return Ok(out);
    }
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut item = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(err()),
                    Some('"') => break,
                    Some('\\') => item.push(chars.next().ok_or_else(err)?),
                    Some(c) => item.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if c == '{' || c == '}' || c == '"' {
                    return Err(err());
                }
                chars.next();
                if c == '\\' {
                    item.push(chars.next().ok_or_else(err)?);
                } else {
                    item.push(c);
                }
            }
            let trimmed = item.trim_end().len();
            item.truncate(trimmed);
            if item.is_empty() {
                return Err(err());
            }
        }
        if !quoted && item.eq_ignore_ascii_case("null") {
            out.push(None);
        } else {
            out.push(Some(item));
        }
        match chars.next() {
            None => return Ok(out),
            Some(',') => continue,
            Some(_) => return Err(err()),
        }
    }
}
