//! How system tables are declared (columns with their Postgres types) and materialized into
//! Arrow batches.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder, ListBuilder,
    RecordBatch, StringBuilder,
};
use arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result as DfResult};

use super::CatalogView;

/// The Postgres type of a system column. Several share an Arrow type: object ids are `Int32`
/// (what `::oid` casts to), and `name`, `"char"` and `regproc` are text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Oid,
    Name,
    Text,
    /// Postgres' one-byte `"char"`.
    Char,
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Xid,
    /// A function reference, shown (and held) as the function's name.
    RegProc,
    /// An expression tree; here, its SQL text.
    NodeTree,
    TextArr,
    NameArr,
    CharArr,
    OidArr,
    Int2Arr,
    Int2Vector,
    OidVector,
    AclArr,
    /// information_schema columns: `character_data` and `sql_identifier` domains.
    Varchar,
}

impl Ty {
    pub fn arrow(self) -> ArrowType {
        let list = |t: ArrowType| ArrowType::List(Arc::new(Field::new("item", t, true)));
        match self {
            Ty::Oid | Ty::Int4 | Ty::Xid => ArrowType::Int32,
            Ty::Name | Ty::Text | Ty::Char | Ty::RegProc | Ty::NodeTree | Ty::Varchar => ArrowType::Utf8,
            Ty::Bool => ArrowType::Boolean,
            Ty::Int2 => ArrowType::Int16,
            Ty::Int8 => ArrowType::Int64,
            Ty::Float4 => ArrowType::Float32,
            Ty::Float8 => ArrowType::Float64,
            Ty::TextArr | Ty::NameArr | Ty::CharArr | Ty::AclArr => list(ArrowType::Utf8),
            Ty::OidArr | Ty::OidVector => list(ArrowType::Int32),
            Ty::Int2Arr | Ty::Int2Vector => list(ArrowType::Int16),
        }
    }

    /// The type's oid in pg_type, for pg_attribute.
    pub fn pg_oid(self) -> i32 {
        match self {
            Ty::Oid => 26,
            Ty::Name => 19,
            Ty::Text => 25,
            Ty::Char => 18,
            Ty::Bool => 16,
            Ty::Int2 => 21,
            Ty::Int4 => 23,
            Ty::Int8 => 20,
            Ty::Float4 => 700,
            Ty::Float8 => 701,
            Ty::Xid => 28,
            Ty::RegProc => 24,
            Ty::NodeTree => 194,
            Ty::TextArr => 1009,
            Ty::NameArr => 1003,
            Ty::CharArr => 1002,
            Ty::OidArr => 1028,
            Ty::Int2Arr => 1005,
            Ty::Int2Vector => 22,
            Ty::OidVector => 30,
            Ty::AclArr => 1034,
            Ty::Varchar => 1043,
        }
    }
}

/// A value of a system table row.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Strs(Vec<String>),
    Ints(Vec<i64>),
}

impl From<bool> for V {
    fn from(v: bool) -> Self {
        V::Bool(v)
    }
}
impl From<i16> for V {
    fn from(v: i16) -> Self {
        V::Int(v.into())
    }
}
impl From<i32> for V {
    fn from(v: i32) -> Self {
        V::Int(v.into())
    }
}
impl From<i64> for V {
    fn from(v: i64) -> Self {
        V::Int(v)
    }
}
impl From<u32> for V {
    fn from(v: u32) -> Self {
        V::Int(v.into())
    }
}
impl From<usize> for V {
    fn from(v: usize) -> Self {
        V::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<f64> for V {
    fn from(v: f64) -> Self {
        V::Float(v)
    }
}
impl From<char> for V {
    fn from(v: char) -> Self {
        V::Str(v.to_string())
    }
}
impl From<&str> for V {
    fn from(v: &str) -> Self {
        V::Str(v.to_string())
    }
}
impl From<String> for V {
    fn from(v: String) -> Self {
        V::Str(v)
    }
}
impl From<&String> for V {
    fn from(v: &String) -> Self {
        V::Str(v.clone())
    }
}
impl From<Vec<String>> for V {
    fn from(v: Vec<String>) -> Self {
        V::Strs(v)
    }
}
impl From<Vec<i64>> for V {
    fn from(v: Vec<i64>) -> Self {
        V::Ints(v)
    }
}
impl<T: Into<V>> From<Option<T>> for V {
    fn from(v: Option<T>) -> Self {
        v.map_or(V::Null, Into::into)
    }
}

pub type Row = Vec<V>;

/// `row![a, b, c]`: a row from values of any type convertible to [`V`].
macro_rules! row {
    ($($v:expr),* $(,)?) => {
        vec![$($crate::catalog::system::schema::V::from($v)),*]
    };
}
pub(crate) use row;

/// `'r'` tables are catalogs in Postgres, `'v'` views; pg_class shows them that way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Table,
    View,
}

impl Kind {
    pub fn relkind(self) -> &'static str {
        match self {
            Kind::Table => "r",
            Kind::View => "v",
        }
    }
}

pub type RowsFn = fn(&CatalogView) -> Vec<Row>;

/// A system table: its place, columns and how to compute its rows (`None`: always empty).
pub struct SystemTable {
    pub schema: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    pub columns: &'static [(&'static str, Ty)],
    pub rows: Option<RowsFn>,
}

