//! Key-range scans: the conditions of a scan's filters on the leading columns of a stored key
//! (a table's primary key, an index's key) become a range of the encoded keys, so that the
//! compute node reads only that range instead of the whole relation.
//!
//! The range only has to hold every row the filters accept: DataFusion keeps the filters
//! above the scan (they are pushed down as `Inexact`), so anything the range lets through
//! too is filtered out there. Conditions the key order cannot express exactly (floating
//! point ranges, where `-0.0` and `0.0` share a key; intervals, ordered by their span) are
//! left out instead of being approximated wrongly.

use std::cmp::Ordering;
use std::collections::HashMap;

use arrow::datatypes::DataType as ArrowType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use tributary_common::encoding::{encode_key_columns, vnode_of_key};
use tributary_common::types::DataType;
use tributary_proto::compute::ScanRange;

use crate::error::{FrontendError, Result};

/// What the filters say about one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnCond {
    /// `= v` (`IS NULL` when `v` is a NULL).
    Eq(ScalarValue),
    /// Between optional bounds, each with whether it is inclusive.
    Range { lo: Option<(ScalarValue, bool)>, hi: Option<(ScalarValue, bool)> },
    /// `IN (v1, v2, ...)`: one of several values (never NULL).
    In(Vec<ScalarValue>),
}

/// The conditions of `filters` (a conjunction) on columns, by column name.
pub fn column_conditions(filters: &[Expr]) -> HashMap<String, ColumnCond> {
    let mut out: HashMap<String, ColumnCond> = HashMap::new();
    for f in filters {
        for conjunct in split_conjunction(f) {
            if let Some((name, cond)) = condition(conjunct) {
                let merged = match out.remove(&name) {
                    Some(old) => merge(old, cond),
                    None => cond,
                };
                out.insert(name, merged);
            }
        }
    }
    out
}

/// Whether a filter says something [`column_conditions`] understands.
pub fn is_key_condition(filter: &Expr) -> bool {
    split_conjunction(filter).iter().any(|c| condition(c).is_some())
}

fn literal(e: &Expr) -> Option<&ScalarValue> {
    match e {
        Expr::Literal(v, _) => Some(v),
        _ => None,
    }
}

/// What a condition constrains: a column by its name, or an expression over columns by
/// [`expr_name`] (the name of an index column computing it).
fn column_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Column(c) => Some(c.name.clone()),
        Expr::ScalarFunction(_) | Expr::BinaryExpr(_) | Expr::Cast(_) | Expr::Negative(_)
            if !e.column_refs().is_empty() && !e.is_volatile() =>
        {
            Some(expr_name(e))
        }
        _ => None,
    }
}

