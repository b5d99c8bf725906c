//! Aggregate calls of the hash aggregation: what a call keeps per group (its intermediate state,
//! stored as columns of the aggregation's result table), how the rows of a chunk update it —
//! column at a time, over the typed arrays — and the SQL result it gives.
//!
//! States and their columns in the result table:
//! - `count`: the count (`bigint`);
//! - `sum`/`sum0`/`avg` of integers and numerics: the exact sum (`numeric(38, s)` at the input's
//!   scale) and the count of non-NULL inputs; of floats: a `double` sum and the count;
//! - `min`/`max`: the current extreme (over retractable input a cache of the first row of the
//!   call's input table, recomputed from it when the extreme is retracted);
//! - `string_agg`, `array_agg`, `first_value`, `last_value`, `jsonb_agg`, `jsonb_object_agg`:
//!   the last result, recomputed from the call's input table when the group's inputs change;
//! - `bool_and`/`bool_or`: counts of true and false inputs;
//! - `var_*`/`stddev_*`: count, Σx and Σx² exactly (256-bit integers, as `bytea`) for integers
//!   and numerics, as Postgres does; count, Σx and Σ(x-mean)² (Youngs-Cramer) for floats;
//! - `bit_and`/`bit_or`: the count of non-NULL inputs and a count of ones per bit position, so
//!   both stay exact under retraction without keeping the inputs.

pub mod tables;

use std::sync::Arc;

use arrow::array::{
    make_comparator, Array, ArrayRef, ArrowPrimitiveType, AsArray, BinaryArray, BooleanArray, Decimal128Array,
    Float64Array, Int64Array, PrimitiveArray,
};
use arrow::compute::SortOptions;
use arrow::datatypes::{
    i256, DataType as ArrowType, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
};
use datafusion::common::{HashMap, ScalarValue};
use tributary_common::types::DataType;
use tributary_proto::stream_plan::{AggCall as PbAggCall, AggKind, ColumnOrder};
use tributary_expr::pg::exact::{div_round, sqrt_round};

use crate::stream::error::{StreamError, StreamResult};
use crate::stream::row::OwnedRow;

/// An aggregate call, resolved against the input's types.
#[derive(Debug, Clone)]
pub struct AggCall {
    pub kind: AggKind,
    pub args: Vec<usize>,
    pub arg_types: Vec<DataType>,
    pub ret: DataType,
    pub ret_arrow: ArrowType,
    pub filter: Option<usize>,
    pub distinct: bool,
    pub order_by: Vec<ColumnOrder>,
    pub state: StateKind,
}

/// The shape of a call's intermediate state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StateKind {
    Count,
    /// Exact sum of integers/numerics unscaled at `scale`, with the non-NULL count.
    SumInt { scale: i8 },
    SumFloat,
    /// min/max: the current extreme.
    Extreme { max: bool },
    /// A call over its input table: the last result.
    Result,
    Bool,
    VarExact { scale: i8 },
    VarFloat,
    Bits { width: u32 },
}

/// A call's state in one group.
#[derive(Debug, Clone, PartialEq)]
pub enum CallState {
    Count(i64),
    SumInt { sum: i128, n: i64 },
    SumFloat { sum: f64, n: i64 },
    /// The extreme or result; `stale` when the group's inputs changed in a way the value cannot
    /// follow (it is recomputed from the input table before use).
    Value { v: ScalarValue, stale: bool },
    Bool { t: i64, f: i64 },
    VarExact { n: i64, s: i256, q: i256 },
    VarFloat { n: i64, sx: f64, sxx: f64 },
    Bits { n: i64, ones: Vec<i64> },
}

/// Rows of a chunk a call sees: all of them, or those FILTER and DISTINCT let through.
#[derive(Clone, Copy)]
pub enum Rows<'a> {
    All(usize),
    Some(&'a [u32]),
}

impl Rows<'_> {
    #[inline]
    pub fn for_each(self, mut f: impl FnMut(usize)) {
        match self {
            Rows::All(n) => (0..n).for_each(f),
            Rows::Some(s) => s.iter().for_each(|i| f(*i as usize)),
        }
    }

    pub fn to_vec(self) -> Vec<u32> {
        match self {
            Rows::All(n) => (0..n as u32).collect(),
            Rows::Some(s) => s.to_vec(),
        }
    }
}

fn unsupported(what: String) -> StreamError {
    StreamError::Common(tributary_common::CommonError::NotSupported(what))
}

fn decimal_scale(t: &DataType) -> i8 {
    match t.to_arrow() {
        ArrowType::Decimal128(_, s) => s,
        _ => 0,
    }
}

fn is_int(t: &DataType) -> bool {
    matches!(t, DataType::Int16 | DataType::Int32 | DataType::Int64)
}

fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float32 | DataType::Float64)
}

