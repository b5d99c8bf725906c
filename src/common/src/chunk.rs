//! `StreamChunk`: an Arrow record batch with one op per row, the unit of data between operators
//! and roles; and Arrow IPC helpers to ship batches over gRPC.

use std::io::Cursor;

use arrow::array::RecordBatch;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use tributary_proto::common::StreamChunk as PbStreamChunk;

use crate::error::{CommonError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Op {
    Insert = 1,
    Delete = 2,
    UpdateDelete = 3,
    UpdateInsert = 4,
}

impl Op {
    pub fn from_u8(b: u8) -> Result<Op> {
        Ok(match b {
            1 => Op::Insert,
            2 => Op::Delete,
            3 => Op::UpdateDelete,
            4 => Op::UpdateInsert,
            _ => return Err(CommonError::Encoding(format!("invalid op code {b}"))),
        })
    }

    /// Whether the row is added (insert side) rather than removed.
    pub fn is_insert(self) -> bool {
        matches!(self, Op::Insert | Op::UpdateInsert)
    }
}

#[derive(Debug, Clone)]
pub struct StreamChunk {
    pub ops: Vec<Op>,
    pub batch: RecordBatch,
}

impl StreamChunk {
    pub fn new(ops: Vec<Op>, batch: RecordBatch) -> Result<Self> {
        if ops.len() != batch.num_rows() {
            return Err(CommonError::Encoding(format!(
                "chunk has {} ops for {} rows",
                ops.len(),
                batch.num_rows()
            )));
        }
        Ok(StreamChunk { ops, batch })
    }

    pub fn inserts(batch: RecordBatch) -> Self {
        StreamChunk { ops: vec![Op::Insert; batch.num_rows()], batch }
    }

    pub fn to_protobuf(&self) -> Result<PbStreamChunk> {
        Ok(PbStreamChunk { ops: self.ops.iter().map(|o| *o as u8).collect(), batch: batch_to_ipc(&self.batch)? })
    }

    pub fn from_protobuf(p: &PbStreamChunk) -> Result<Self> {
        let ops = p.ops.iter().map(|b| Op::from_u8(*b)).collect::<Result<Vec<_>>>()?;
        StreamChunk::new(ops, batch_from_ipc(&p.batch)?)
    }
}

/// Encodes one batch as an Arrow IPC stream.
pub fn batch_to_ipc(batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    {
        let mut w = StreamWriter::try_new(&mut buf, batch.schema().as_ref())?;
        w.write(batch)?;
        w.finish()?;
    }
    Ok(buf)
}

/// Decodes an Arrow IPC stream holding exactly one batch.
pub fn batch_from_ipc(bytes: &[u8]) -> Result<RecordBatch> {
    let mut reader = StreamReader::try_new(Cursor::new(bytes), None)?;
    match reader.next() {
        Some(b) => Ok(b?),
        None => Err(CommonError::Encoding("IPC stream holds no batch".into())),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int32Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn chunk_round_trip() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![Arc::new(Int32Array::from(vec![Some(1), None])), Arc::new(StringArray::from(vec!["x", "y"]))],
        )
        .unwrap();
        let chunk = StreamChunk::new(vec![Op::Insert, Op::Delete], batch).unwrap();
        let back = StreamChunk::from_protobuf(&chunk.to_protobuf().unwrap()).unwrap();
        assert_eq!(back.ops, chunk.ops);
        assert_eq!(back.batch, chunk.batch);
        assert!(batch_from_ipc(b"garbage").is_err());
        assert!(Op::from_u8(9).is_err());
    }
}
