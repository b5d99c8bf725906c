//! Expressions of stream plans: DataFusion physical expressions, decoded from datafusion-proto
//! against the operator's input schema and evaluated on chunks.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow::datatypes::Schema;
use datafusion::common::ScalarValue;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion_proto::physical_plan::from_proto::parse_physical_expr;
use datafusion_proto::physical_plan::DefaultPhysicalExtensionCodec;
use datafusion_proto::protobuf::PhysicalExprNode;
use prost::Message as _;
use tributary_proto::stream_plan::Expr as PbExpr;

use super::error::{StreamError, StreamResult};

/// The function registry expressions are resolved in (the same Postgres functions the
/// frontend plans with), with the time zone the plan was made in: decoded functions keep the
/// context's configuration.
fn task_context(time_zone: &str) -> Arc<TaskContext> {
    static CTXS: OnceLock<Mutex<HashMap<String, Arc<TaskContext>>>> = OnceLock::new();
    let mut ctxs = CTXS.get_or_init(Default::default).lock();
    ctxs.entry(time_zone.to_string())
        .or_insert_with(|| {
            let ctx = tributary_expr::new_context();
            if !time_zone.is_empty() {
                ctx.state_ref().write().config_mut().options_mut().execution.time_zone = Some(time_zone.to_string());
            }
            ctx.task_ctx()
        })
        .clone()
}

pub type ExprRef = Arc<dyn PhysicalExpr>;

pub fn decode_expr(pb: &PbExpr, input: &Schema) -> StreamResult<ExprRef> {
    let node = PhysicalExprNode::decode(pb.df_physical.as_slice())
        .map_err(|e| StreamError::plan(format!("cannot decode expression: {e}")))?;
    Ok(parse_physical_expr(&node, task_context(&pb.time_zone).as_ref(), input, &DefaultPhysicalExtensionCodec {})?)
}

/// Evaluates `expr` on every row of `batch`. A row whose evaluation fails (division by zero, a
/// bad cast) gets NULL, as in RisingWave's default non-strict mode: one bad row must not stop a
/// materialized view, which would stop every job's barriers.
pub fn eval(expr: &ExprRef, batch: &RecordBatch) -> StreamResult<ArrayRef> {
    match expr.evaluate(batch).and_then(|v| v.into_array(batch.num_rows())) {
        Ok(array) => Ok(array),
        Err(e) => eval_rows(expr, batch, e),
    }
}

/// The slow path of [`eval`]: row by row, NULL where a row fails.
fn eval_rows(expr: &ExprRef, batch: &RecordBatch, error: datafusion::error::DataFusionError) -> StreamResult<ArrayRef> {
    let data_type = expr.data_type(batch.schema().as_ref())?;
    let null = ScalarValue::try_from(&data_type)?;
    let mut failed = 0usize;
    let mut values = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let row = batch.slice(i, 1);
        match expr.evaluate(&row).and_then(|v| v.into_array(1)) {
            Ok(a) => values.push(ScalarValue::try_from_array(&a, 0)?),
            Err(_) => {
                failed += 1;
                values.push(null.clone());
            }
        }
    }
    tracing::warn!(rows = failed, %error, expr = %expr, "expression failed on some rows; they get NULL");
    if values.is_empty() {
        return Ok(arrow::array::new_empty_array(&data_type));
    }
    let array = ScalarValue::iter_to_array(values)?;
    if array.data_type() != &data_type {
        return Ok(arrow::compute::cast(&array, &data_type)?);
    }
    Ok(array)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Int32Array};
    use arrow::datatypes::{DataType, Field};
    use datafusion::logical_expr::Operator;
    use datafusion::physical_expr::expressions::{binary, col};

    use super::*;

    #[test]
    fn failing_rows_become_null() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true), Field::new("b", DataType::Int32, true)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int32Array::from(vec![6, 5, 8])), Arc::new(Int32Array::from(vec![3, 0, 2]))],
        )
        .unwrap();
        let div = binary(col("a", &schema).unwrap(), Operator::Divide, col("b", &schema).unwrap(), &schema).unwrap();
        let out = eval(&div, &batch).unwrap();
        let out = out.as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!(out.iter().collect::<Vec<_>>(), vec![Some(2), None, Some(4)]);
    }
}