impl AggCall {
    /// Resolves a plan's call against the input's column types.
    pub fn new(pb: &PbAggCall, input_types: &[DataType]) -> StreamResult<Self> {
        let kind = AggKind::try_from(pb.kind).map_err(|_| StreamError::plan(format!("unknown aggregate kind {}", pb.kind)))?;
        let args: Vec<usize> = pb.args.iter().map(|a| *a as usize).collect();
        let col_type = |i: usize| {
            input_types.get(i).cloned().ok_or_else(|| StreamError::plan(format!("aggregate argument {i} out of range")))
        };
        let arg_types = args.iter().map(|a| col_type(*a)).collect::<StreamResult<Vec<_>>>()?;
        for o in &pb.order_by {
            col_type(o.column as usize)?;
        }
        if let Some(f) = pb.filter {
            if col_type(f as usize)? != DataType::Boolean {
                return Err(StreamError::plan("aggregate FILTER column is not boolean"));
            }
        }
        let ret_pb = pb.return_type.as_ref().ok_or_else(|| StreamError::plan("aggregate call without a return type"))?;
        let ret = DataType::from_protobuf(ret_pb)?;
        let name = kind.as_str_name().to_lowercase();
        let need_args = |n: usize| -> StreamResult<()> {
            if args.len() < n {
                Err(StreamError::plan(format!("{name} needs {n} argument(s)")))
            } else {
                Ok(())
            }
        };
        let state = match kind {
            AggKind::Count => StateKind::Count,
            AggKind::Sum | AggKind::Sum0 | AggKind::Avg => {
                need_args(1)?;
                let t = &arg_types[0];
                if is_int(t) {
                    StateKind::SumInt { scale: 0 }
                } else if matches!(t, DataType::Decimal { .. }) {
                    StateKind::SumInt { scale: decimal_scale(t) }
                } else if is_float(t) {
                    StateKind::SumFloat
                } else {
                    return Err(unsupported(format!("{name}({t}) in a materialized view")));
                }
            }
            AggKind::Min | AggKind::Max => {
                need_args(1)?;
                if arg_types[0] == DataType::Jsonb {
                    return Err(unsupported(format!("{name}({}) in a materialized view", arg_types[0])));
                }
                StateKind::Extreme { max: kind == AggKind::Max }
            }
            AggKind::StringAgg | AggKind::ArrayAgg | AggKind::FirstValue | AggKind::LastValue | AggKind::JsonbAgg => {
                need_args(1)?;
                StateKind::Result
            }
            AggKind::JsonbObjectAgg => {
                need_args(2)?;
                StateKind::Result
            }
            AggKind::BoolAnd | AggKind::BoolOr => {
                need_args(1)?;
                if arg_types[0] != DataType::Boolean {
                    return Err(StreamError::plan(format!("{name} over {}", arg_types[0])));
                }
                StateKind::Bool
            }
            AggKind::StddevPop | AggKind::StddevSamp | AggKind::VarPop | AggKind::VarSamp => {
                need_args(1)?;
                let t = &arg_types[0];
                if is_int(t) || matches!(t, DataType::Decimal { .. }) {
                    StateKind::VarExact { scale: decimal_scale(t) }
                } else if is_float(t) {
                    StateKind::VarFloat
                } else {
                    return Err(unsupported(format!("{name}({t}) in a materialized view")));
                }
            }
            AggKind::BitAnd | AggKind::BitOr => {
                need_args(1)?;
                let width = match arg_types[0] {
                    DataType::Int16 => 16,
                    DataType::Int32 => 32,
                    DataType::Int64 => 64,
                    ref t => return Err(unsupported(format!("{name}({t}) in a materialized view"))),
                };
                StateKind::Bits { width }
            }
            AggKind::Unspecified => return Err(StreamError::plan("aggregate kind unspecified")),
        };
        Ok(AggCall {
            kind,
            args,
            arg_types,
            ret_arrow: ret.to_arrow(),
            ret,
            filter: pb.filter.map(|f| f as usize),
            distinct: pb.distinct,
            order_by: pb.order_by.clone(),
            state,
        })
    }

    /// Whether the call's result needs every input row of the group (an input table), given
    /// whether its input can retract rows.
    pub fn needs_inputs(&self, retractable: bool) -> bool {
        match self.state {
            StateKind::Result => true,
            StateKind::Extreme { .. } => retractable,
            _ => false,
        }
    }

    /// Whether input rows with a NULL first argument are left out of the input table.
    pub fn skips_null_input(&self) -> bool {
        matches!(self.kind, AggKind::Min | AggKind::Max | AggKind::StringAgg)
    }

    /// Types of the state's columns in the result table.
    pub fn state_types(&self) -> Vec<DataType> {
        let numeric = |scale: i8| DataType::Decimal { precision: Some(38), scale: Some(scale) };
        match self.state {
            StateKind::Count => vec![DataType::Int64],
            StateKind::SumInt { scale } => vec![numeric(scale), DataType::Int64],
            StateKind::SumFloat => vec![DataType::Float64, DataType::Int64],
            StateKind::Extreme { .. } => vec![self.arg_types[0].clone()],
            StateKind::Result => vec![self.ret.clone()],
            StateKind::Bool => vec![DataType::Int64, DataType::Int64],
            StateKind::VarExact { .. } => vec![DataType::Int64, DataType::Bytea, DataType::Bytea],
            StateKind::VarFloat => vec![DataType::Int64, DataType::Float64, DataType::Float64],
            StateKind::Bits { .. } => vec![DataType::Int64, DataType::Bytea],
        }
    }

    /// The state of a group without rows.
    pub fn initial_state(&self) -> CallState {
        match self.state {
            StateKind::Count => CallState::Count(0),
            StateKind::SumInt { .. } => CallState::SumInt { sum: 0, n: 0 },
            StateKind::SumFloat => CallState::SumFloat { sum: 0.0, n: 0 },
            StateKind::Extreme { .. } => CallState::Value { v: null_of(&self.arg_types[0].to_arrow()), stale: false },
            StateKind::Result => CallState::Value { v: null_of(&self.ret_arrow), stale: false },
            StateKind::Bool => CallState::Bool { t: 0, f: 0 },
            StateKind::VarExact { .. } => CallState::VarExact { n: 0, s: i256::ZERO, q: i256::ZERO },
            StateKind::VarFloat => CallState::VarFloat { n: 0, sx: 0.0, sxx: 0.0 },
            StateKind::Bits { width } => CallState::Bits { n: 0, ones: vec![0; width as usize] },
        }
    }

