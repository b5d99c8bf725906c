//! jsonb normalization: the text a jsonb value is stored and printed as.

use serde_json::Value as Json;

use super::invalid;
use crate::error::Result;

/// Parses JSON text and re-serializes it the way jsonb prints: `", "` and `": "` separators,
/// object keys in jsonb's order (shorter keys first, then bytewise), the last of duplicate keys
/// kept. Numbers are read as serde_json reads them (64-bit integers exactly, others as f64) and
/// printed as RisingWave's jsonb prints them: `3.0`, and `1.1451419198101145e38` for a 39-digit
/// integer.
pub fn normalize_jsonb(s: &str) -> Result<String> {
    let value: Json =
        serde_json::from_str(s).map_err(|e| invalid(format!("invalid input syntax for type json: {e}")))?;
    let mut out = String::with_capacity(s.len());
    write_json(&value, &mut out);
    Ok(out)
}

fn write_json(value: &Json, out: &mut String) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.is_finite() => out.push_str(&super::float::json_f64(f)),
            _ => out.push_str(&n.to_string()),
        },
        Json::String(s) => write_string(s, out),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Json::Object(map) => {
            let mut entries: Vec<(&String, &Json)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes())));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(k, out);
                out.push_str(": ");
                write_json(v, out);
            }
            out.push('}');
        }
    }
}

/// JSON string escaping as Postgres' escape_json: `\"`, `\\`, `\b \f \n \r \t`, other control
/// characters as `\u00xx`; everything else literal.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
