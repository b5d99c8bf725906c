//! Arrays: Postgres array_out/array_in text and array_send/array_recv binary formats.
//!
//! SQL lists nest (`int[][]` is a list of lists), so a text literal's nesting must follow the
//! type's, and the binary format's dimensions are the nesting levels, which must be rectangular.

use datafusion::scalar::ScalarValue;

use super::{invalid, list_scalar, parse_binary, parse_text, write_binary, write_text, FormatOptions, Value};
use crate::error::{CommonError, Result};
use crate::types::DataType;

/// Postgres' MAXDIM.
const MAX_DIMS: usize = 6;

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

pub(crate) fn write_text_array(
    items: &[Option<Value>],
    elem: &DataType,
    opts: &FormatOptions,
    out: &mut String,
) -> Result<()> {
    out.push('{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            None => out.push_str("NULL"),
            // A nested list prints as a bare sub-array, `{{1,2},{3,4}}`.
            Some(v) if matches!(elem, DataType::List(_)) => write_text(v, elem, opts, out)?,
            Some(v) => {
                let mut text = String::new();
                write_text(v, elem, opts, &mut text)?;
                write_element(&text, out);
            }
        }
    }
    out.push('}');
    Ok(())
}

fn is_array_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{0B}' | '\u{0C}')
}

/// array_out's quoting: quoted when empty, `NULL` in any case, or holding a delimiter, brace,
/// quote, backslash or whitespace; inside quotes `"` and `\` are backslash-escaped.
fn write_element(text: &str, out: &mut String) {
    let needs_quotes = text.is_empty()
        || text.eq_ignore_ascii_case("null")
        || text.chars().any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || is_array_space(c));
    if !needs_quotes {
        out.push_str(text);
        return;
    }
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Parses an array literal (`{1,2,3}`, `{{1,2},{3,4}}`, `{"a b",NULL}`, optionally preceded by
/// dimension bounds like `[0:1]=`, which are ignored) into a list of `elem`.
pub(crate) fn parse_text_array(s: &str, elem: &DataType, opts: &FormatOptions) -> Result<ScalarValue> {
    let mut p = LiteralParser { s, i: 0, opts };
    p.skip_ws();
    if p.peek() == Some('[') {
        p.skip_dimensions()?;
    }
    p.skip_ws();
    if !p.eat('{') {
        return Err(p.malformed("Array value must start with \"{\" or dimension information."));
    }
    let value = p.parse_list(elem)?;
    p.skip_ws();
    if p.i != s.len() {
        return Err(p.malformed("Junk after closing right brace."));
    }
    Ok(value)
}

struct LiteralParser<'a> {
    s: &'a str,
    i: usize,
    opts: &'a FormatOptions,
}