    /// The state columns of the groups at `slots`, for the result table.
    pub fn state_columns(&self, states: &[CallState], slots: &[u32]) -> StreamResult<Vec<ArrayRef>> {
        let each = || slots.iter().map(|s| &states[*s as usize]);
        let int64 = |f: fn(&CallState) -> i64| -> ArrayRef { Arc::new(Int64Array::from_iter_values(each().map(f))) };
        let float64 = |f: fn(&CallState) -> f64| -> ArrayRef { Arc::new(Float64Array::from_iter_values(each().map(f))) };
        let bytes = |f: fn(&CallState) -> Vec<u8>| -> ArrayRef { Arc::new(BinaryArray::from_iter_values(each().map(f))) };
        Ok(match self.state {
            StateKind::Count => vec![int64(|s| if let CallState::Count(n) = s { *n } else { 0 })],
            StateKind::SumInt { scale } => {
                let sums = Decimal128Array::from_iter_values(each().map(|s| if let CallState::SumInt { sum, .. } = s { *sum } else { 0 }))
                    .with_precision_and_scale(38, scale)?;
                vec![Arc::new(sums), int64(|s| if let CallState::SumInt { n, .. } = s { *n } else { 0 })]
            }
            StateKind::SumFloat => vec![
                float64(|s| if let CallState::SumFloat { sum, .. } = s { *sum } else { 0.0 }),
                int64(|s| if let CallState::SumFloat { n, .. } = s { *n } else { 0 }),
            ],
            StateKind::Extreme { .. } | StateKind::Result => {
                let t = self.state_types()[0].to_arrow();
                if slots.is_empty() {
                    vec![arrow::array::new_empty_array(&t)]
                } else {
                    let values = each().map(|s| if let CallState::Value { v, .. } = s { v.clone() } else { null_of(&t) });
                    let a = ScalarValue::iter_to_array(values)?;
                    vec![if a.data_type() == &t { a } else { arrow::compute::cast(&a, &t)? }]
                }
            }
            StateKind::Bool => vec![
                int64(|s| if let CallState::Bool { t, .. } = s { *t } else { 0 }),
                int64(|s| if let CallState::Bool { f, .. } = s { *f } else { 0 }),
            ],
            StateKind::VarExact { .. } => vec![
                int64(|s| if let CallState::VarExact { n, .. } = s { *n } else { 0 }),
                bytes(|st| if let CallState::VarExact { s, .. } = st { s.to_le_bytes().to_vec() } else { vec![0; 32] }),
                bytes(|st| if let CallState::VarExact { q, .. } = st { q.to_le_bytes().to_vec() } else { vec![0; 32] }),
            ],
            StateKind::VarFloat => vec![
                int64(|s| if let CallState::VarFloat { n, .. } = s { *n } else { 0 }),
                float64(|s| if let CallState::VarFloat { sx, .. } = s { *sx } else { 0.0 }),
                float64(|s| if let CallState::VarFloat { sxx, .. } = s { *sxx } else { 0.0 }),
            ],
            StateKind::Bits { .. } => vec![
                int64(|s| if let CallState::Bits { n, .. } = s { *n } else { 0 }),
                bytes(|s| if let CallState::Bits { ones, .. } = s { ones.iter().flat_map(|c| c.to_le_bytes()).collect() } else { Vec::new() }),
            ],
        })
    }

