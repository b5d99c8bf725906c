//! The analyzer rule that gives casts to and from jsonb their Postgres meaning, and expands
//! set-returning jsonb functions in SELECT lists.
//!
//! It runs after DataFusion's own `TypeCoercion` (rules added with
//! `SessionStateBuilder::with_analyzer_rule` are appended to the defaults), so it also sees the
//! casts that coercion inserts, e.g. the text literal in `jsonb_col = '{"a":1}'`.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, AsArray, BooleanBuilder, Decimal128Builder, Float32Builder, Float64Builder,
    Int64Builder,
};
use arrow::compute::kernels::cast_utils::parse_decimal;
use arrow::datatypes::{DataType, Decimal128Type};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{exec_err, plan_err, DFSchema, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

use super::srf::rewrite_srf_projection;
use super::udf::{plain_number_text, udf, Kind};
use super::value::{self, Value};

#[derive(Debug, Default)]
pub struct JsonbAnalyzerRule;

impl AnalyzerRule for JsonbAnalyzerRule {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            rewrite_casts(plan)?.transform_data(rewrite_srf_projection)
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "jsonb"
    }
}

fn rewrite_casts(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let mut schema = merge_schema(&plan.inputs());
    if let LogicalPlan::TableScan(ts) = &plan {
        schema.merge(&DFSchema::try_from_qualified_schema(
            ts.table_name.clone(),
            &ts.source.schema(),
        )?);
    }
    let names = NamePreserver::new(&plan);
    let t = plan.map_expressions(|expr| {
        let saved = names.save(&expr);
        expr.transform_up(|e| rewrite_cast(e, &schema))
            .map(|t| t.update_data(|e| saved.restore(e)))
    })?;
    if t.transformed {
        t.map_data(|p| p.recompute_schema())
    } else {
        Ok(t)
    }
}

/// The SQL name of an Arrow type, for error messages.
fn sql_type_name(t: &DataType) -> String {
    match t {
        DataType::LargeUtf8 => "jsonb".into(),
        DataType::Utf8 | DataType::Utf8View => "character varying".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "integer".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "real".into(),
        DataType::Float64 => "double precision".into(),
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => "numeric".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, None) => "timestamp without time zone".into(),
        DataType::Timestamp(_, Some(_)) => "timestamp with time zone".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time without time zone".into(),
        DataType::Interval(_) => "interval".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "bytea".into(),
        other => other.to_string(),
    }
}

fn rewrite_cast(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::Cast(cast) = &e else {
        return Ok(Transformed::no(e));
    };
    let target = cast.field.data_type().clone();
    // Types of expressions outside this node's inputs cannot be known here; such casts stay.
    let Ok(source) = cast.expr.get_type(schema) else {
        return Ok(Transformed::no(e));
    };
    if source == target {
        return Ok(Transformed::no(e));
    }
    let Expr::Cast(cast) = e else {
        return Ok(Transformed::no(e));
    };
    let inner = *cast.expr;
    let call = |f: Arc<ScalarUDF>, arg: Expr| {
        Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(f, vec![arg])))
    };
    if target == DataType::LargeUtf8 {
        return match source {
            DataType::Utf8 | DataType::Utf8View => Ok(call(udf(Kind::In), inner)),
            DataType::Null => Ok(Transformed::no(Expr::Cast(
                datafusion::logical_expr::Cast::new(Box::new(inner), target),
            ))),
            other => plan_err!("cannot cast type {} to jsonb", sql_type_name(&other)),
        };
    }
    if let (DataType::List(from), DataType::List(to)) = (&source, &target) {
        if matches!(from.data_type(), DataType::Utf8 | DataType::Utf8View)
            && to.data_type() == &DataType::LargeUtf8
        {
            // Element-wise text → jsonb, then the plain cast settles the list field's name.
            let parsed = Expr::ScalarFunction(ScalarFunction::new_udf(udf(Kind::In), vec![inner]));
            return Ok(Transformed::yes(Expr::Cast(
                datafusion::logical_expr::Cast::new(Box::new(parsed), target),
            )));
        }
    }
    if source == DataType::LargeUtf8 {
        return match &target {
            // jsonb → text is its normalized text, which is what the plain cast gives.
            DataType::Utf8 | DataType::Utf8View => Ok(Transformed::no(Expr::Cast(
                datafusion::logical_expr::Cast::new(Box::new(inner), target),
            ))),
            DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(_, _) => Ok(call(cast_udf(target), inner)),
            other => plan_err!("cannot cast type jsonb to {}", sql_type_name(other)),
        };
    }
    Ok(Transformed::no(Expr::Cast(
        datafusion::logical_expr::Cast::new(Box::new(inner), target),
    )))
}

