//! Expressions of stream plans: DataFusion physical expressions, decoded from datafusion-proto
//! against the operator's input schema and evaluated on chunks.

use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow::datatypes::Schema;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion_proto::physical_plan::from_proto::parse_physical_expr;
use datafusion_proto::physical_plan::DefaultPhysicalExtensionCodec;
use datafusion_proto::protobuf::PhysicalExprNode;
use prost::Message as _;
use tributary_proto::stream_plan::Expr as PbExpr;

use super::error::{StreamError, StreamResult};

/// The function registry expressions are resolved in: the same Postgres functions the
/// frontend plans with.
fn task_context() -> &'static Arc<TaskContext> {
    static CTX: OnceLock<Arc<TaskContext>> = OnceLock::new();
    CTX.get_or_init(|| tributary_expr::new_context().task_ctx())
}

pub type ExprRef = Arc<dyn PhysicalExpr>;

pub fn decode_expr(pb: &PbExpr, input: &Schema) -> StreamResult<ExprRef> {
    let node = PhysicalExprNode::decode(pb.df_physical.as_slice())
        .map_err(|e| StreamError::plan(format!("cannot decode expression: {e}")))?;
    Ok(parse_physical_expr(&node, task_context(), input, &DefaultPhysicalExtensionCodec {})?)
}

/// Evaluates `expr` on every row of `batch`.
pub fn eval(expr: &ExprRef, batch: &RecordBatch) -> StreamResult<ArrayRef> {
    Ok(expr.evaluate(batch)?.into_array(batch.num_rows())?)
}

/// Evaluates a predicate: rows where it is NULL count as false.
pub fn eval_predicate(expr: &ExprRef, batch: &RecordBatch) -> StreamResult<BooleanArray> {
    let array = eval(expr, batch)?;
    let bools = array
        .as_any()
        .downcast_ref::<BooleanArray>()
        .ok_or_else(|| StreamError::plan("predicate is not boolean"))?;
    // prep_null_mask_filter expects a null buffer; without NULLs the values are the mask.
    Ok(match bools.nulls() {
        Some(_) => arrow::compute::prep_null_mask_filter(bools),
        None => bools.clone(),
    })
}