    /// The state from its columns (as written by [`state_columns`](Self::state_columns)).
    pub fn decode_state(&self, cols: &[ScalarValue]) -> StreamResult<CallState> {
        let corrupt = || StreamError::Internal(format!("corrupt {} aggregation state", self.kind.as_str_name()));
        let i64_at = |i: usize| match cols.get(i) {
            Some(ScalarValue::Int64(v)) => Ok(v.unwrap_or(0)),
            _ => Err(corrupt()),
        };
        let f64_at = |i: usize| match cols.get(i) {
            Some(ScalarValue::Float64(v)) => Ok(v.unwrap_or(0.0)),
            _ => Err(corrupt()),
        };
        let bytes_at = |i: usize| match cols.get(i) {
            Some(ScalarValue::Binary(Some(b))) => Ok(b.clone()),
            _ => Err(corrupt()),
        };
        let i256_at = |i: usize| -> StreamResult<i256> {
            let b: [u8; 32] = bytes_at(i)?.try_into().map_err(|_| corrupt())?;
            Ok(i256::from_le_bytes(b))
        };
        Ok(match self.state {
            StateKind::Count => CallState::Count(i64_at(0)?),
            StateKind::SumInt { .. } => {
                let sum = match cols.first() {
                    Some(ScalarValue::Decimal128(v, _, _)) => v.unwrap_or(0),
                    _ => return Err(corrupt()),
                };
                CallState::SumInt { sum, n: i64_at(1)? }
            }
            StateKind::SumFloat => CallState::SumFloat { sum: f64_at(0)?, n: i64_at(1)? },
            StateKind::Extreme { .. } | StateKind::Result => {
                CallState::Value { v: cols.first().cloned().ok_or_else(corrupt)?, stale: false }
            }
            StateKind::Bool => CallState::Bool { t: i64_at(0)?, f: i64_at(1)? },
            StateKind::VarExact { .. } => CallState::VarExact { n: i64_at(0)?, s: i256_at(1)?, q: i256_at(2)? },
            StateKind::VarFloat => CallState::VarFloat { n: i64_at(0)?, sx: f64_at(1)?, sxx: f64_at(2)? },
            StateKind::Bits { width } => {
                let b = bytes_at(1)?;
                if b.len() != width as usize * 8 {
                    return Err(corrupt());
                }
                let ones = b.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default())).collect();
                CallState::Bits { n: i64_at(0)?, ones }
            }
        })
    }

    /// Whether the state holds no input (so it can be reset to the initial state, dropping
    /// floating-point residue of retracted rows).
    pub fn is_empty_state(state: &CallState) -> bool {
        match state {
            CallState::Count(n) => *n == 0,
            CallState::SumInt { n, .. } | CallState::SumFloat { n, .. } => *n == 0,
            CallState::VarExact { n, .. } | CallState::VarFloat { n, .. } | CallState::Bits { n, .. } => *n == 0,
            CallState::Bool { t, f } => *t == 0 && *f == 0,
            CallState::Value { .. } => false,
        }
    }

    /// Applies the selected rows of a chunk (`signs[i]` +1 adds row `i`, -1 retracts it) to the
    /// states of their groups (`slots[i]`). `retractable`: whether the call has an input table
    /// to fall back on when a min/max loses its extreme. Calls over an input table only mark the
    /// touched groups stale here.
    pub fn apply(
        &self,
        states: &mut [CallState],
        columns: &[ArrayRef],
        signs: &[i64],
        slots: &[u32],
        rows: Rows<'_>,
        retractable: bool,
    ) -> StreamResult<()> {
        let arg = self.args.first().map(|a| &columns[*a]);
        match self.state {
            StateKind::Count => match arg {
                None => rows.for_each(|i| {
                    if let CallState::Count(c) = &mut states[slots[i] as usize] {
                        *c += signs[i];
                    }
                }),
                Some(a) => {
                    let nulls = a.logical_nulls();
                    rows.for_each(|i| {
                        if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                            return;
                        }
                        if let CallState::Count(c) = &mut states[slots[i] as usize] {
                            *c += signs[i];
                        }
                    })
                }
            },
            StateKind::SumInt { .. } => {
                let a = arg.ok_or_else(|| StreamError::plan("sum without argument"))?;
                let ok = match a.data_type() {
                    ArrowType::Int16 => sum_int(states, a.as_primitive::<Int16Type>(), signs, slots, rows),
                    ArrowType::Int32 => sum_int(states, a.as_primitive::<Int32Type>(), signs, slots, rows),
                    ArrowType::Int64 => sum_int(states, a.as_primitive::<Int64Type>(), signs, slots, rows),
                    ArrowType::Decimal128(..) => sum_int(states, a.as_primitive::<Decimal128Type>(), signs, slots, rows),
                    t => return Err(StreamError::Internal(format!("sum over {t}"))),
                };
                if !ok {
                    return Err(overflow());
                }
            }
            StateKind::SumFloat => {
                let a = arg.ok_or_else(|| StreamError::plan("sum without argument"))?;
                match a.data_type() {
                    ArrowType::Float32 => sum_float(states, a.as_primitive::<Float32Type>(), signs, slots, rows),
                    ArrowType::Float64 => sum_float(states, a.as_primitive::<Float64Type>(), signs, slots, rows),
                    t => return Err(StreamError::Internal(format!("sum over {t}"))),
                }
            }
            StateKind::Extreme { max } => {
                let a = arg.ok_or_else(|| StreamError::plan("min/max without argument"))?;
                apply_extreme(states, a, signs, slots, rows, max, retractable)?;
            }
            StateKind::Result => rows.for_each(|i| {
                if let CallState::Value { stale, .. } = &mut states[slots[i] as usize] {
                    *stale = true;
                }
            }),
            StateKind::Bool => {
                let a = arg.ok_or_else(|| StreamError::plan("bool_and/bool_or without argument"))?;
                let a = a.as_boolean();
                rows.for_each(|i| {
                    if a.is_null(i) {
                        return;
                    }
                    if let CallState::Bool { t, f } = &mut states[slots[i] as usize] {
                        if a.value(i) {
                            *t += signs[i];
                        } else {
                            *f += signs[i];
                        }
                    }
                })
            }
            StateKind::VarExact { .. } => {
                let a = arg.ok_or_else(|| StreamError::plan("variance without argument"))?;
                let ok = match a.data_type() {
                    ArrowType::Int16 => var_exact(states, a.as_primitive::<Int16Type>(), signs, slots, rows),
                    ArrowType::Int32 => var_exact(states, a.as_primitive::<Int32Type>(), signs, slots, rows),
                    ArrowType::Int64 => var_exact(states, a.as_primitive::<Int64Type>(), signs, slots, rows),
                    ArrowType::Decimal128(..) => var_exact(states, a.as_primitive::<Decimal128Type>(), signs, slots, rows),
                    t => return Err(StreamError::Internal(format!("variance over {t}"))),
                };
                if !ok {
                    return Err(overflow());
                }
            }
            StateKind::VarFloat => {
                let a = arg.ok_or_else(|| StreamError::plan("variance without argument"))?;
                match a.data_type() {
                    ArrowType::Float32 => var_float(states, a.as_primitive::<Float32Type>(), signs, slots, rows),
                    ArrowType::Float64 => var_float(states, a.as_primitive::<Float64Type>(), signs, slots, rows),
                    t => return Err(StreamError::Internal(format!("variance over {t}"))),
                }
            }
            StateKind::Bits { width } => {
                let a = arg.ok_or_else(|| StreamError::plan("bit_and/bit_or without argument"))?;
                match a.data_type() {
                    ArrowType::Int16 => bits(states, a.as_primitive::<Int16Type>(), signs, slots, rows, width),
                    ArrowType::Int32 => bits(states, a.as_primitive::<Int32Type>(), signs, slots, rows, width),
                    ArrowType::Int64 => bits(states, a.as_primitive::<Int64Type>(), signs, slots, rows, width),
                    t => return Err(StreamError::Internal(format!("bit aggregate over {t}"))),
                }
            }
        }
        Ok(())
    }

    /// The call's SQL result from its state (a stale value must have been recomputed).
    pub fn finish(&self, state: &CallState) -> StreamResult<ScalarValue> {
        let v = match (self.state, state) {
            (_, CallState::Count(n)) => ScalarValue::Int64(Some(*n)),
            (StateKind::SumInt { scale }, CallState::SumInt { sum, n }) => {
                if *n == 0 {
                    return self.empty_sum();
                }
                if self.kind == AggKind::Avg {
                    avg_exact(*sum, *n, scale, &self.ret_arrow)?
                } else {
                    sum_exact(*sum, scale, &self.ret_arrow)?
                }
            }
            (_, CallState::SumFloat { sum, n }) => {
                if *n == 0 {
                    return self.empty_sum();
                }
                if self.kind == AggKind::Avg {
                    ScalarValue::Float64(Some(sum / *n as f64))
                } else {
                    ScalarValue::Float64(Some(*sum))
                }
            }
            (_, CallState::Value { v, .. }) => v.clone(),
            (_, CallState::Bool { t, f }) => ScalarValue::Boolean(match self.kind {
                AggKind::BoolAnd if *f > 0 => Some(false),
                AggKind::BoolAnd if *t > 0 => Some(true),
                AggKind::BoolOr if *t > 0 => Some(true),
                AggKind::BoolOr if *f > 0 => Some(false),
                _ => None,
            }),
            (StateKind::VarExact { scale }, CallState::VarExact { n, s, q }) => self.var_exact_result(*n, *s, *q, scale)?,
            (_, CallState::VarFloat { n, sxx, .. }) => {
                let den = if self.sample() { *n - 1 } else { *n };
                if den <= 0 {
                    ScalarValue::Float64(None)
                } else {
                    let var = sxx / den as f64;
                    ScalarValue::Float64(Some(if self.sqrt() { var.sqrt() } else { var }))
                }
            }
            (StateKind::Bits { width }, CallState::Bits { n, ones }) => {
                if *n == 0 {
                    ScalarValue::Int64(None)
                } else {
                    let mut bits: u64 = 0;
                    for (j, c) in ones.iter().enumerate() {
                        let set = if self.kind == AggKind::BitAnd { *c == *n } else { *c > 0 };
                        if set {
                            bits |= 1 << j;
                        }
                    }
                    match width {
                        16 => ScalarValue::Int16(Some(bits as u16 as i16)),
                        32 => ScalarValue::Int32(Some(bits as u32 as i32)),
                        _ => ScalarValue::Int64(Some(bits as i64)),
                    }
                }
            }
            (_, other) => return Err(StreamError::Internal(format!("state {other:?} of a {:?} call", self.state))),
        };
        to_type(v, &self.ret_arrow)
    }

    fn empty_sum(&self) -> StreamResult<ScalarValue> {
        if self.kind == AggKind::Sum0 {
            Ok(ScalarValue::new_zero(&self.ret_arrow)?)
        } else {
            Ok(null_of(&self.ret_arrow))
        }
    }

    fn sample(&self) -> bool {
        matches!(self.kind, AggKind::VarSamp | AggKind::StddevSamp)
    }

    fn sqrt(&self) -> bool {
        matches!(self.kind, AggKind::StddevPop | AggKind::StddevSamp)
    }

    /// Variance/stddev from exact sums, as Postgres computes them for integers and numerics:
    /// `(nΣx² - (Σx)²) / (n·m)`, rounded half away from zero at the result's scale.
    fn var_exact_result(&self, n: i64, s: i256, q: i256, scale: i8) -> StreamResult<ScalarValue> {
        let min = if self.sample() { 2 } else { 1 };
        if n < min {
            return Ok(null_of(&self.ret_arrow));
        }
        let nn = i256::from_i128(i128::from(n));
        let m = if self.sample() { i256::from_i128(i128::from(n - 1)) } else { nn };
        let num = nn
            .checked_mul(q)
            .and_then(|a| s.checked_mul(s).and_then(|b| a.checked_sub(b)))
            .ok_or_else(overflow)?;
        let num = if num.is_negative() { i256::ZERO } else { num };
        match self.ret_arrow {
            ArrowType::Decimal128(p, rs) => {
                let ten = i256::from_i128(10);
                let digits = i32::from(rs) * if self.sqrt() { 2 } else { 1 };
                let shift = digits - 2 * i32::from(scale);
                let exact = || -> Option<i256> {
                    let (a, b) = if shift >= 0 {
                        (num.checked_mul(ten.checked_pow(shift as u32)?)?, nn.checked_mul(m)?)
                    } else {
                        (num, nn.checked_mul(m)?.checked_mul(ten.checked_pow((-shift) as u32)?)?)
                    };
                    if self.sqrt() {
                        sqrt_round(a, b)
                    } else {
                        div_round(a, b)
                    }
                };
                let v = exact().and_then(|v| v.to_i128()).ok_or_else(overflow)?;
                if v.unsigned_abs() >= 10u128.pow(u32::from(p)) {
                    return Err(overflow());
                }
                Ok(ScalarValue::Decimal128(Some(v), p, rs))
            }
            _ => {
                let var = i256_to_f64(num) / (i256_to_f64(nn) * i256_to_f64(m)) / 10f64.powi(2 * i32::from(scale));
                Ok(ScalarValue::Float64(Some(if self.sqrt() { var.sqrt() } else { var })))
            }
        }
    }

    /// The result of a call over its input table from the group's input rows (in the table's
    /// order), `arg_pos` the positions of the call's arguments in those rows.
    pub fn result_of_rows(&self, rows: &[OwnedRow], arg_pos: &[usize]) -> StreamResult<ScalarValue> {
        let arg = |r: &OwnedRow, k: usize| r.get(arg_pos[k]).cloned().unwrap_or(ScalarValue::Null);
        let v = match self.kind {
            AggKind::Min | AggKind::Max | AggKind::FirstValue | AggKind::LastValue => match rows.first() {
                Some(r) => arg(r, 0),
                None => null_of(&self.ret_arrow),
            },
            AggKind::StringAgg => {
                let mut out: Option<String> = None;
                for r in rows {
                    let Some(v) = scalar_text(&arg(r, 0))? else { continue };
                    match &mut out {
                        None => out = Some(v),
                        Some(s) => {
                            if arg_pos.len() > 1 {
                                if let Some(d) = scalar_text(&arg(r, 1))? {
                                    s.push_str(&d);
                                }
                            }
                            s.push_str(&v);
                        }
                    }
                }
                ScalarValue::Utf8(out)
            }
            AggKind::ArrayAgg => {
                if rows.is_empty() {
                    null_of(&self.ret_arrow)
                } else {
                    let elem = match &self.ret_arrow {
                        ArrowType::List(f) => f.data_type().clone(),
                        t => return Err(StreamError::plan(format!("array_agg returning {t}"))),
                    };
                    let values = rows.iter().map(|r| to_type(arg(r, 0), &elem)).collect::<StreamResult<Vec<_>>>()?;
                    ScalarValue::List(ScalarValue::new_list_nullable(&values, &elem))
                }
            }
            AggKind::JsonbAgg | AggKind::JsonbObjectAgg => {
                if rows.is_empty() {
                    null_of(&self.ret_arrow)
                } else {
                    json_result(self.kind, rows, arg_pos)?
                }
            }
            k => return Err(StreamError::Internal(format!("{} has no input table", k.as_str_name()))),
        };
        to_type(v, &self.ret_arrow)
    }
}