/// jsonb → boolean/number casts: only a JSON value of the matching kind converts.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonbCast {
    name: String,
    target: DataType,
    signature: Signature,
}

pub fn cast_udf(target: DataType) -> Arc<ScalarUDF> {
    let name = format!("jsonb_to_{}", sql_type_name(&target).replace(' ', "_"));
    Arc::new(ScalarUDF::new_from_impl(JsonbCast {
        name,
        target,
        signature: Signature::exact(vec![DataType::LargeUtf8], Volatility::Immutable),
    }))
}

impl ScalarUDFImpl for JsonbCast {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.target.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return exec_err!("function {} takes 1 argument", self.name);
        };
        let scalar = matches!(arg, ColumnarValue::Scalar(_));
        let n = if scalar { 1 } else { args.number_rows };
        let input = arg.to_array(n)?;
        let out = cast_array(&input, &self.target)?;
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

fn cast_array(input: &ArrayRef, target: &DataType) -> Result<ArrayRef> {
    let input = arrow::compute::cast(input, &DataType::LargeUtf8)?;
    let strings = input.as_string::<i64>();
    let target_name = sql_type_name(target);
    let values = strings
        .iter()
        .map(|s| {
            s.map(value::parse)
                .transpose()
                .map_err(|e| DataFusionError::Execution(e.to_string()))
        })
        .collect::<Result<Vec<Option<Value>>>>()?;
    let wrong = |v: &Value| -> DataFusionError {
        DataFusionError::Execution(format!(
            "cannot cast jsonb {} to type {target_name}",
            v.type_name()
        ))
    };
    let number = |v: &Value| -> Result<super::value::Number> {
        match v {
            Value::Number(n) => Ok(n.clone()),
            other => Err(wrong(other)),
        }
    };
    Ok(match target {
        DataType::Boolean => {
            let mut b = BooleanBuilder::with_capacity(values.len());
            for v in &values {
                match v {
                    None => b.append_null(),
                    Some(Value::Bool(x)) => b.append_value(*x),
                    Some(other) => return Err(wrong(other)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            let (lo, hi) = match target {
                DataType::Int8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
                DataType::Int16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
                DataType::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
                _ => (i64::MIN, i64::MAX),
            };
            let mut b = Int64Builder::with_capacity(values.len());
            for v in &values {
                match v {
                    None => b.append_null(),
                    Some(v) => {
                        let n = number(v)?;
                        let x = match n.as_str().parse::<i64>() {
                            Ok(x) => Some(x),
                            // numeric → integer rounds half away from zero, as f64::round does.
                            Err(_) => {
                                let f = n.as_f64().round();
                                (-9.223_372_036_854_776e18..9.223_372_036_854_776e18)
                                    .contains(&f)
                                    .then_some(f as i64)
                            }
                        };
                        match x {
                            Some(x) if (lo..=hi).contains(&x) => b.append_value(x),
                            _ => return exec_err!("{target_name} out of range"),
                        }
                    }
                }
            }
            arrow::compute::cast(&(Arc::new(b.finish()) as ArrayRef), target)?
        }
        DataType::Float32 => {
            let mut b = Float32Builder::with_capacity(values.len());
            for v in &values {
                match v {
                    None => b.append_null(),
                    Some(v) => {
                        b.append_value(number(v)?.as_str().parse::<f32>().unwrap_or(f32::NAN))
                    }
                }
            }
            Arc::new(b.finish())
        }
        DataType::Float64 => {
            let mut b = Float64Builder::with_capacity(values.len());
            for v in &values {
                match v {
                    None => b.append_null(),
                    Some(v) => b.append_value(number(v)?.as_f64()),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Decimal128(p, s) => {
            let mut b = Decimal128Builder::with_capacity(values.len());
            for v in &values {
                match v {
                    None => b.append_null(),
                    Some(v) => {
                        let n = number(v)?;
                        let text = plain_number_text(&n).ok_or_else(|| {
                            DataFusionError::Execution("numeric field overflow".into())
                        })?;
                        let d = parse_decimal::<Decimal128Type>(&text, *p, *s).map_err(|_| {
                            DataFusionError::Execution("numeric field overflow".into())
                        })?;
                        b.append_value(d);
                    }
                }
            }
            Arc::new(b.finish().with_precision_and_scale(*p, *s)?)
        }
        other => return exec_err!("cannot cast type jsonb to {}", sql_type_name(other)),
    })
}