impl LiteralParser<'_> {
    fn malformed(&self, detail: &str) -> CommonError {
        invalid(format!("malformed array literal: \"{}\" ({detail})", self.s))
    }

    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.i += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_array_space) {
            self.i += 1;
        }
    }

    /// `[lo:hi][lo:hi]=`: accepted and ignored, every list starts at 1 here.
    fn skip_dimensions(&mut self) -> Result<()> {
        while self.eat('[') {
            let start = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_digit() || c == ':' || c == '-' || c == '+') {
                self.i += 1;
            }
            if self.i == start || !self.eat(']') {
                return Err(self.malformed("Missing \"]\" after array dimensions."));
            }
        }
        self.skip_ws();
        if !self.eat('=') {
            return Err(self.malformed("Missing \"=\" after array dimensions."));
        }
        Ok(())
    }

    /// After the opening brace: elements up to and including the closing brace.
    fn parse_list(&mut self, elem: &DataType) -> Result<ScalarValue> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat('}') {
            return list_scalar(items, elem);
        }
        loop {
            self.skip_ws();
            items.push(self.parse_element(elem)?);
            self.skip_ws();
            match self.bump() {
                Some(',') => {}
                Some('}') => break,
                _ => return Err(self.malformed("Unexpected array element.")),
            }
        }
        list_scalar(items, elem)
    }

    fn parse_element(&mut self, elem: &DataType) -> Result<ScalarValue> {
        if let DataType::List(inner) = elem {
            if self.eat('{') {
                return self.parse_list(inner);
            }
            let (text, quoted) = self.scalar_text()?;
            if !quoted && text.eq_ignore_ascii_case("null") {
                return super::null_scalar(elem);
            }
            return Err(self.malformed("Multidimensional arrays must have sub-arrays with matching dimensions."));
        }
        if self.peek() == Some('{') {
            return Err(self.malformed("Unexpected \"{\" character."));
        }
        let (text, quoted) = self.scalar_text()?;
        if !quoted && text.eq_ignore_ascii_case("null") {
            return super::null_scalar(elem);
        }
        parse_text(&text, elem, self.opts)
    }

    /// One element's text with quotes and escapes removed, and whether any part of it was
    /// quoted or escaped (such an element is never NULL).
    fn scalar_text(&mut self) -> Result<(String, bool)> {
        let mut text = String::new();
        if self.eat('"') {
            loop {
                match self.bump() {
                    None => return Err(self.malformed("Unexpected end of input.")),
                    Some('"') => return Ok((text, true)),
                    Some('\\') => match self.bump() {
                        Some(c) => text.push(c),
                        None => return Err(self.malformed("Unexpected end of input.")),
                    },
                    Some(c) => text.push(c),
                }
            }
        }
        let mut escaped = false;
        // Length of `text` up to its last character that was not unescaped whitespace.
        let mut kept = 0;
        loop {
            match self.peek() {
                None => return Err(self.malformed("Unexpected end of input.")),
                Some(',') | Some('}') => break,
                Some('"') | Some('{') => return Err(self.malformed("Unexpected array element.")),
                Some('\\') => {
                    self.i += 1;
                    let c = self.bump().ok_or_else(|| self.malformed("Unexpected end of input."))?;
                    text.push(c);
                    kept = text.len();
                    escaped = true;
                }
                Some(c) => {
                    self.i += c.len_utf8();
                    text.push(c);
                    if !is_array_space(c) {
                        kept = text.len();
                    }
                }
            }
        }
        text.truncate(kept);
        if text.is_empty() && !escaped {
            return Err(self.malformed("Unexpected \",\" character."));
        }
        Ok((text, escaped))
    }
}

// ---------------------------------------------------------------------------------------------
// Binary
// ---------------------------------------------------------------------------------------------

/// Number of nesting levels of a list whose elements are `elem`.
fn depth(elem: &DataType) -> usize {
    match elem {
        DataType::List(inner) => 1 + depth(inner),
        _ => 1,
    }
}

fn mismatched_dims() -> CommonError {
    invalid("multidimensional arrays must have sub-arrays with matching dimensions")
}

/// Walks the nested lists level by level, checking they are rectangular, and collects the leaves
/// in row-major order.
fn collect<'a>(
    items: &'a [Option<Value>],
    level: usize,
    dims: &mut [Option<usize>],
    leaves: &mut Vec<Option<&'a Value>>,
) -> Result<()> {
    match dims[level] {
        None => dims[level] = Some(items.len()),
        Some(n) if n != items.len() => return Err(mismatched_dims()),
        Some(_) => {}
    }
    if level + 1 == dims.len() {
        leaves.extend(items.iter().map(Option::as_ref));
        return Ok(());
    }
    for item in items {
        match item {
            Some(Value::List(sub)) => collect(sub, level + 1, dims, leaves)?,
            // A NULL sub-array has no place in Postgres' rectangular arrays.
            _ => return Err(mismatched_dims()),
        }
    }
    Ok(())
}

