//! Key ranges against brute force: for every condition and key order, the keys in the range
//! are exactly the keys of rows the condition accepts (NULLs, DESC, several columns).

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, StringArray};
use datafusion::common::Column;
use datafusion::logical_expr::{col, lit, Expr};

use super::*;

/// Rows of (a int, b varchar), NULLs included.
fn rows() -> Vec<(Option<i32>, Option<String>)> {
    let mut out = Vec::new();
    for a in [None, Some(-5), Some(0), Some(1), Some(2), Some(3), Some(7), Some(i32::MAX), Some(i32::MIN)] {
        for b in [None, Some(""), Some("a"), Some("ab"), Some("b"), Some("abcdefghij")] {
            out.push((a, b.map(str::to_string)));
        }
    }
    out
}

fn key(desc: [bool; 2]) -> Vec<KeyColumn> {
    vec![
        KeyColumn { name: "a".into(), data_type: DataType::Int32, descending: desc[0] },
        KeyColumn { name: "b".into(), data_type: DataType::Varchar, descending: desc[1] },
    ]
}

fn encoded_keys(rows: &[(Option<i32>, Option<String>)], desc: [bool; 2]) -> Vec<Vec<u8>> {
    let a: ArrayRef = Arc::new(Int32Array::from(rows.iter().map(|r| r.0).collect::<Vec<_>>()));
    let b: ArrayRef = Arc::new(StringArray::from(rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>()));
    let mut out = vec![Vec::new(); rows.len()];
    encode_key_columns(&[a, b], &[DataType::Int32, DataType::Varchar], &desc, &mut out).unwrap();
    out
}

fn in_range(k: &[u8], scan: &KeyScan) -> bool {
    let hits = scan.ranges.iter().filter(|r| k >= r.start.as_slice() && r.end.as_ref().is_none_or(|e| k < e.as_slice())).count();
    assert!(hits <= 1, "overlapping ranges in {scan:?}");
    hits == 1
}

type Pred = fn(&(Option<i32>, Option<String>)) -> bool;

fn cases() -> Vec<(Expr, Pred)> {
    vec![
        (col("a").eq(lit(1)), |r| r.0 == Some(1)),
        (lit(3).eq(col("a")), |r| r.0 == Some(3)),
        (col("a").gt(lit(1)), |r| r.0.is_some_and(|a| a > 1)),
        (col("a").gt_eq(lit(1)), |r| r.0.is_some_and(|a| a >= 1)),
        (col("a").lt(lit(2)), |r| r.0.is_some_and(|a| a < 2)),
        (col("a").lt_eq(lit(2)), |r| r.0.is_some_and(|a| a <= 2)),
        (lit(2).gt(col("a")), |r| r.0.is_some_and(|a| a < 2)),
        (col("a").between(lit(0), lit(3)), |r| r.0.is_some_and(|a| (0..=3).contains(&a))),
        (col("a").gt(lit(0)).and(col("a").lt(lit(7))), |r| r.0.is_some_and(|a| a > 0 && a < 7)),
        (col("a").gt(lit(i32::MAX)), |_| false),
        (col("a").lt(lit(i32::MIN)), |_| false),
        (col("a").is_null(), |r| r.0.is_none()),
        (col("a").is_null().and(col("b").eq(lit("a"))), |r| r.0.is_none() && r.1.as_deref() == Some("a")),
        (col("a").eq(lit(1)).and(col("b").eq(lit("ab"))), |r| r.0 == Some(1) && r.1.as_deref() == Some("ab")),
        (col("a").eq(lit(1)).and(col("b").gt(lit("a"))), |r| r.0 == Some(1) && r.1.as_deref().is_some_and(|b| b > "a")),
        (col("a").eq(lit(2)).and(col("b").lt_eq(lit("ab"))), |r| r.0 == Some(2) && r.1.as_deref().is_some_and(|b| b <= "ab")),
        (col("a").eq(lit(2)).and(col("b").is_null()), |r| r.0 == Some(2) && r.1.is_none()),
        (col("a").eq(lit(3)).and(col("b").gt_eq(lit(""))), |r| r.0 == Some(3) && r.1.is_some()),
        (col("a").in_list(vec![lit(7)], false), |r| r.0 == Some(7)),
        (col("a").in_list(vec![lit(7), lit(-5), lit(7), lit(ScalarValue::Int32(None))], false), |r| matches!(r.0, Some(7 | -5))),
        (col("a").eq(lit(7)).or(col("a").eq(lit(-5)).or(col("a").eq(lit(0)))), |r| matches!(r.0, Some(7 | -5 | 0))),
        (col("a").eq(lit(1)).and(col("b").in_list(vec![lit("ab"), lit(""), lit("zz")], false)), |r| {
            r.0 == Some(1) && matches!(r.1.as_deref(), Some("ab" | ""))
        }),
        // An int64 literal that fits the int32 column.
        (col("a").eq(lit(2i64)), |r| r.0 == Some(2)),
    ]
}

