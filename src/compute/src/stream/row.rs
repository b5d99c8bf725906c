//! Rows as vectors of DataFusion `ScalarValue`s, for operators that work row by row (state
//! lookups, top-N, joins) rather than on whole columns.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use tributary_common::chunk::{Op, StreamChunk};
use tributary_common::types::DataType;

use super::error::StreamResult;

pub type OwnedRow = Vec<ScalarValue>;

/// Row `i` of `columns`.
pub fn row_at(columns: &[ArrayRef], i: usize) -> StreamResult<OwnedRow> {
    columns.iter().map(|c| Ok(ScalarValue::try_from_array(c, i)?)).collect()
}

pub fn rows_of(batch: &RecordBatch) -> StreamResult<Vec<OwnedRow>> {
    (0..batch.num_rows()).map(|i| row_at(batch.columns(), i)).collect()
}

/// The values of `indices` in `row`.
pub fn project_row(row: &[ScalarValue], indices: &[usize]) -> OwnedRow {
    indices.iter().map(|i| row[*i].clone()).collect()
}

/// The NULL of each type, for outer-join padding and empty aggregates.
pub fn null_row(types: &[DataType]) -> StreamResult<OwnedRow> {
    types.iter().map(|t| Ok(ScalarValue::try_from(&t.to_arrow())?)).collect()
}

/// Columns of `rows` in `schema`'s types (rows may be empty).
pub fn columns_of(rows: &[OwnedRow], schema: &SchemaRef) -> StreamResult<Vec<ArrayRef>> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(c, f)| {
            if rows.is_empty() {
                return Ok(arrow::array::new_empty_array(f.data_type()));
            }
            let values = rows.iter().map(|r| r[c].clone());
            let array = ScalarValue::iter_to_array(values)?;
            // A NULL literal has type Null; cast to the column's type.
            if array.data_type() != f.data_type() {
                Ok(arrow::compute::cast(&array, f.data_type())?)
            } else {
                Ok(array)
            }
        })
        .collect()
}

pub fn batch_of(rows: &[OwnedRow], schema: &SchemaRef) -> StreamResult<RecordBatch> {
    let columns = columns_of(rows, schema)?;
    let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
    Ok(RecordBatch::try_new_with_options(schema.clone(), columns, &options)?)
}

/// A chunk of rows with their ops.
pub fn chunk_of(ops: Vec<Op>, rows: &[OwnedRow], schema: &SchemaRef) -> StreamResult<StreamChunk> {
    Ok(StreamChunk::new(ops, batch_of(rows, schema)?)?)
}

/// Collects output rows and cuts them into chunks of at most [`CHUNK_SIZE`] rows.
pub struct ChunkBuilder {
    schema: SchemaRef,
    ops: Vec<Op>,
    rows: Vec<OwnedRow>,
}

pub const CHUNK_SIZE: usize = 1024;

impl ChunkBuilder {
    pub fn new(schema: SchemaRef) -> Self {
        ChunkBuilder { schema, ops: Vec::new(), rows: Vec::new() }
    }

    /// Appends a row; returns a full chunk when one is ready. An `UpdateDelete` is never the
    /// last row of a chunk: its `UpdateInsert` follows in the same chunk.
    pub fn append(&mut self, op: Op, row: OwnedRow) -> StreamResult<Option<StreamChunk>> {
        self.ops.push(op);
        self.rows.push(row);
        if self.rows.len() >= CHUNK_SIZE && op != Op::UpdateDelete {
            return self.take();
        }
        Ok(None)
    }

    pub fn take(&mut self) -> StreamResult<Option<StreamChunk>> {
        if self.rows.is_empty() {
            return Ok(None);
        }
        let rows = std::mem::take(&mut self.rows);
        let ops = std::mem::take(&mut self.ops);
        Ok(Some(chunk_of(ops, &rows, &self.schema)?))
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

/// The schema of a batch with the given column types and names.
pub fn schema_of(names: &[String], types: &[DataType]) -> SchemaRef {
    Arc::new(arrow::datatypes::Schema::new(
        names.iter().zip(types).map(|(n, t)| arrow::datatypes::Field::new(n, t.to_arrow(), true)).collect::<Vec<_>>(),
    ))
}