pub(crate) fn write_binary_array(items: &[Option<Value>], elem: &DataType, out: &mut Vec<u8>) -> Result<()> {
    let innermost = elem.innermost();
    let mut dims = vec![None; depth(elem)];
    let mut leaves = Vec::new();
    collect(items, 0, &mut dims, &mut leaves)?;
    let dims: Vec<usize> = dims.into_iter().map(|d| d.unwrap_or(0)).collect();
    let empty = dims.contains(&0);
    let has_null = leaves.iter().any(Option::is_none);
    let as_i32 = |n: usize| i32::try_from(n).map_err(|_| invalid("array size exceeds the maximum allowed"));
    out.extend_from_slice(&(if empty { 0 } else { as_i32(dims.len())? }).to_be_bytes());
    out.extend_from_slice(&i32::from(has_null && !empty).to_be_bytes());
    out.extend_from_slice(&innermost.pg_oid().to_be_bytes());
    if empty {
        return Ok(());
    }
    for d in &dims {
        out.extend_from_slice(&as_i32(*d)?.to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
    }
    let mut buf = Vec::new();
    for leaf in leaves {
        match leaf {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(v) => {
                buf.clear();
                write_binary(v, innermost, &mut buf)?;
                out.extend_from_slice(&as_i32(buf.len())?.to_be_bytes());
                out.extend_from_slice(&buf);
            }
        }
    }
    Ok(())
}

/// Element type OIDs accepted for `innermost`: its own, and those whose binary form it also
/// reads (any integer width for integers, either float width, any text type for varchar).
fn accepts_elem_oid(innermost: &DataType, oid: u32) -> bool {
    if oid == innermost.pg_oid() {
        return true;
    }
    match innermost {
        DataType::Int16 | DataType::Int32 | DataType::Int64 => matches!(oid, 20 | 21 | 23),
        DataType::Float32 | DataType::Float64 => matches!(oid, 700 | 701),
        DataType::Varchar => matches!(oid, 25 | 1043 | 1042 | 19 | 705),
        _ => false,
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn i32(&mut self) -> Result<i32> {
        let bytes = self.take(4)?;
        Ok(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.b.len());
        let end = end.ok_or_else(|| invalid("insufficient data left in message for type array"))?;
        let out = &self.b[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }
}

pub(crate) fn parse_binary_array(b: &[u8], elem: &DataType) -> Result<ScalarValue> {
    let innermost = elem.innermost();
    let mut r = Reader { b, pos: 0 };
    let ndim = r.i32()?;
    let flags = r.i32()?;
    let oid = r.i32()? as u32;
    if !(0..=MAX_DIMS as i32).contains(&ndim) {
        return Err(invalid(format!("invalid number of dimensions: {ndim}")));
    }
    if flags != 0 && flags != 1 {
        return Err(invalid("invalid array flags"));
    }
    if !accepts_elem_oid(innermost, oid) {
        return Err(invalid(format!("wrong element type: got OID {oid}, expected {}", innermost.pg_oid())));
    }
    if ndim == 0 {
        return list_scalar(Vec::new(), elem);
    }
    let ndim = ndim as usize;
    if ndim != depth(elem) {
        return Err(invalid(format!("wrong number of array dimensions: got {ndim}, expected {}", depth(elem))));
    }
    let mut dims = Vec::with_capacity(ndim);
    let mut total: usize = 1;
    for _ in 0..ndim {
        let len = r.i32()?;
        let lbound = r.i32()?;
        if len < 0 || lbound.checked_add(len).is_none() {
            return Err(invalid("invalid array dimensions"));
        }
        dims.push(len as usize);
        total = total.checked_mul(len as usize).ok_or_else(|| invalid("array size exceeds the maximum allowed"))?;
    }
    // Every element takes at least its 4-byte length, so a count the message cannot hold is
    // rejected before anything is allocated for it.
    if total > r.remaining() / 4 {
        return Err(invalid("insufficient data left in message for type array"));
    }
    let mut leaves = Vec::with_capacity(total);
    for _ in 0..total {
        let len = r.i32()?;
        let leaf = match len {
            -1 => super::null_scalar(innermost)?,
            n if n < -1 => return Err(invalid(format!("invalid array element length {n}"))),
            n => parse_binary(r.take(n as usize)?, innermost)?,
        };
        leaves.push(leaf);
    }
    if r.remaining() != 0 {
        return Err(invalid("incorrect binary data format in array"));
    }
    let mut leaves = leaves.into_iter();
    build(&mut leaves, &dims, elem)
}

/// Rebuilds nested lists from row-major leaves.
fn build(leaves: &mut impl Iterator<Item = ScalarValue>, dims: &[usize], elem: &DataType) -> Result<ScalarValue> {
    let mut items = Vec::with_capacity(dims[0]);
    match elem {
        DataType::List(inner) if dims.len() > 1 => {
            for _ in 0..dims[0] {
                items.push(build(leaves, &dims[1..], inner)?);
            }
        }
        _ => {
            for _ in 0..dims[0] {
                items.push(leaves.next().ok_or_else(|| invalid("insufficient data left in message for type array"))?);
            }
        }
    }
    list_scalar(items, elem)
}
