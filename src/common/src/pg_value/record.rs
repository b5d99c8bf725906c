//! Struct values in Postgres' row (record) formats: text `(1,abc,"x y",)` and the binary
//! `record_send` layout.

use std::sync::Arc;

use arrow::array::{ArrayRef, StructArray};
use arrow::datatypes::DataType as ArrowType;
use datafusion::scalar::ScalarValue;

use super::{invalid, null_scalar, write_binary, write_text, FormatOptions, Value};
use crate::error::{CommonError, Result};
use crate::types::DataType;

fn fields_of(ty: &DataType) -> Result<&[(String, DataType)]> {
    match ty {
        DataType::Struct(fields) => Ok(fields),
        other => Err(CommonError::Encoding(format!("struct value for non-struct type {other}"))),
    }
}

/// record_out: a NULL field is empty, others as [`write_record_field`].
pub(crate) fn write_text_record(items: &[Option<Value>], ty: &DataType, opts: &FormatOptions, out: &mut String) -> Result<()> {
    let fields = fields_of(ty)?;
    out.push('(');
    for (i, (item, (_, t))) in items.iter().zip(fields).enumerate() {
        if i > 0 {
            out.push(',');
        }
        let Some(v) = item else { continue };
        let mut text = String::new();
        write_text(v, t, opts, &mut text)?;
        write_record_field(&text, out);
    }
    out.push(')');
    Ok(())
}

/// One non-NULL field of record_out: quoted when empty or holding a quote, backslash,
/// parenthesis, comma or whitespace, with `"` and `\` doubled inside the quotes.
pub fn write_record_field(text: &str, out: &mut String) {
    let quote = text.is_empty() || text.chars().any(|c| matches!(c, '"' | '\\' | '(' | ')' | ',') || c.is_whitespace());
    if !quote {
        out.push_str(text);
        return;
    }
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('"');
}

/// record_send: field count, then per field its type OID and its length-prefixed binary value
/// (length -1 for NULL).
pub(crate) fn write_binary_record(items: &[Option<Value>], ty: &DataType, out: &mut Vec<u8>) -> Result<()> {
    let fields = fields_of(ty)?;
    out.extend_from_slice(&(fields.len() as i32).to_be_bytes());
    let mut buf = Vec::new();
    for (item, (_, t)) in items.iter().zip(fields) {
        out.extend_from_slice(&t.pg_oid().to_be_bytes());
        match item {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(v) => {
                buf.clear();
                write_binary(v, t, &mut buf)?;
                let len = i32::try_from(buf.len()).map_err(|_| invalid("record field too large"))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&buf);
            }
        }
    }
    Ok(())
}

/// record_in: `(a,"b c",)` — fields separated by commas, an empty unquoted field is NULL,
/// double quotes group (a doubled quote inside them is one quote), a backslash escapes the next
/// character. Each field is then read as its field type.
pub(crate) fn parse_text_record(s: &str, ty: &DataType, opts: &FormatOptions) -> Result<ScalarValue> {
    let fields = fields_of(ty)?;
    let texts = split_record(s, fields.len())?;
    let values = texts
        .iter()
        .zip(fields)
        .map(|(text, (_, t))| match text {
            None => null_scalar(t),
            Some(text) => super::parse_text(text, t, opts),
        })
        .collect::<Result<Vec<_>>>()?;
    struct_scalar(values, ty)
}

/// The field texts of a record literal with `n` fields (`None`: NULL), as record_in splits it.
pub fn split_record(s: &str, n: usize) -> Result<Vec<Option<String>>> {
    let malformed = |detail: &str| invalid(format!("malformed record literal: \"{s}\" ({detail})"));
    let trimmed = s.trim_start();
    let mut chars = trimmed.strip_prefix('(').ok_or_else(|| malformed("Missing left parenthesis."))?.chars().peekable();
    let mut texts: Vec<Option<String>> = Vec::with_capacity(n);
    loop {
        let mut text = String::new();
        let mut quoted = false;
        let mut in_quotes = false;
        let end = loop {
            let c = chars.next().ok_or_else(|| malformed("Unexpected end of input."))?;
            match c {
                '"' if in_quotes && chars.peek() == Some(&'"') => {
                    chars.next();
                    text.push('"');
                }
                '"' => {
                    in_quotes = !in_quotes;
                    quoted = true;
                }
                '\\' => text.push(chars.next().ok_or_else(|| malformed("Unexpected end of input."))?),
                ',' | ')' if !in_quotes => break c,
                c => text.push(c),
            }
        };
        texts.push(if text.is_empty() && !quoted { None } else { Some(text) });
        if end == ')' {
            break;
        }
        if texts.len() >= n {
            return Err(malformed("Too many columns."));
        }
    }
    if chars.any(|c| !c.is_whitespace()) {
        return Err(malformed("Junk after right parenthesis."));
    }
    if texts.len() < n {
        return Err(malformed("Too few columns."));
    }
    Ok(texts)
}

/// A one-row struct scalar of `ty.to_arrow()` from its field values.
pub(crate) fn struct_scalar(values: Vec<ScalarValue>, ty: &DataType) -> Result<ScalarValue> {
    let ArrowType::Struct(arrow_fields) = ty.to_arrow() else {
        return Err(CommonError::Encoding(format!("{ty} does not map to an Arrow struct")));
    };
    let columns = values
        .iter()
        .zip(arrow_fields.iter())
        .map(|(v, f)| {
            let a = v.to_array().map_err(|e| CommonError::Encoding(e.to_string()))?;
            Ok(if a.data_type() == f.data_type() { a } else { arrow::compute::cast(&a, f.data_type())? })
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    let array = StructArray::try_new(arrow_fields, columns, None)?;
    Ok(ScalarValue::Struct(Arc::new(array)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg_value::{format_text_scalar, parse_text};

    fn nested() -> DataType {
        let inner = DataType::Struct(vec![("x".into(), DataType::Int32), ("y".into(), DataType::Varchar)]);
        DataType::Struct(vec![("a".into(), DataType::Int64), ("b".into(), inner), ("c".into(), DataType::List(Box::new(DataType::Int32)))])
    }

    #[test]
    fn text_round_trips_with_quoting_and_nulls() {
        let ty = nested();
        let opts = FormatOptions::default();
        for text in [
            r#"(1,"(2,""a, \""b\"" (c)"")","{1,NULL}")"#,
            r#"(,"(,"""")",)"#,
            r#"(-5,"(3,x)","{}")"#,
        ] {
            let v = parse_text(text, &ty, &opts).unwrap();
            let printed = format_text_scalar(&v, &ty, &opts).unwrap().unwrap();
            let again = parse_text(&printed, &ty, &opts).unwrap();
            assert_eq!(v, again, "{text} printed as {printed}");
        }
        let v = parse_text(r#"(1,"(2,""q r"")",)"#, &ty, &opts).unwrap();
        assert_eq!(format_text_scalar(&v, &ty, &opts).unwrap().unwrap(), r#"(1,"(2,""q r"")",)"#);
    }

    #[test]
    fn split_follows_record_in() {
        assert_eq!(split_record("(a,,\"\",\"x\"\"y\",b\\,c)", 5).unwrap(), vec![
            Some("a".into()),
            None,
            Some(String::new()),
            Some("x\"y".into()),
            Some("b,c".into())
        ]);
        assert_eq!(split_record("  (1) ", 1).unwrap(), vec![Some("1".into())]);
        for bad in ["1,2)", "(1,2", "(1,2,3)", "(1)", "(1,2)x", "(\"1,2)"] {
            assert!(split_record(bad, 2).is_err(), "{bad}");
        }
    }
}