#[test]
fn ranges_hold_exactly_the_accepted_rows() {
    let rows = rows();
    for desc in [[false, false], [true, false], [false, true], [true, true]] {
        let keys = encoded_keys(&rows, desc);
        for (expr, pred) in cases() {
            let conds = column_conditions(std::slice::from_ref(&expr));
            let scan = key_scan(&key(desc), &KeyDist::Other, &conds).unwrap().unwrap_or_else(|| panic!("{expr} gives no range"));
            // No ranges would mean the whole relation.
            assert!(!scan.ranges.is_empty(), "{expr}");
            for (row, k) in rows.iter().zip(&keys) {
                assert_eq!(in_range(k, &scan), pred(row), "{expr} desc={desc:?} row={row:?} scan={scan:?}");
            }
        }
    }
}

#[test]
fn conditions_that_do_not_bound_the_key() {
    let none = |e: Expr| {
        let conds = column_conditions(std::slice::from_ref(&e));
        assert!(key_scan(&key([false, false]), &KeyDist::Other, &conds).unwrap().is_none(), "{e}");
    };
    // Not on the first key column, not a literal, or not a bound.
    none(col("b").eq(lit("a")));
    none(col("a").eq(col("b")));
    none(col("a").not_eq(lit(1)));
    none(col("a").is_not_null());
    none(col("a").eq(lit(ScalarValue::Int32(None))));
    // 1.5 is no int: the filter decides.
    none(col("a").eq(lit(1.5)));
    none(col("a").eq(lit(1)).or(col("b").eq(lit("x"))));
    none(col("a").eq(lit(1)).or(col("a").gt(lit(2))));
    none(col("a").is_null().or(col("a").eq(lit(2))));
}

#[test]
fn float_ranges_and_intervals_are_left_to_the_filter() {
    let float = [KeyColumn { name: "f".into(), data_type: DataType::Float64, descending: false }];
    let conds = column_conditions(&[col("f").lt(lit(0.0))]);
    assert!(key_scan(&float, &KeyDist::Other, &conds).unwrap().is_none());
    let conds = column_conditions(&[col("f").eq(lit(0.0))]);
    assert_eq!(key_scan(&float, &KeyDist::Other, &conds).unwrap().map(|s| s.eq_columns), Some(1));
}

#[test]
fn vnode_only_when_the_distribution_key_is_fixed() {
    let conds = column_conditions(&[col("a").eq(lit(1)).and(col("b").gt(lit("x")))]);
    let k = key([false, false]);
    let scan = key_scan(&k, &KeyDist::Key(vec![0]), &conds).unwrap().unwrap();
    let a: ArrayRef = Arc::new(Int32Array::from(vec![1]));
    let mut enc = vec![Vec::new()];
    encode_key_columns(&[a], &[DataType::Int32], &[], &mut enc).unwrap();
    assert_eq!(scan.ranges[0].vnode, Some(vnode_of_key(&enc[0]) as u32));
    assert_eq!(scan.shown, vec!["a = 1", "b > 'x'"]);
    assert_eq!(scan.score(), (1, true));
    // A descending key column still hashes its ascending encoding.
    let scan_desc = key_scan(&key([true, false]), &KeyDist::Key(vec![0]), &conds).unwrap().unwrap();
    assert_eq!(scan_desc.ranges[0].vnode, scan.ranges[0].vnode);
    assert_eq!(key_scan(&k, &KeyDist::Key(vec![0, 1]), &conds).unwrap().unwrap().ranges[0].vnode, None);
    assert_eq!(key_scan(&k, &KeyDist::Single, &conds).unwrap().unwrap().ranges[0].vnode, Some(0));
    assert_eq!(key_scan(&k, &KeyDist::Other, &conds).unwrap().unwrap().ranges[0].vnode, None);
    // An IN list on the distribution key: one vnode per value.
    let conds = column_conditions(&[col("a").in_list(vec![lit(1), lit(2)], false)]);
    let scan = key_scan(&k, &KeyDist::Key(vec![0]), &conds).unwrap().unwrap();
    assert_eq!(scan.ranges.len(), 2);
    assert!(scan.ranges.iter().all(|r| r.vnode.is_some()));
    assert_eq!(scan.shown, vec!["a IN (1, 2)"]);
}

#[test]
fn qualified_columns_and_merged_bounds() {
    let a = Expr::Column(Column::new(Some("t"), "a"));
    let conds = column_conditions(&[a.clone().gt(lit(1)), a.clone().gt_eq(lit(3)), a.lt(lit(5))]);
    assert_eq!(
        conds.get("a"),
        Some(&ColumnCond::Range {
            lo: Some((ScalarValue::Int32(Some(3)), true)),
            hi: Some((ScalarValue::Int32(Some(5)), false))
        })
    );
    assert!(is_key_condition(&col("a").eq(lit(1))));
    assert!(!is_key_condition(&col("a").eq(col("b"))));
}

#[test]
fn prefix_ends() {
    assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
    assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
    assert_eq!(prefix_end(b"\xff\xff"), None);
    assert_eq!(prefix_end(b""), None);
}