impl SystemTable {
    pub fn arrow_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns.iter().map(|(name, ty)| Field::new(*name, ty.arrow(), true)).collect::<Vec<_>>(),
        ))
    }

    pub fn batch(&self, view: &CatalogView) -> DfResult<RecordBatch> {
        let rows = self.rows.map(|f| f(view)).unwrap_or_default();
        build_batch(self.name, self.arrow_schema(), self.columns, &rows)
    }

    pub fn provider(&self, view: &CatalogView) -> DfResult<MemTable> {
        let batch = self.batch(view)?;
        MemTable::try_new(batch.schema(), vec![vec![batch]])
    }
}

fn mismatch(table: &str, column: &str, v: &V) -> DataFusionError {
    DataFusionError::Internal(format!("system table {table}: bad value {v:?} for column {column}"))
}

/// Builds one column per declared type; a value of the wrong kind is an internal error.
pub fn build_batch(table: &str, schema: SchemaRef, columns: &[(&str, Ty)], rows: &[Row]) -> DfResult<RecordBatch> {
    if let Some(r) = rows.iter().find(|r| r.len() != columns.len()) {
        return Err(DataFusionError::Internal(format!(
            "system table {table}: row of {} values for {} columns",
            r.len(),
            columns.len()
        )));
    }
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    for (i, (name, ty)) in columns.iter().enumerate() {
        let values = rows.iter().map(|r| &r[i]);
        let bad = |v: &V| mismatch(table, name, v);
        let array: ArrayRef = match ty.arrow() {
            ArrowType::Int16 => {
                let mut b = Int16Builder::new();
                for v in values {
                    match v {
                        V::Null => b.append_null(),
                        V::Int(n) => b.append_value(i16::try_from(*n).map_err(|_| bad(v))?),
                        _ => return Err(bad(v)),
                    }
                }
                Arc::new(b.finish())
            }
            ArrowType::Int32 => {
                let mut b = Int32Builder::new();
                for v in values {
                    match v {
                        V::Null => b.append_null(),
                        V::Int(n) => b.append_value(i32::try_from(*n).map_err(|_| bad(v))?),
                        _ => return Err(bad(v)),
                    }
                }
                Arc::new(b.finish())
            }
            ArrowType::Int64 => {
                let mut b = Int64Builder::new();
                for v in values {
                    match v {
                        V::Null => b.append_null(),
                        V::Int(n) => b.append_value(*n),
                        _ => return Err(bad(v)),
                    }
                }
                Arc::new(b.finish())
            }
            ArrowType::Float32 => {
                let mut b = Float32Builder::new();
                for v in values {
                    match v {
                        V::Null => b.append_null(),
                        V::Float(f) => b.append_value(*f as f32),
                        V::Int(n) => b.append_value(*n as f32),
                        _ => return Err(bad(v)),
                    }
                }
                Arc::new(b.finish())
            }
            ArrowType::Float64 => {
                let mut b = Float64Builder::new();
                for v in values {
                    match v {
                        V::Null => b.append_null(),
                        V::Float(f) => b.append_value(*f),
                        V::Int(n) => b.append_value(*n as f64),
                        _ => return Err(bad(v)),
                    }
                }
                Arc::new(b.finish())
            }
            ArrowType::Boolean => {
                let mut b = BooleanBuilder::new();
                for v in values {
                    match v {
                        V::Null => b.append_null(),
                        V::Bool(x) => b.append_value(*x),
                        _ => return Err(bad(v)),
                    }
                }
                Arc::new(b.finish())
            }
            ArrowType::Utf8 => {
                let mut b = StringBuilder::new();
                for v in values {
                    match v {
                        V::Null => b.append_null(),
                        V::Str(s) => b.append_value(s),
                        _ => return Err(bad(v)),
                    }
                }
                Arc::new(b.finish())
            }
            ArrowType::List(f) if f.data_type() == &ArrowType::Utf8 => {
                let mut b = ListBuilder::new(StringBuilder::new());
                for v in values {
                    match v {
                        V::Null => b.append_null(),
                        V::Strs(items) => {
                            for s in items {
                                b.values().append_value(s);
                            }
                            b.append(true);
                        }
                        _ => return Err(bad(v)),
                    }
                }
                Arc::new(b.finish())
            }
            ArrowType::List(f) if f.data_type() == &ArrowType::Int32 => {
                let mut b = ListBuilder::new(Int32Builder::new());
                for v in values {
                    match v {
                        V::Null => b.append_null(),
                        V::Ints(items) => {
                            for n in items {
                                b.values().append_value(i32::try_from(*n).map_err(|_| bad(v))?);
                            }
                            b.append(true);
                        }
                        _ => return Err(bad(v)),
                    }
                }
                Arc::new(b.finish())
            }
            ArrowType::List(f) if f.data_type() == &ArrowType::Int16 => {
                let mut b = ListBuilder::new(Int16Builder::new());
                for v in values {
                    match v {
                        V::Null => b.append_null(),
                        V::Ints(items) => {
                            for n in items {
                                b.values().append_value(i16::try_from(*n).map_err(|_| bad(v))?);
                            }
                            b.append(true);
                        }
                        _ => return Err(bad(v)),
                    }
                }
                Arc::new(b.finish())
            }
            other => {
                return Err(DataFusionError::Internal(format!("system table {table}: unsupported column type {other}")))
            }
        };
        arrays.push(array);
    }
    Ok(RecordBatch::try_new(schema, arrays)?)
}
