//! TEMPORARY differential test against PG 15 outputs in /tmp/pgv/diff (removed after the run).
use super::*;
use arrow::array::*;
use arrow::datatypes::{Field, IntervalMonthDayNano};
use std::sync::Arc;

fn norm(s: &str) -> (bool, String, i32) {
    let (neg, s) = match s.strip_prefix('-') { Some(r) => (true, r), None => (false, s) };
    let (m, e) = s.split_once('e').unwrap_or((s, "0"));
    let e: i32 = e.parse().unwrap();
    let (i, f) = m.split_once('.').unwrap_or((m, ""));
    let digits = format!("{i}{f}");
    let lead = digits.len() - digits.trim_start_matches('0').len();
    let d = digits.trim_matches('0').to_string();
    (neg, d, e + i.len() as i32 - lead as i32)
}

#[test]
fn differential_against_postgres() {
    let mut bad = Vec::new();
    for line in std::fs::read_to_string("/tmp/pgv/diff/interval.tsv").unwrap().lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (m, d, u): (i32, i32, i64) = (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap());
        let a = IntervalMonthDayNanoArray::from(vec![IntervalMonthDayNano::new(m, d, u * 1000)]);
        let got = format_text(&a, 0, &DataType::Interval, &FormatOptions::default()).unwrap().unwrap();
        if got != f[3] { bad.push(format!("interval {m} {d} {u}: got {got} want {}", f[3])); }
        let back = parse_text(f[3], &DataType::Interval, &FormatOptions::default()).unwrap();
        if back != datafusion::scalar::ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(m, d, u * 1000))) {
            bad.push(format!("interval reparse {}", f[3]));
        }
    }
    for line in std::fs::read_to_string("/tmp/pgv/diff/float.tsv").unwrap().lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let efd: i32 = f[0].parse().unwrap();
        let v: f64 = f[1].parse().unwrap();
        let o = FormatOptions { extra_float_digits: efd, ..Default::default() };
        let got8 = format_text(&Float64Array::from(vec![v]), 0, &DataType::Float64, &o).unwrap().unwrap();
        let ok8 = if efd > 0 { norm(&got8) == norm(f[2]) } else { got8 == f[2] };
        if !ok8 { bad.push(format!("float8 efd {efd} {v}: got {got8} want {}", f[2])); }
        if f[3] != "-" {
            let got4 = format_text(&Float32Array::from(vec![v as f32]), 0, &DataType::Float32, &o).unwrap().unwrap();
            let ok4 = if efd > 0 { norm(&got4) == norm(f[3]) } else { got4 == f[3] };
            if !ok4 { bad.push(format!("float4 efd {efd} {v}: got {got4} want {}", f[3])); }
        }
    }
    let ty = DataType::List(Box::new(DataType::Varchar));
    for line in std::fs::read_to_string("/tmp/pgv/diff/arrays.jsonl").unwrap().lines() {
        let (items, want): (Vec<Option<String>>, String) = serde_json::from_str(line).unwrap();
        let values: ArrayRef = Arc::new(StringArray::from(items.clone()));
        let list = ListArray::new(Arc::new(Field::new("item", arrow::datatypes::DataType::Utf8, true)),
            arrow::buffer::OffsetBuffer::from_lengths([items.len()]), values, None);
        let got = format_text(&list, 0, &ty, &FormatOptions::default()).unwrap().unwrap();
        if got != want { bad.push(format!("array {items:?}: got {got} want {want}")); }
        let back = parse_text(&want, &ty, &FormatOptions::default()).unwrap().to_array().unwrap();
        if back.to_data() != list.to_data() { bad.push(format!("array reparse {want}")); }
    }
    for line in std::fs::read_to_string("/tmp/pgv/diff/numeric.tsv").unwrap().lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let ty = DataType::Decimal { precision: Some(38), scale: Some(f[1].parse().unwrap()) };
        let v = parse_text(f[0], &ty, &FormatOptions::default()).unwrap().to_array().unwrap();
        let got: String = format_binary(v.as_ref(), 0, &ty).unwrap().unwrap().iter().map(|b| format!("{b:02x}")).collect();
        if got != f[2] { bad.push(format!("numeric {}: got {got} want {}", f[0], f[2])); }
        let bytes: Vec<u8> = (0..f[2].len()).step_by(2).map(|i| u8::from_str_radix(&f[2][i..i + 2], 16).unwrap()).collect();
        let back = parse_binary(&bytes, &ty).unwrap().to_array().unwrap();
        let txt = format_text(back.as_ref(), 0, &ty, &FormatOptions::default()).unwrap().unwrap();
        if txt != f[0] { bad.push(format!("numeric recv {}: got {txt}", f[0])); }
    }
    for b in bad.iter().take(40) { println!("{b}"); }
    assert!(bad.is_empty(), "{} mismatches", bad.len());
}
