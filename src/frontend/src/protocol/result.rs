//! Encoding query results as Postgres DataRows (text or binary per column).

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::{BufMut, BytesMut};
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::api::Type;
use pgwire::messages::data::DataRow;
use tributary_common::pg_value::{format_binary, format_text, FormatOptions};
use tributary_common::types::DataType;

use crate::error::{FrontendError, Result};

/// Field metadata marking a column read straight from a `numeric(p,s)` table column.
pub const NUMERIC_SCALE_METADATA: &str = "tributary.numeric_scale";

/// The SQL type of each result column (Arrow types with no SQL twin fold to the nearest).
///
/// Decimals computed by expressions show as unconstrained numeric (trailing zeros dropped), as
/// Arrow's fixed scale per column is an artifact there; a `numeric(p,s)` column read as is keeps
/// its declared scale.
pub fn column_types(schema: &SchemaRef) -> Vec<DataType> {
    schema
        .fields()
        .iter()
        .map(|f| match DataType::from_arrow(f.data_type()).unwrap_or(DataType::Varchar) {
            DataType::Decimal { .. } if !f.metadata().contains_key(NUMERIC_SCALE_METADATA) => {
                DataType::Decimal { precision: None, scale: None }
            }
            other => other,
        })
        .collect()
}

pub fn pg_type(t: &DataType) -> Type {
    Type::from_oid(t.pg_oid()).unwrap_or(Type::TEXT)
}

pub fn field_infos(schema: &SchemaRef, formats: impl Fn(usize) -> FieldFormat) -> Vec<FieldInfo> {
    column_types(schema)
        .iter()
        .zip(schema.fields())
        .enumerate()
        .map(|(i, (t, f))| FieldInfo::new(f.name().clone(), None, None, pg_type(t), formats(i)).with_type_size(t.pg_len()))
        .collect()
}

/// Encodes every row of `batches`.
pub fn encode_rows(
    batches: &[RecordBatch],
    fields: &Arc<Vec<FieldInfo>>,
    types: &[DataType],
    opts: &FormatOptions,
) -> Result<Vec<DataRow>> {
    let mut rows = Vec::with_capacity(batches.iter().map(|b| b.num_rows()).sum());
    let mut buf = BytesMut::new();
    for batch in batches {
        for r in 0..batch.num_rows() {
            for (c, column) in batch.columns().iter().enumerate() {
                let value = match fields[c].format() {
                    FieldFormat::Text => format_text(column.as_ref(), r, &types[c], opts)
                        .map_err(|e| FrontendError::sql("22000", e.to_string()))?
                        .map(String::into_bytes),
                    FieldFormat::Binary => format_binary(column.as_ref(), r, &types[c])
                        .map_err(|e| FrontendError::sql("22000", e.to_string()))?,
                };
                match value {
                    None => buf.put_i32(-1),
                    Some(v) => {
                        buf.put_i32(v.len() as i32);
                        buf.put_slice(&v);
                    }
                }
            }
            rows.push(DataRow::new(buf.split(), batch.num_columns() as i16));
        }
    }
    Ok(rows)
}
