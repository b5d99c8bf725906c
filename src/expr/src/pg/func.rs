//! A compact way to declare scalar functions: a name, a coercion rule, a return-type rule and an
//! evaluator (per row on `ScalarValue`s, or per batch on arrays).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{new_empty_array, ArrayRef};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

pub(crate) type CoerceFn = Arc<dyn Fn(&[DataType]) -> Result<Vec<DataType>> + Send + Sync>;
/// Return type from the argument types and the values of the constant arguments.
pub(crate) type ReturnFn = Arc<dyn Fn(&[DataType], &[Option<&ScalarValue>]) -> Result<DataType> + Send + Sync>;
/// Per-row evaluator; receives the argument values of one row.
pub(crate) type RowFn = Arc<dyn Fn(&[ScalarValue], &Ctx) -> Result<ScalarValue> + Send + Sync>;
/// Whole-batch evaluator; receives the arguments as arrays of equal length.
pub(crate) type BatchFn = Arc<dyn Fn(&[ArrayRef], &Ctx) -> Result<ArrayRef> + Send + Sync>;

/// What an evaluator may need besides its arguments.
pub(crate) struct Ctx<'a> {
    pub ret: &'a DataType,
    pub arg_types: &'a [DataType],
    pub config: &'a ConfigOptions,
}

impl Ctx<'_> {
    /// The session time zone (`SET TIME ZONE`), UTC when unset.
    pub fn time_zone(&self) -> Result<super::tz::Zone> {
        super::tz::session_zone(self.config)
    }
}

#[derive(Clone)]
enum Eval {
    Row { f: RowFn, strict: bool },
    Batch(BatchFn),
}

#[derive(Clone)]
pub(crate) struct PgFunc {
    name: String,
    aliases: Vec<String>,
    signature: Signature,
    coerce: CoerceFn,
    ret: ReturnFn,
    eval: Eval,
}

impl fmt::Debug for PgFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgFunc({})", self.name)
    }
}

// Two declarations with one name are one function: the registry is keyed by name anyway.
impl PartialEq for PgFunc {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for PgFunc {}
impl Hash for PgFunc {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}

/// Starts declaring a function. Defaults: immutable, any arguments kept as they are, returns the
/// first argument's type.
pub(crate) fn func(name: &str) -> FuncBuilder {
    FuncBuilder {
        name: name.to_string(),
        aliases: vec![],
        volatility: Volatility::Immutable,
        coerce: Arc::new(|t: &[DataType]| Ok(t.to_vec())),
        ret: Arc::new(|t: &[DataType], _: &[Option<&ScalarValue>]| Ok(t.first().cloned().unwrap_or(DataType::Null))),
    }
}

pub(crate) struct FuncBuilder {
    name: String,
    aliases: Vec<String>,
    volatility: Volatility,
    coerce: CoerceFn,
    ret: ReturnFn,
}

impl FuncBuilder {
    pub fn alias(mut self, a: &str) -> Self {
        self.aliases.push(a.to_string());
        self
    }
    pub fn stable(mut self) -> Self {
        self.volatility = Volatility::Stable;
        self
    }
    /// Chooses the argument types the call is coerced to (or rejects the call).
    pub fn coerce(mut self, f: impl Fn(&[DataType]) -> Result<Vec<DataType>> + Send + Sync + 'static) -> Self {
        self.coerce = Arc::new(f);
        self
    }
    /// Coerces to exactly these types, rejecting other arities.
    pub fn args(self, types: Vec<DataType>) -> Self {
        let name = self.name.clone();
        self.coerce(move |t| {
            if t.len() != types.len() {
                return Err(super::err::arg_count(&name, t));
            }
            Ok(types.clone())
        })
    }
    pub fn returns(mut self, f: impl Fn(&[DataType]) -> Result<DataType> + Send + Sync + 'static) -> Self {
        self.ret = Arc::new(move |t, _| f(t));
        self
    }
    /// Return type that may depend on constant arguments (e.g. the digits of `round(x, 2)`).
    pub fn returns_scalars(
        mut self,
        f: impl Fn(&[DataType], &[Option<&ScalarValue>]) -> Result<DataType> + Send + Sync + 'static,
    ) -> Self {
        self.ret = Arc::new(f);
        self
    }
    pub fn returns_type(self, t: DataType) -> Self {
        self.returns(move |_| Ok(t.clone()))
    }