/// `jsonb_agg` / `jsonb_object_agg` over the rows' arguments.
fn json_result(kind: AggKind, rows: &[OwnedRow], arg_pos: &[usize]) -> StreamResult<ScalarValue> {
    use tributary_expr::jsonb::to_json::array_to_values;
    use tributary_expr::jsonb::Value;
    let column = |k: usize| -> StreamResult<Vec<Option<Value>>> {
        let values = rows.iter().map(|r| r[arg_pos[k]].clone());
        let array = ScalarValue::iter_to_array(values)?;
        Ok(array_to_values(&array)?)
    };
    let values = column(0)?;
    let json = if kind == AggKind::JsonbAgg {
        Value::Array(values.into_iter().map(|v| v.unwrap_or(Value::Null)).collect())
    } else {
        let items = column(1)?;
        let mut pairs = Vec::with_capacity(values.len());
        for (k, v) in values.into_iter().zip(items) {
            // A NULL key is an error in Postgres; here the pair is left out.
            let Some(key) = k.and_then(|k| k.to_sql_text()) else { continue };
            pairs.push((key, v.unwrap_or(Value::Null)));
        }
        tributary_expr::jsonb::ops::object_from_pairs(pairs)
    };
    Ok(ScalarValue::LargeUtf8(Some(json.to_text())))
}

