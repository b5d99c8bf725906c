//! `generate_series` as a table function: DataFusion's for integers, and timestamps stepped by an
//! interval here, since DataFusion's only takes nanosecond timestamps (ours are microseconds,
//! and nanoseconds cannot reach Postgres' range of years anyway).

use std::any::Any;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use arrow::array::timezone::Tz;
use arrow::array::types::TimestampMicrosecondType;
use arrow::array::{RecordBatch, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, IntervalMonthDayNano, Schema, SchemaRef, TimeUnit};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunction, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue};
use datafusion::functions_table::generate_series::GenerateSeriesFunc;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::memory::{LazyBatchGenerator, LazyMemoryExec};
use datafusion::physical_plan::ExecutionPlan;
use parking_lot::RwLock;

use super::err::{exec, plan};

const MICROS_PER_DAY: i64 = 86_400_000_000;

#[derive(Debug)]
struct GenerateSeries;

impl TableFunctionImpl for GenerateSeries {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let is_datetime = |e: &Expr| {
            matches!(e, Expr::Literal(v, _) if matches!(v.data_type(), DataType::Timestamp(..) | DataType::Date32))
        };
        if exprs.len() == 3 && (is_datetime(&exprs[0]) || is_datetime(&exprs[1])) {
            return Ok(Arc::new(TimestampSeries::from_args(exprs)?));
        }
        // DataFusion's takes bigint literals only; `integer` ones come from arithmetic on literals
        // (`generate_series(1, 2 + 3)`).
        let widened: Vec<Expr> = exprs
            .iter()
            .map(|e| match e {
                Expr::Literal(v @ (ScalarValue::Int8(_) | ScalarValue::Int16(_) | ScalarValue::Int32(_)), m) => {
                    v.cast_to(&DataType::Int64).map(|v| Expr::Literal(v, m.clone()))
                }
                e => Ok(e.clone()),
            })
            .collect::<Result<_>>()?;
        GenerateSeriesFunc {}.call_with_args(TableFunctionArgs::new(&widened, args.session()))
    }
}

/// A timestamp (µs) and its time zone, from a literal: dates count as timestamps at midnight.
fn timestamp_arg(e: &Expr, which: &str) -> Result<(Option<i64>, Option<Arc<str>>)> {
    let Expr::Literal(v, _) = e else {
        return Err(plan(format!("generate_series: the {which} argument must be a constant")));
    };
    Ok(match v {
        ScalarValue::Null => (None, None),
        ScalarValue::Date32(d) => (d.map(|d| i64::from(d) * MICROS_PER_DAY), None),
        ScalarValue::TimestampSecond(t, tz) => (t.and_then(|t| t.checked_mul(1_000_000)), tz.clone()),
        ScalarValue::TimestampMillisecond(t, tz) => (t.and_then(|t| t.checked_mul(1_000)), tz.clone()),
        ScalarValue::TimestampMicrosecond(t, tz) => (*t, tz.clone()),
        ScalarValue::TimestampNanosecond(t, tz) => (t.map(|t| t.div_euclid(1_000)), tz.clone()),
        other => {
            return Err(plan(format!(
                "generate_series: the {which} argument must be a timestamp, not {}",
                super::types::pg_type_name(&other.data_type())
            )))
        }
    })
}

/// The rows of `generate_series(start, stop, step)` over timestamps, made lazily. NULL anywhere
/// gives no rows.
#[derive(Debug, Clone)]
struct TimestampSeries {
    schema: SchemaRef,
    bounds: Option<(i64, i64, IntervalMonthDayNano)>,
    tz: Option<Arc<str>>,
}