/// An expression's text with its columns unqualified: the same expression over the same
/// relation has the same name whether it is written in CREATE INDEX or in a query's filter.
pub fn expr_name(e: &Expr) -> String {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    let unqualified = e
        .clone()
        .transform(|e| match e {
            Expr::Column(c) => Ok(Transformed::yes(Expr::Column(datafusion::common::Column::new_unqualified(c.name)))),
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
        .unwrap_or_else(|_| e.clone());
    unqualified.to_string()
}

fn condition(e: &Expr) -> Option<(String, ColumnCond)> {
    match e {
        // `c = 1 OR c = 2` (DataFusion writes short IN lists this way).
        Expr::BinaryExpr(BinaryExpr { op: Operator::Or, .. }) => {
            let mut name: Option<String> = None;
            let mut values = Vec::new();
            for d in datafusion::logical_expr::utils::split_binary(e, Operator::Or) {
                let (n, c) = condition(d)?;
                if name.as_ref().is_some_and(|m| *m != n) {
                    return None;
                }
                name = Some(n);
                match c {
                    ColumnCond::Eq(v) if !v.is_null() => values.push(v),
                    ColumnCond::In(vs) => values.extend(vs),
                    _ => return None,
                }
            }
            Some((name?, ColumnCond::In(values)))
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (name, value, op) = match (column_name(left), literal(right), column_name(right), literal(left)) {
                (Some(n), Some(v), _, _) => (n, v, *op),
                (_, _, Some(n), Some(v)) => (n, v, op.swap()?),
                _ => return None,
            };
            // `c = NULL` and friends are never true: nothing to bound (the filter drops all).
            if value.is_null() {
                return None;
            }
            let v = value.clone();
            let cond = match op {
                Operator::Eq => ColumnCond::Eq(v),
                Operator::Lt => ColumnCond::Range { lo: None, hi: Some((v, false)) },
                Operator::LtEq => ColumnCond::Range { lo: None, hi: Some((v, true)) },
                Operator::Gt => ColumnCond::Range { lo: Some((v, false)), hi: None },
                Operator::GtEq => ColumnCond::Range { lo: Some((v, true)), hi: None },
                _ => return None,
            };
            Some((name, cond))
        }
        Expr::Between(Between { expr, negated: false, low, high }) => {
            let (name, lo, hi) = (column_name(expr)?, literal(low)?, literal(high)?);
            if lo.is_null() || hi.is_null() {
                return None;
            }
            Some((name, ColumnCond::Range { lo: Some((lo.clone(), true)), hi: Some((hi.clone(), true)) }))
        }
        Expr::IsNull(inner) => {
            let name = column_name(inner)?;
            Some((name, ColumnCond::Eq(ScalarValue::Null)))
        }
        Expr::InList(list) if !list.negated && !list.list.is_empty() => {
            let name = column_name(&list.expr)?;
            // A NULL in the list never makes the condition true.
            let values: Vec<ScalarValue> = list
                .list
                .iter()
                .map(literal)
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .filter(|v| !v.is_null())
                .cloned()
                .collect();
            match values.len() {
                0 => None,
                1 => Some((name, ColumnCond::Eq(values[0].clone()))),
                _ => Some((name, ColumnCond::In(values))),
            }
        }
        _ => None,
    }
}

/// Both conditions hold. An equality wins (the filter checks the rest); two ranges keep the
/// tighter bound on each side where the values compare.
fn merge(a: ColumnCond, b: ColumnCond) -> ColumnCond {
    match (a, b) {
        (eq @ ColumnCond::Eq(_), _) | (_, eq @ ColumnCond::Eq(_)) => eq,
        (list @ ColumnCond::In(_), _) | (_, list @ ColumnCond::In(_)) => list,
        (ColumnCond::Range { lo: lo1, hi: hi1 }, ColumnCond::Range { lo: lo2, hi: hi2 }) => {
            ColumnCond::Range { lo: tighter(lo1, lo2, Ordering::Greater), hi: tighter(hi1, hi2, Ordering::Less) }
        }
    }
}

fn tighter(a: Option<(ScalarValue, bool)>, b: Option<(ScalarValue, bool)>, wins: Ordering) -> Option<(ScalarValue, bool)> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => match a.0.partial_cmp(&b.0) {
            Some(o) if o == wins => Some(a),
            Some(Ordering::Equal) => Some((a.0, a.1 && b.1)),
            Some(_) => Some(b),
            None => Some(a),
        },
    }
}

/// A value bound of a range and whether it is inclusive.
type Bound = Option<(ScalarValue, bool)>;

/// A column of a stored key.
#[derive(Debug, Clone)]
pub struct KeyColumn {
    pub name: String,
    pub data_type: DataType,
    pub descending: bool,
}

/// How a stored relation's rows are spread over vnodes.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyDist {
    /// Every row in vnode 0.
    Single,
    /// Hashed from these key columns (positions in the key), in this order.
    Key(Vec<usize>),
    /// Hashed from columns outside the key: every vnode must be read.
    Other,
}

/// A range scan of a stored key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyScan {
    /// Leading key columns fixed by equalities.
    pub eq_columns: usize,
    /// Whether the next key column is bounded by a range or a list of values.
    pub ranged: bool,
    /// Disjoint key ranges, read one after the other.
    pub ranges: Vec<ScanRange>,
    /// The conditions used, for EXPLAIN.
    pub shown: Vec<String>,
}

impl KeyScan {
    /// How selective the scan is: more fixed columns first, then a range.
    pub fn score(&self) -> (usize, bool) {
        (self.eq_columns, self.ranged)
    }
}