/// A value as text (string_agg's inputs), `None` for NULL.
fn scalar_text(v: &ScalarValue) -> StreamResult<Option<String>> {
    Ok(match v {
        ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s) => s.clone(),
        v if v.is_null() => None,
        v => match v.cast_to(&ArrowType::Utf8)? {
            ScalarValue::Utf8(s) => s,
            _ => None,
        },
    })
}

pub fn null_of(t: &ArrowType) -> ScalarValue {
    ScalarValue::try_from(t).unwrap_or(ScalarValue::Null)
}

/// `v` as a value of `t` (a cast where the state's type differs from the result's).
pub fn to_type(v: ScalarValue, t: &ArrowType) -> StreamResult<ScalarValue> {
    if &v.data_type() == t {
        Ok(v)
    } else if v.is_null() {
        Ok(null_of(t))
    } else {
        Ok(v.cast_to(t)?)
    }
}

fn overflow() -> StreamError {
    StreamError::Common(tributary_common::CommonError::InvalidInput("numeric value out of range in an aggregate".into()))
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// An exact sum (unscaled at `scale`) as the result type.
fn sum_exact(sum: i128, scale: i8, ret: &ArrowType) -> StreamResult<ScalarValue> {
    Ok(match ret {
        ArrowType::Int64 | ArrowType::Int32 | ArrowType::Int16 => {
            let v = if scale > 0 { sum / pow10(scale as u32).ok_or_else(overflow)? } else { sum };
            let v = i64::try_from(v).map_err(|_| overflow())?;
            match ret {
                ArrowType::Int64 => ScalarValue::Int64(Some(v)),
                ArrowType::Int32 => ScalarValue::Int32(Some(i32::try_from(v).map_err(|_| overflow())?)),
                _ => ScalarValue::Int16(Some(i16::try_from(v).map_err(|_| overflow())?)),
            }
        }
        ArrowType::Decimal128(p, s) => {
            let v = rescale(sum, scale, *s).ok_or_else(overflow)?;
            if v.unsigned_abs() >= 10u128.pow(u32::from(*p)) {
                return Err(overflow());
            }
            ScalarValue::Decimal128(Some(v), *p, *s)
        }
        _ => ScalarValue::Float64(Some(sum as f64 / 10f64.powi(i32::from(scale)))),
    })
}

/// An exact average as the result type: a numeric rounded half away from zero at the result's
/// scale (as Postgres and our batch `avg`), or a double.
fn avg_exact(sum: i128, n: i64, scale: i8, ret: &ArrowType) -> StreamResult<ScalarValue> {
    Ok(match ret {
        ArrowType::Decimal128(p, s) => {
            let shift = i32::from(*s) - i32::from(scale);
            let ten = i256::from_i128(10);
            let (num, den) = if shift >= 0 {
                (i256::from_i128(sum).checked_mul(ten.checked_pow(shift as u32).ok_or_else(overflow)?), i256::from_i128(i128::from(n)))
            } else {
                (Some(i256::from_i128(sum)), i256::from_i128(i128::from(n)).wrapping_mul(ten.wrapping_pow((-shift) as u32)))
            };
            let v = num.and_then(|a| div_round(a, den)).and_then(|v| v.to_i128()).ok_or_else(overflow)?;
            if v.unsigned_abs() >= 10u128.pow(u32::from(*p)) {
                return Err(overflow());
            }
            ScalarValue::Decimal128(Some(v), *p, *s)
        }
        _ => ScalarValue::Float64(Some(sum as f64 / 10f64.powi(i32::from(scale)) / n as f64)),
    })
}

/// An unscaled decimal from scale `from` to scale `to` (truncating when the scale shrinks).
fn rescale(v: i128, from: i8, to: i8) -> Option<i128> {
    let d = i32::from(to) - i32::from(from);
    if d >= 0 {
        v.checked_mul(pow10(d as u32)?)
    } else {
        Some(v / pow10((-d) as u32)?)
    }
}

fn i256_to_f64(v: i256) -> f64 {
    match v.to_i128() {
        Some(x) => x as f64,
        None => v.to_string().parse().unwrap_or(f64::NAN),
    }
}

fn sum_int<T: ArrowPrimitiveType>(
    states: &mut [CallState],
    a: &PrimitiveArray<T>,
    signs: &[i64],
    slots: &[u32],
    rows: Rows<'_>,
) -> bool
where
    T::Native: Into<i128>,
{
    let mut ok = true;
    let values = a.values();
    let nulls = a.nulls().filter(|n| n.null_count() > 0);
    rows.for_each(|i| {
        if nulls.is_some_and(|n| n.is_null(i)) {
            return;
        }
        if let CallState::SumInt { sum, n } = &mut states[slots[i] as usize] {
            let v: i128 = values[i].into();
            let next = if signs[i] > 0 { sum.checked_add(v) } else { sum.checked_sub(v) };
            match next {
                Some(s) => *sum = s,
                None => ok = false,
            }
            *n += signs[i];
        }
    });
    ok
}

fn sum_float<T: ArrowPrimitiveType>(states: &mut [CallState], a: &PrimitiveArray<T>, signs: &[i64], slots: &[u32], rows: Rows<'_>)
where
    T::Native: Into<f64>,
{
    let values = a.values();
    let nulls = a.nulls().filter(|n| n.null_count() > 0);
    rows.for_each(|i| {
        if nulls.is_some_and(|n| n.is_null(i)) {
            return;
        }
        if let CallState::SumFloat { sum, n } = &mut states[slots[i] as usize] {
            let v: f64 = values[i].into();
            if signs[i] > 0 {
                *sum += v;
            } else {
                *sum -= v;
            }
            *n += signs[i];
        }
    });
}

fn var_exact<T: ArrowPrimitiveType>(states: &mut [CallState], a: &PrimitiveArray<T>, signs: &[i64], slots: &[u32], rows: Rows<'_>) -> bool
where
    T::Native: Into<i128>,
{
    let mut ok = true;
    let values = a.values();
    let nulls = a.nulls().filter(|n| n.null_count() > 0);
    rows.for_each(|i| {
        if nulls.is_some_and(|n| n.is_null(i)) {
            return;
        }
        if let CallState::VarExact { n, s, q } = &mut states[slots[i] as usize] {
            let x = i256::from_i128(values[i].into());
            let Some(sq) = x.checked_mul(x) else {
                ok = false;
                return;
            };
            let next = if signs[i] > 0 {
                s.checked_add(x).zip(q.checked_add(sq))
            } else {
                s.checked_sub(x).zip(q.checked_sub(sq))
            };
            match next {
                Some((ns, nq)) => (*s, *q) = (ns, nq),
                None => ok = false,
            }
            *n += signs[i];
        }
    });
    ok
}

/// Youngs-Cramer updates of (N, Σx, Σ(x-mean)²), as Postgres' float8_accum, and their inverse
/// for retractions.
fn var_float<T: ArrowPrimitiveType>(states: &mut [CallState], a: &PrimitiveArray<T>, signs: &[i64], slots: &[u32], rows: Rows<'_>)
where
    T::Native: Into<f64>,
{
    let values = a.values();
    let nulls = a.nulls().filter(|n| n.null_count() > 0);
    rows.for_each(|i| {
        if nulls.is_some_and(|n| n.is_null(i)) {
            return;
        }
        if let CallState::VarFloat { n, sx, sxx } = &mut states[slots[i] as usize] {
            let x: f64 = values[i].into();
            if signs[i] > 0 {
                *n += 1;
                *sx += x;
                let nf = *n as f64;
                if *n > 1 {
                    let tmp = x * nf - *sx;
                    *sxx += tmp * tmp / (nf * (nf - 1.0));
                } else {
                    *sxx = x * 0.0;
                }
            } else if *n <= 1 {
                (*n, *sx, *sxx) = (0, 0.0, 0.0);
            } else {
                let nf = *n as f64;
                let tmp = x * nf - *sx;
                *sxx -= tmp * tmp / (nf * (nf - 1.0));
                *n -= 1;
                *sx -= x;
                if *sxx < 0.0 {
                    *sxx = 0.0;
                }
            }
        }
    });
}

fn bits<T: ArrowPrimitiveType>(states: &mut [CallState], a: &PrimitiveArray<T>, signs: &[i64], slots: &[u32], rows: Rows<'_>, width: u32)
where
    T::Native: Into<i64>,
{
    let values = a.values();
    let nulls = a.nulls().filter(|n| n.null_count() > 0);
    let mask: u64 = if width >= 64 { u64::MAX } else { (1u64 << width) - 1 };
    rows.for_each(|i| {
        if nulls.is_some_and(|n| n.is_null(i)) {
            return;
        }
        if let CallState::Bits { n, ones } = &mut states[slots[i] as usize] {
            let v: i64 = values[i].into();
            let mut x = (v as u64) & mask;
            while x != 0 {
                let j = x.trailing_zeros() as usize;
                ones[j] += signs[i];
                x &= x - 1;
            }
            *n += signs[i];
        }
    });
}

/// min/max: the best inserted row of each group in the chunk (compared on the arrays), then one
/// comparison per group with the current extreme; a retraction of the current extreme marks the
/// group stale (recomputed from the input table), which is only possible with one.
fn apply_extreme(
    states: &mut [CallState],
    a: &ArrayRef,
    signs: &[i64],
    slots: &[u32],
    rows: Rows<'_>,
    max: bool,
    retractable: bool,
) -> StreamResult<()> {
    let cmp = make_comparator(a.as_ref(), a.as_ref(), SortOptions::default())?;
    let nulls = a.logical_nulls();
    let better = |o: std::cmp::Ordering| if max { o.is_gt() } else { o.is_lt() };
    let mut best: HashMap<u32, u32> = HashMap::new();
    let mut deletes: Vec<u32> = Vec::new();
    rows.for_each(|i| {
        if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
            return;
        }
        if signs[i] > 0 {
            best.entry(slots[i])
                .and_modify(|b| {
                    if better(cmp(i, *b as usize)) {
                        *b = i as u32;
                    }
                })
                .or_insert(i as u32);
        } else {
            deletes.push(i as u32);
        }
    });
    for (slot, row) in best {
        if let CallState::Value { v, stale: false } = &mut states[slot as usize] {
            let candidate = ScalarValue::try_from_array(a.as_ref(), row as usize)?;
            if v.is_null() || candidate.partial_cmp(v).is_some_and(better) {
                *v = candidate;
            }
        }
    }
    if !deletes.is_empty() && !retractable {
        return Err(StreamError::Internal("min/max over append-only input received a retraction".into()));
    }
    for i in deletes {
        if let CallState::Value { v, stale } = &mut states[slots[i as usize] as usize] {
            if !*stale && !v.is_null() && ScalarValue::try_from_array(a.as_ref(), i as usize)? == *v {
                *stale = true;
            }
        }
    }
    Ok(())
}

/// The rows among `rows` where the FILTER column is true.
pub fn filter_rows(filter: &BooleanArray, rows: Rows<'_>) -> Vec<u32> {
    let mut out = Vec::new();
    rows.for_each(|i| {
        if filter.is_valid(i) && filter.value(i) {
            out.push(i as u32);
        }
    });
    out
}

#[cfg(test)]
mod avg_tests {
    use super::*;

    #[test]
    fn average_rounds_half_away_from_zero() {
        let ret = ArrowType::Decimal128(38, 10);
        assert_eq!(avg_exact(5, 3, 0, &ret).unwrap(), ScalarValue::Decimal128(Some(16_666_666_667), 38, 10));
        assert_eq!(avg_exact(-5, 3, 0, &ret).unwrap(), ScalarValue::Decimal128(Some(-16_666_666_667), 38, 10));
        assert_eq!(avg_exact(4, 3, 0, &ret).unwrap(), ScalarValue::Decimal128(Some(13_333_333_333), 38, 10));
    }
}