    fn build(self, eval: Eval) -> ScalarUDF {
        let signature = Signature::new(TypeSignature::UserDefined, self.volatility);
        ScalarUDF::new_from_impl(PgFunc {
            name: self.name,
            aliases: self.aliases,
            signature,
            coerce: self.coerce,
            ret: self.ret,
            eval,
        })
    }
    /// Evaluates row by row; `strict` functions return NULL when any argument is NULL.
    pub fn row(
        self,
        strict: bool,
        f: impl Fn(&[ScalarValue], &Ctx) -> Result<ScalarValue> + Send + Sync + 'static,
    ) -> ScalarUDF {
        self.build(Eval::Row { f: Arc::new(f), strict })
    }
    /// Strict row-by-row evaluation.
    pub fn strict(self, f: impl Fn(&[ScalarValue], &Ctx) -> Result<ScalarValue> + Send + Sync + 'static) -> ScalarUDF {
        self.row(true, f)
    }
    pub fn batch(self, f: impl Fn(&[ArrayRef], &Ctx) -> Result<ArrayRef> + Send + Sync + 'static) -> ScalarUDF {
        self.build(Eval::Batch(Arc::new(f)))
    }
}

impl ScalarUDFImpl for PgFunc {
    fn name(&self) -> &str {
        &self.name
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        (self.coerce)(arg_types)
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        // The coercion rule also validates the arity the return-type rule relies on.
        (self.coerce)(arg_types)?;
        (self.ret)(arg_types, &[])
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        (self.coerce)(&types)?;
        let t = (self.ret)(&types, args.scalar_arguments)?;
        Ok(Arc::new(Field::new(self.name(), t, true)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arg_types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        let ret = args.return_field.data_type().clone();
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let ctx = Ctx {
            ret: &ret,
            arg_types: &arg_types,
            config: &args.config_options,
        };
        match &self.eval {
            Eval::Row { f, strict } => {
                if all_scalar {
                    let vals: Vec<ScalarValue> = args
                        .args
                        .iter()
                        .map(|a| match a {
                            ColumnarValue::Scalar(s) => s.clone(),
                            ColumnarValue::Array(_) => ScalarValue::Null,
                        })
                        .collect();
                    let out = eval_row(f, *strict, &vals, &ctx)?;
                    return Ok(ColumnarValue::Scalar(out));
                }
                let arrays = ColumnarValue::values_to_arrays(&args.args)?;
                if rows == 0 {
                    return Ok(ColumnarValue::Array(new_empty_array(&ret)));
                }
                let mut out = Vec::with_capacity(rows);
                let mut vals = Vec::with_capacity(arrays.len());
                for i in 0..rows {
                    vals.clear();
                    for a in &arrays {
                        vals.push(ScalarValue::try_from_array(a, i)?);
                    }
                    out.push(eval_row(f, *strict, &vals, &ctx)?);
                }
                Ok(ColumnarValue::Array(ScalarValue::iter_to_array(out)?))
            }
            Eval::Batch(f) => {
                let arrays = if all_scalar {
                    args.args.iter().map(|a| a.to_array(1)).collect::<Result<Vec<_>>>()?
                } else {
                    ColumnarValue::values_to_arrays(&args.args)?
                };
                let out = f(&arrays, &ctx)?;
                if all_scalar {
                    Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
                } else {
                    Ok(ColumnarValue::Array(out))
                }
            }
        }
    }
}

fn eval_row(f: &RowFn, strict: bool, vals: &[ScalarValue], ctx: &Ctx) -> Result<ScalarValue> {
    let out = if strict && vals.iter().any(|v| v.is_null()) {
        ScalarValue::Null
    } else {
        f(vals, ctx)?
    };
    typed(out, ctx.ret)
}

/// Gives a result the declared return type: untyped NULLs become typed ones and values of a
/// neighbouring type are cast, so that rows can be assembled into one array.
pub(crate) fn typed(v: ScalarValue, t: &DataType) -> Result<ScalarValue> {
    if v.is_null() {
        return ScalarValue::try_from(t);
    }
    if &v.data_type() == t {
        return Ok(v);
    }
    v.cast_to(t)
}