fn exact_for_ranges(t: &DataType) -> bool {
    !matches!(t, DataType::Float32 | DataType::Float64 | DataType::Interval)
}

fn exact_for_equality(t: &DataType) -> bool {
    !matches!(t, DataType::Interval)
}

/// `v` as a value of the column's type, if it converts without loss (else the condition is
/// left to the filter).
fn coerce(v: &ScalarValue, t: &DataType) -> Option<ScalarValue> {
    let arrow: ArrowType = t.to_arrow();
    if v.is_null() {
        return ScalarValue::try_from(&arrow).ok();
    }
    if v.data_type() == arrow {
        return Some(v.clone());
    }
    let cast = v.cast_to(&arrow).ok()?;
    let back = cast.cast_to(&v.data_type()).ok()?;
    (back == *v && !cast.is_null()).then_some(cast)
}

fn encode(values: &[ScalarValue], columns: &[KeyColumn], descending: bool) -> Result<Vec<u8>> {
    let arrays = values.iter().map(|v| v.to_array_of_size(1)).collect::<std::result::Result<Vec<_>, _>>()?;
    let types: Vec<DataType> = columns.iter().map(|c| c.data_type.clone()).collect();
    let desc: Vec<bool> = columns.iter().map(|c| descending && c.descending).collect();
    let mut out = vec![Vec::new()];
    encode_key_columns(&arrays, &types, &desc, &mut out).map_err(|e| FrontendError::Internal(e.to_string()))?;
    Ok(out.pop().unwrap_or_default())
}

/// The smallest byte string after every string starting with `prefix`; None: no such string.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let i = prefix.iter().rposition(|&b| b != 0xFF)?;
    let mut end = prefix[..=i].to_vec();
    end[i] += 1;
    Some(end)
}

fn show(v: &ScalarValue) -> String {
    match v {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => {
            format!("'{}'", s.replace('\'', "''"))
        }
        other => other.to_string(),
    }
}