impl TimestampSeries {
    fn from_args(exprs: &[Expr]) -> Result<Self> {
        let (start, tz) = timestamp_arg(&exprs[0], "first")?;
        let (stop, stop_tz) = timestamp_arg(&exprs[1], "second")?;
        let tz = tz.or(stop_tz);
        let step = match &exprs[2] {
            Expr::Literal(ScalarValue::IntervalMonthDayNano(step), _) => *step,
            Expr::Literal(ScalarValue::Null, _) => None,
            Expr::Literal(other, _) => {
                return Err(plan(format!(
                    "generate_series: the step must be an interval, not {}",
                    super::types::pg_type_name(&other.data_type())
                )))
            }
            _ => return Err(plan("generate_series: the step must be a constant")),
        };
        if step.is_some_and(|s| step_sign(&s) == 0) {
            return Err(exec("step size cannot equal zero"));
        }
        let schema = Arc::new(Schema::new(vec![Field::new(
            "value",
            DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            false,
        )]));
        let bounds = match (start, stop, step) {
            (Some(start), Some(stop), Some(step)) => Some((start, stop, step)),
            _ => None,
        };
        Ok(TimestampSeries { schema, bounds, tz })
    }
}

/// The sign of an interval as Postgres compares intervals: a month counts 30 days.
fn step_sign(step: &IntervalMonthDayNano) -> i32 {
    let micros = i128::from(step.months) * 30 * i128::from(MICROS_PER_DAY)
        + i128::from(step.days) * i128::from(MICROS_PER_DAY)
        + i128::from(step.nanoseconds) / 1_000;
    micros.signum() as i32
}

#[async_trait]
impl TableProvider for TimestampSeries {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let tz = match &self.tz {
            Some(tz) => Tz::from_str(tz)?,
            None => Tz::from_str("+00:00")?,
        };
        let generator = SeriesGenerator {
            series: self.clone(),
            tz,
            next: self.bounds.map(|(start, ..)| start),
            batch_size: state.config_options().execution.batch_size.get(),
        };
        let exec = LazyMemoryExec::try_new(self.schema.clone(), vec![Arc::new(RwLock::new(generator))])?;
        Ok(Arc::new(exec.with_projection(projection.cloned())))
    }
}

#[derive(Debug, Clone)]
struct SeriesGenerator {
    series: TimestampSeries,
    tz: Tz,
    /// The next value to emit, `None` once past the end.
    next: Option<i64>,
    batch_size: usize,
}

impl fmt::Display for SeriesGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.series.bounds {
            Some((start, stop, step)) => write!(f, "generate_series: start={start}, stop={stop}, step={step:?}"),
            None => write!(f, "generate_series: empty"),
        }
    }
}

impl LazyBatchGenerator for SeriesGenerator {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn generate_next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let Some((_, stop, step)) = self.series.bounds else { return Ok(None) };
        let forward = step_sign(&step) > 0;
        let mut values = Vec::new();
        while let Some(cur) = self.next {
            if (forward && cur > stop) || (!forward && cur < stop) {
                self.next = None;
                break;
            }
            values.push(cur);
            // Adding the step to the previous value (not start + n * step), as Postgres does:
            // Jan 31 + 1 month is Feb 29, and the next one Mar 29. Past the timestamp range the
            // series ends.
            self.next = TimestampMicrosecondType::add_month_day_nano(cur, step, self.tz);
            if values.len() == self.batch_size {
                break;
            }
        }
        if values.is_empty() {
            return Ok(None);
        }
        let array = TimestampMicrosecondArray::from(values).with_timezone_opt(self.series.tz.clone());
        Ok(Some(RecordBatch::try_new(self.series.schema.clone(), vec![Arc::new(array)])?))
    }

    fn reset_state(&self) -> Arc<RwLock<dyn LazyBatchGenerator>> {
        let mut fresh = self.clone();
        fresh.next = self.series.bounds.map(|(start, ..)| start);
        Arc::new(RwLock::new(fresh))
    }
}

pub(crate) fn table_functions() -> Vec<(String, Arc<TableFunction>)> {
    let name = "generate_series".to_string();
    vec![(name.clone(), Arc::new(TableFunction::new(name, Arc::new(GenerateSeries))))]
}