/// The range of `key` the conditions allow, if they fix or bound its first column.
pub fn key_scan(key: &[KeyColumn], dist: &KeyDist, conds: &HashMap<String, ColumnCond>) -> Result<Option<KeyScan>> {
    let mut eq_values: Vec<ScalarValue> = Vec::new();
    let mut shown = Vec::new();
    let mut range: Option<(Bound, Bound)> = None;
    let mut in_list: Option<Vec<ScalarValue>> = None;
    for column in key {
        match conds.get(&column.name) {
            Some(ColumnCond::Eq(v)) if exact_for_equality(&column.data_type) => match coerce(v, &column.data_type) {
                Some(v) => {
                    shown.push(if v.is_null() {
                        format!("{} IS NULL", column.name)
                    } else {
                        format!("{} = {}", column.name, show(&v))
                    });
                    eq_values.push(v);
                    continue;
                }
                None => break,
            },
            Some(ColumnCond::Range { lo, hi }) if exact_for_ranges(&column.data_type) => {
                let lo = lo.as_ref().and_then(|(v, inc)| coerce(v, &column.data_type).map(|v| (v, *inc)));
                let hi = hi.as_ref().and_then(|(v, inc)| coerce(v, &column.data_type).map(|v| (v, *inc)));
                if lo.is_some() || hi.is_some() {
                    if let Some((v, inc)) = &lo {
                        shown.push(format!("{} {} {}", column.name, if *inc { ">=" } else { ">" }, show(v)));
                    }
                    if let Some((v, inc)) = &hi {
                        shown.push(format!("{} {} {}", column.name, if *inc { "<=" } else { "<" }, show(v)));
                    }
                    range = Some((lo, hi));
                }
                break;
            }
            Some(ColumnCond::In(values)) if exact_for_equality(&column.data_type) => {
                if let Some(values) = values.iter().map(|v| coerce(v, &column.data_type)).collect::<Option<Vec<_>>>() {
                    let items: Vec<String> = values.iter().map(show).collect();
                    shown.push(format!("{} IN ({})", column.name, items.join(", ")));
                    in_list = Some(values);
                }
                break;
            }
            _ => break,
        }
    }
    let eq_columns = eq_values.len();
    if eq_columns == 0 && range.is_none() && in_list.is_none() {
        return Ok(None);
    }
    // The vnode of rows whose leading key columns are `values`, if they fix the distribution key.
    let vnode_of = |values: &[ScalarValue]| -> Result<Option<u32>> {
        Ok(match dist {
            KeyDist::Single => Some(0),
            KeyDist::Key(cols) if !cols.is_empty() && cols.iter().all(|c| *c < values.len()) => {
                let dist_values: Vec<ScalarValue> = cols.iter().map(|c| values[*c].clone()).collect();
                let columns: Vec<KeyColumn> = cols.iter().map(|c| key[*c].clone()).collect();
                // Vnodes hash the ascending encoding of the distribution key.
                Some(vnode_of_key(&encode(&dist_values, &columns, false)?) as u32)
            }
            _ => None,
        })
    };
    if let Some(list) = in_list {
        // One point range per distinct value: distinct encoded prefixes never overlap.
        let mut points: Vec<(Vec<u8>, Option<u32>)> = Vec::with_capacity(list.len());
        for v in list {
            let mut values = eq_values.clone();
            values.push(v);
            points.push((encode(&values, &key[..values.len()], true)?, vnode_of(&values)?));
        }
        points.sort();
        points.dedup();
        let ranges = points.into_iter().map(|(p, vnode)| ScanRange { vnode, end: prefix_end(&p), start: p }).collect();
        return Ok(Some(KeyScan { eq_columns, ranged: true, ranges, shown }));
    }
    let prefix = encode(&eq_values, &key[..eq_columns], true)?;
    let (start, end) = match range {
        None => (prefix.clone(), prefix_end(&prefix)),
        Some((lo, hi)) => {
            let column = &key[eq_columns];
            let columns = &key[..=eq_columns];
            let with = |v: &ScalarValue| -> Result<Vec<u8>> {
                let mut values = eq_values.clone();
                values.push(v.clone());
                encode(&values, columns, true)
            };
            // Keys of values at or below `v` end before `after(v)`; those below `v` before `at(v)`.
            let at = |v: &ScalarValue| with(v);
            let after = |v: &ScalarValue| -> Result<Option<Vec<u8>>> { Ok(prefix_end(&with(v)?)) };
            let null = ScalarValue::try_from(&column.data_type.to_arrow())?;
            // In byte order an ascending column runs lo → hi then NULLs; a descending one
            // runs NULLs then hi → lo.
            let (value_first, value_last) = if column.descending { (hi.clone(), lo.clone()) } else { (lo.clone(), hi.clone()) };
            let start = match &value_first {
                // Ascending: from lo (inclusive) or past it; descending: the same with hi.
                Some((v, true)) => at(v)?,
                Some((v, false)) => match after(v)? {
                    Some(s) => s,
                    None => return Ok(Some(empty_scan(eq_columns, shown))),
                },
                None if column.descending => match prefix_end(&with(&null)?) {
                    Some(s) => s,
                    None => return Ok(Some(empty_scan(eq_columns, shown))),
                },
                None => prefix.clone(),
            };
            let end = match &value_last {
                Some((v, true)) => after(v)?,
                Some((v, false)) => Some(at(v)?),
                // Ascending: stop at the NULLs; descending: at the end of the prefix.
                None if !column.descending => Some(with(&null)?),
                None => prefix_end(&prefix),
            };
            (start, end)
        }
    };
    let vnode = vnode_of(&eq_values)?;
    Ok(Some(KeyScan {
        eq_columns,
        ranged: eq_columns < key.len() && shown.len() > eq_columns,
        ranges: vec![ScanRange { vnode, start, end }],
        shown,
    }))
}

/// A range no key falls in (a bound past the largest possible key).
fn empty_scan(eq_columns: usize, shown: Vec<String>) -> KeyScan {
    // Not no ranges: that reads everything.
    KeyScan {
        eq_columns,
        ranged: true,
        ranges: vec![ScanRange { vnode: Some(0), start: vec![0xFF], end: Some(vec![0xFF]) }],
        shown,
    }
}

#[cfg(test)]
mod tests;
