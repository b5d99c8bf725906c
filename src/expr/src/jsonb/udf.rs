//! The jsonb scalar functions. One [`JsonbUdf`] type serves all of them: each is a [`Kind`]
//! with its argument coercion, return type and row-wise evaluation.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Int32Builder, LargeStringArray, LargeStringBuilder,
    ListArray, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::common::{exec_err, plan_err, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use super::ops;
use super::to_json::array_to_values;
use super::value::{self, Number, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// text → jsonb (`'…'::jsonb`): validates and normalizes.
    In,
    Typeof,
    ArrayLength,
    /// `->` with a text key or an integer index.
    Access,
    /// `->>`
    AccessText,
    /// `jsonb_extract_path(j, variadic text)`
    ExtractPath,
    ExtractPathText,
    /// `#>` with a `text[]` (or a `'{a,b}'` literal)
    PathGet,
    /// `#>>`
    PathGetText,
    BuildObject,
    BuildArray,
    ToJsonb,
    StripNulls,
    Pretty,
    Set,
    Exists,
    ExistsAny,
    ExistsAll,
    Contains,
    Contained,
    Concat,
    /// `-` with a key, an index or a `text[]` of keys
    Delete,
    /// `#-`
    DeletePath,
    /// Final step of `jsonb_agg`: `array_agg` of jsonb values → one jsonb array.
    AggFinish,
    /// Final step of `jsonb_object_agg`: `array_agg` of `[key, value]` pairs → one object.
    ObjectAggFinish,
    /// `[key, value]` pair fed to `array_agg` by `jsonb_object_agg`.
    Pair,
    /// `jsonb_array_elements` and friends, as list-valued functions; see [`super::srf`].
    ElementsList,
    ElementsTextList,
    ObjectKeysList,
    EachList,
    EachTextList,
    /// The user-facing set-returning names. The analyzer turns them into an unnest of the list
    /// functions above; anywhere it cannot (WHERE, JOIN ON, …) they fail as in Postgres.
    SrfMarker(SrfKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrfKind {
    Elements,
    ElementsText,
    ObjectKeys,
    Each,
    EachText,
}

impl SrfKind {
    pub fn list_kind(self) -> Kind {
        match self {
            SrfKind::Elements => Kind::ElementsList,
            SrfKind::ElementsText => Kind::ElementsTextList,
            SrfKind::ObjectKeys => Kind::ObjectKeysList,
            SrfKind::Each => Kind::EachList,
            SrfKind::EachText => Kind::EachTextList,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SrfKind::Elements => "jsonb_array_elements",
            SrfKind::ElementsText => "jsonb_array_elements_text",
            SrfKind::ObjectKeys => "jsonb_object_keys",
            SrfKind::Each => "jsonb_each",
            SrfKind::EachText => "jsonb_each_text",
        }
    }

    pub const ALL: [SrfKind; 5] = [
        SrfKind::Elements,
        SrfKind::ElementsText,
        SrfKind::ObjectKeys,
        SrfKind::Each,
        SrfKind::EachText,
    ];

    /// The type of one produced row.
    pub fn row_type(self) -> DataType {
        match self {
            SrfKind::Elements => DataType::LargeUtf8,
            SrfKind::ElementsText | SrfKind::ObjectKeys => DataType::Utf8,
            SrfKind::Each => each_struct(DataType::LargeUtf8),
            SrfKind::EachText => each_struct(DataType::Utf8),
        }
    }
}

fn each_struct(value: DataType) -> DataType {
    DataType::Struct(
        vec![
            Field::new("key", DataType::Utf8, true),
            Field::new("value", value, true),
        ]
        .into(),
    )
}

fn list_of(t: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(t, true)))
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::In => "jsonb_in",
            Kind::Typeof => "jsonb_typeof",
            Kind::ArrayLength => "jsonb_array_length",
            Kind::Access => "jsonb_access",
            Kind::AccessText => "jsonb_access_text",
            Kind::ExtractPath => "jsonb_extract_path",
            Kind::ExtractPathText => "jsonb_extract_path_text",
            Kind::PathGet => "jsonb_path_get",
            Kind::PathGetText => "jsonb_path_get_text",
            Kind::BuildObject => "jsonb_build_object",
            Kind::BuildArray => "jsonb_build_array",
            Kind::ToJsonb => "to_jsonb",
            Kind::StripNulls => "jsonb_strip_nulls",
            Kind::Pretty => "jsonb_pretty",
            Kind::Set => "jsonb_set",
            Kind::Exists => "jsonb_exists",
            Kind::ExistsAny => "jsonb_exists_any",
            Kind::ExistsAll => "jsonb_exists_all",
            Kind::Contains => "jsonb_contains",
            Kind::Contained => "jsonb_contained",
            Kind::Concat => "jsonb_concat",
            Kind::Delete => "jsonb_delete",
            Kind::DeletePath => "jsonb_delete_path",
            Kind::AggFinish => "__jsonb_agg_finish",
            Kind::ObjectAggFinish => "__jsonb_object_agg_finish",
            Kind::Pair => "__jsonb_pair",
            Kind::ElementsList => "__jsonb_array_elements_list",
            Kind::ElementsTextList => "__jsonb_array_elements_text_list",
            Kind::ObjectKeysList => "__jsonb_object_keys_list",
            Kind::EachList => "__jsonb_each_list",
            Kind::EachTextList => "__jsonb_each_text_list",
            Kind::SrfMarker(s) => s.name(),
        }
    }

    pub const ALL: [Kind; 36] = [
        Kind::In,
        Kind::Typeof,
        Kind::ArrayLength,
        Kind::Access,
        Kind::AccessText,
        Kind::ExtractPath,
        Kind::ExtractPathText,
        Kind::PathGet,
        Kind::PathGetText,
        Kind::BuildObject,
        Kind::BuildArray,
        Kind::ToJsonb,
        Kind::StripNulls,
        Kind::Pretty,
        Kind::Set,
        Kind::Exists,
        Kind::ExistsAny,
        Kind::ExistsAll,
        Kind::Contains,
        Kind::Contained,
        Kind::Concat,
        Kind::Delete,
        Kind::DeletePath,
        Kind::AggFinish,
        Kind::ObjectAggFinish,
        Kind::Pair,
        Kind::ElementsList,
        Kind::ElementsTextList,
        Kind::ObjectKeysList,
        Kind::EachList,
        Kind::EachTextList,
        Kind::SrfMarker(SrfKind::Elements),
        Kind::SrfMarker(SrfKind::ElementsText),
        Kind::SrfMarker(SrfKind::ObjectKeys),
        Kind::SrfMarker(SrfKind::Each),
        Kind::SrfMarker(SrfKind::EachText),
    ];
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonbUdf {
    kind: Kind,
    signature: Signature,
}

impl JsonbUdf {
    pub fn new(kind: Kind) -> Self {
        let signature = match kind {
            Kind::BuildObject | Kind::BuildArray => Signature::one_of(
                vec![TypeSignature::Nullary, TypeSignature::UserDefined],
                Volatility::Immutable,
            ),
            _ => Signature::user_defined(Volatility::Immutable),
        };
        JsonbUdf { kind, signature }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }
}

pub fn udf(kind: Kind) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(JsonbUdf::new(kind)))
}

pub fn all_udfs() -> Vec<Arc<ScalarUDF>> {
    Kind::ALL.iter().map(|k| udf(*k)).collect()
}

/// Argument slots, for coercion.
#[derive(Clone, Copy)]
enum Slot {
    Jsonb,
    Text,
    /// A `text[]`, or a text literal in array syntax.
    TextArray,
    Bool,
    /// `->`'s right side: integer index or text key.
    KeyOrIndex,
    /// `-`'s right side: key, index or `text[]`.
    KeyIndexOrArray,
    /// List produced by `array_agg`.
    List,
    Any,
}

fn is_string(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
    )
}

fn is_text_list(t: &DataType) -> bool {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            is_string(f.data_type())
        }
        _ => false,
    }
}

fn coerce_slot(name: &str, slot: Slot, t: &DataType) -> Result<DataType> {
    let ok = match slot {
        Slot::Any | Slot::List => Some(t.clone()),
        Slot::Jsonb => is_string(t).then_some(DataType::LargeUtf8),
        Slot::Text => (is_string(t) && *t != DataType::LargeUtf8).then_some(DataType::Utf8),
        Slot::TextArray => {
            (is_text_list(t) || (is_string(t) && *t != DataType::LargeUtf8)).then(|| t.clone())
        }
        Slot::Bool => matches!(t, DataType::Boolean | DataType::Null).then_some(DataType::Boolean),
        Slot::KeyOrIndex => {
            if t.is_integer() {
                Some(DataType::Int64)
            } else if is_string(t) && *t != DataType::LargeUtf8 {
                Some(DataType::Utf8)
            } else {
                None
            }
        }
        Slot::KeyIndexOrArray => {
            if t.is_integer() {
                Some(DataType::Int64)
            } else if is_text_list(t) {
                Some(t.clone())
            } else if is_string(t) && *t != DataType::LargeUtf8 {
                Some(DataType::Utf8)
            } else {
                None
            }
        }
    };
    match ok {
        Some(t) => Ok(t),
        None => plan_err!("function {name} does not accept an argument of type {t}"),
    }
}

impl ScalarUDFImpl for JsonbUdf {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        use Slot::*;
        let name = self.kind.name();
        let fixed: &[Slot] = match self.kind {
            // A text[] becomes jsonb[] element by element.
            Kind::In if arg_types.len() == 1 && is_text_list(&arg_types[0]) => {
                return Ok(arg_types.to_vec())
            }
            Kind::In => &[Text],
            Kind::Typeof
            | Kind::ArrayLength
            | Kind::StripNulls
            | Kind::Pretty
            | Kind::ElementsList
            | Kind::ElementsTextList
            | Kind::ObjectKeysList
            | Kind::EachList
            | Kind::EachTextList
            | Kind::SrfMarker(_) => &[Jsonb],
            Kind::Access | Kind::AccessText => &[Jsonb, KeyOrIndex],
            Kind::PathGet | Kind::PathGetText | Kind::DeletePath => &[Jsonb, TextArray],
            Kind::Exists => &[Jsonb, Text],
            Kind::ExistsAny | Kind::ExistsAll => &[Jsonb, TextArray],
            Kind::Contains | Kind::Contained | Kind::Concat => &[Jsonb, Jsonb],
            Kind::Delete => &[Jsonb, KeyIndexOrArray],
            Kind::AggFinish | Kind::ObjectAggFinish => &[List],
            Kind::Pair => &[Any, Any],
            Kind::ToJsonb => &[Any],
            Kind::Set => {
                if !(3..=4).contains(&arg_types.len()) {
                    return plan_err!("function jsonb_set takes 3 or 4 arguments");
                }
                &[Jsonb, TextArray, Jsonb, Bool][..arg_types.len()]
            }
            Kind::ExtractPath | Kind::ExtractPathText => {
                if arg_types.is_empty() {
                    return plan_err!("function {name} needs at least one argument");
                }
                return arg_types
                    .iter()
                    .enumerate()
                    .map(|(i, t)| coerce_slot(name, if i == 0 { Jsonb } else { Text }, t))
                    .collect();
            }
            Kind::BuildObject | Kind::BuildArray => return Ok(arg_types.to_vec()),
        };
        if fixed.len() != arg_types.len() {
            return plan_err!(
                "function {name} takes {} argument(s), got {}",
                fixed.len(),
                arg_types.len()
            );
        }
        fixed
            .iter()
            .zip(arg_types)
            .map(|(s, t)| coerce_slot(name, *s, t))
            .collect()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if let (Kind::In, [DataType::List(f)]) = (self.kind, arg_types) {
            return Ok(DataType::List(Arc::new(
                f.as_ref().clone().with_data_type(DataType::LargeUtf8),
            )));
        }
        Ok(match self.kind {
            Kind::Typeof
            | Kind::AccessText
            | Kind::ExtractPathText
            | Kind::PathGetText
            | Kind::Pretty => DataType::Utf8,
            Kind::ArrayLength => DataType::Int32,
            Kind::Exists | Kind::ExistsAny | Kind::ExistsAll | Kind::Contains | Kind::Contained => {
                DataType::Boolean
            }
            Kind::ElementsList => list_of(SrfKind::Elements.row_type()),
            Kind::ElementsTextList => list_of(SrfKind::ElementsText.row_type()),
            Kind::ObjectKeysList => list_of(SrfKind::ObjectKeys.row_type()),
            Kind::EachList => list_of(SrfKind::Each.row_type()),
            Kind::EachTextList => list_of(SrfKind::EachText.row_type()),
            Kind::SrfMarker(s) => s.row_type(),
            _ => DataType::LargeUtf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if all_scalar { 1 } else { args.number_rows };
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let out = evaluate(self.kind, &arrays, n)?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

fn err(msg: impl Into<String>) -> DataFusionError {
    DataFusionError::Execution(msg.into())
}

/// Looks a row's value up by the row's key or index.
type Lookup = dyn Fn(&Value, usize) -> Option<Value>;

/// Reads a jsonb column row by row.
struct JsonbCol(LargeStringArray);

impl JsonbCol {
    fn new(a: &ArrayRef) -> Result<JsonbCol> {
        let a = arrow::compute::cast(a, &DataType::LargeUtf8)?;
        Ok(JsonbCol(a.as_string::<i64>().clone()))
    }

    fn get(&self, i: usize) -> Result<Option<Value>> {
        if self.0.is_null(i) {
            return Ok(None);
        }
        value::parse(self.0.value(i))
            .map(Some)
            .map_err(|e| err(e.to_string()))
    }
}

/// Reads a text column row by row.
struct TextCol(arrow::array::StringArray);

impl TextCol {
    fn new(a: &ArrayRef) -> Result<TextCol> {
        let a = arrow::compute::cast(a, &DataType::Utf8)?;
        Ok(TextCol(a.as_string::<i32>().clone()))
    }

    fn get(&self, i: usize) -> Option<&str> {
        (!self.0.is_null(i)).then(|| self.0.value(i))
    }
}

/// Reads a `text[]` column (or array literals given as text) row by row.
enum TextArrayCol {
    List(ListArray),
    Literal(TextCol),
}

impl TextArrayCol {
    fn new(a: &ArrayRef) -> Result<TextArrayCol> {
        match a.data_type() {
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
                let target = list_of(DataType::Utf8);
                let a = arrow::compute::cast(a, &target)?;
                Ok(TextArrayCol::List(a.as_list::<i32>().clone()))
            }
            _ => Ok(TextArrayCol::Literal(TextCol::new(a)?)),
        }
    }

    fn get(&self, i: usize) -> Result<Option<Vec<Option<String>>>> {
        match self {
            TextArrayCol::List(l) => {
                if l.is_null(i) {
                    return Ok(None);
                }
                let items = l.value(i);
                let items = items.as_string::<i32>();
                Ok(Some(items.iter().map(|s| s.map(str::to_string)).collect()))
            }
            TextArrayCol::Literal(t) => match t.get(i) {
                None => Ok(None),
                Some(s) => value::parse_text_array(s).map(Some).map_err(err),
            },
        }
    }
}

fn int_col(a: &ArrayRef) -> Result<arrow::array::Int64Array> {
    Ok(arrow::compute::cast(a, &DataType::Int64)?
        .as_primitive::<Int64Type>()
        .clone())
}

fn jsonb_out(n: usize, mut f: impl FnMut(usize) -> Result<Option<Value>>) -> Result<ArrayRef> {
    let mut b = LargeStringBuilder::with_capacity(n, n * 16);
    for i in 0..n {
        b.append_option(f(i)?.map(|v| v.to_text()));
    }
    Ok(Arc::new(b.finish()))
}

fn text_out(n: usize, mut f: impl FnMut(usize) -> Result<Option<String>>) -> Result<ArrayRef> {
    let mut b = StringBuilder::with_capacity(n, n * 16);
    for i in 0..n {
        b.append_option(f(i)?);
    }
    Ok(Arc::new(b.finish()))
}

fn bool_out(n: usize, mut f: impl FnMut(usize) -> Result<Option<bool>>) -> Result<ArrayRef> {
    let mut b = BooleanBuilder::with_capacity(n);
    for i in 0..n {
        b.append_option(f(i)?);
    }
    Ok(Arc::new(b.finish()))
}

/// A key as `jsonb_build_object` and `jsonb_object_agg` accept it: any scalar, as its text.
fn key_text(v: Value, position: Option<usize>) -> Result<String> {
    match v {
        Value::String(s) => Ok(s),
        Value::Null => match position {
            Some(p) => exec_err!("argument {p}: key must not be null"),
            None => exec_err!("field name must not be null"),
        },
        Value::Array(_) | Value::Object(_) => {
            exec_err!("key value must be scalar, not array, composite, or json")
        }
        other => Ok(other.to_text()),
    }
}

fn evaluate(kind: Kind, args: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    // Coercion checks arity for SQL; this keeps calls built by hand from indexing past the end.
    let needed = match kind {
        Kind::BuildObject | Kind::BuildArray => 0,
        Kind::Access
        | Kind::AccessText
        | Kind::PathGet
        | Kind::PathGetText
        | Kind::Exists
        | Kind::ExistsAny
        | Kind::ExistsAll
        | Kind::Contains
        | Kind::Contained
        | Kind::Concat
        | Kind::Delete
        | Kind::DeletePath
        | Kind::Pair => 2,
        Kind::Set => 3,
        _ => 1,
    };
    if args.len() < needed {
        return exec_err!(
            "function {} needs {needed} argument(s), got {}",
            kind.name(),
            args.len()
        );
    }
    match kind {
        Kind::In if matches!(args[0].data_type(), DataType::List(_)) => {
            let list = args[0].as_list::<i32>();
            let values = evaluate(Kind::In, &[Arc::clone(list.values())], list.values().len())?;
            let DataType::List(f) = list.data_type() else {
                return exec_err!("jsonb_in: expected a list");
            };
            let field = Arc::new(f.as_ref().clone().with_data_type(DataType::LargeUtf8));
            Ok(Arc::new(ListArray::try_new(
                field,
                list.offsets().clone(),
                values,
                list.nulls().cloned(),
            )?))
        }
        Kind::In => {
            let text = TextCol::new(&args[0])?;
            let mut b = LargeStringBuilder::with_capacity(n, n * 16);
            for i in 0..n {
                match text.get(i) {
                    None => b.append_null(),
                    Some(s) => b.append_value(value::normalize(s).map_err(|e| err(e.to_string()))?),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        Kind::Typeof => {
            let j = JsonbCol::new(&args[0])?;
            text_out(n, |i| Ok(j.get(i)?.map(|v| v.type_name().to_string())))
        }
        Kind::ArrayLength => {
            let j = JsonbCol::new(&args[0])?;
            let mut b = Int32Builder::with_capacity(n);
            for i in 0..n {
                b.append_option(
                    j.get(i)?
                        .map(|v| ops::array_length(&v))
                        .transpose()
                        .map_err(err)?,
                );
            }
            Ok(Arc::new(b.finish()))
        }
        Kind::Access | Kind::AccessText => {
            let j = JsonbCol::new(&args[0])?;
            let get: Box<Lookup> = if args[1].data_type().is_integer() {
                let idx = int_col(&args[1])?;
                Box::new(move |v, i| {
                    (!idx.is_null(i))
                        .then(|| ops::get_index(v, idx.value(i)).cloned())
                        .flatten()
                })
            } else {
                let key = TextCol::new(&args[1])?;
                Box::new(move |v, i| key.get(i).and_then(|k| ops::get_key(v, k).cloned()))
            };
            if kind == Kind::Access {
                jsonb_out(n, |i| Ok(j.get(i)?.and_then(|v| get(&v, i))))
            } else {
                text_out(n, |i| {
                    Ok(j.get(i)?
                        .and_then(|v| get(&v, i))
                        .and_then(|v| v.to_sql_text()))
                })
            }
        }
        Kind::ExtractPath | Kind::ExtractPathText => {
            let j = JsonbCol::new(&args[0])?;
            let steps = args[1..]
                .iter()
                .map(TextCol::new)
                .collect::<Result<Vec<_>>>()?;
            let lookup = |i: usize| -> Result<Option<Value>> {
                let Some(v) = j.get(i)? else { return Ok(None) };
                let path: Vec<Option<String>> =
                    steps.iter().map(|s| s.get(i).map(str::to_string)).collect();
                Ok(ops::get_path(&v, &path).cloned())
            };
            if kind == Kind::ExtractPath {
                jsonb_out(n, lookup)
            } else {
                text_out(n, |i| Ok(lookup(i)?.and_then(|v| v.to_sql_text())))
            }
        }
        Kind::PathGet | Kind::PathGetText => {
            let j = JsonbCol::new(&args[0])?;
            let path = TextArrayCol::new(&args[1])?;
            let lookup = |i: usize| -> Result<Option<Value>> {
                let (Some(v), Some(p)) = (j.get(i)?, path.get(i)?) else {
                    return Ok(None);
                };
                Ok(ops::get_path(&v, &p).cloned())
            };
            if kind == Kind::PathGet {
                jsonb_out(n, lookup)
            } else {
                text_out(n, |i| Ok(lookup(i)?.and_then(|v| v.to_sql_text())))
            }
        }
        Kind::BuildArray => {
            let cols = args
                .iter()
                .map(array_to_values)
                .collect::<Result<Vec<_>>>()?;
            jsonb_out(n, |i| {
                Ok(Some(Value::Array(
                    cols.iter()
                        .map(|c| c[i].clone().unwrap_or(Value::Null))
                        .collect(),
                )))
            })
        }
        Kind::BuildObject => {
            if !args.len().is_multiple_of(2) {
                return exec_err!("argument list must have even number of elements");
            }
            let cols = args
                .iter()
                .map(array_to_values)
                .collect::<Result<Vec<_>>>()?;
            jsonb_out(n, |i| {
                let mut pairs = Vec::with_capacity(cols.len() / 2);
                for (p, kv) in cols.chunks(2).enumerate() {
                    let key = key_text(kv[0][i].clone().unwrap_or(Value::Null), Some(2 * p + 1))?;
                    pairs.push((key, kv[1][i].clone().unwrap_or(Value::Null)));
                }
                Ok(Some(ops::object_from_pairs(pairs)))
            })
        }
        Kind::ToJsonb => {
            let col = array_to_values(&args[0])?;
            jsonb_out(n, |i| Ok(col[i].clone()))
        }
        Kind::Pair => {
            let k = array_to_values(&args[0])?;
            let v = array_to_values(&args[1])?;
            jsonb_out(n, |i| {
                Ok(Some(Value::Array(vec![
                    k[i].clone().unwrap_or(Value::Null),
                    v[i].clone().unwrap_or(Value::Null),
                ])))
            })
        }
        Kind::StripNulls => {
            let j = JsonbCol::new(&args[0])?;
            jsonb_out(n, |i| {
                Ok(j.get(i)?.map(|mut v| {
                    ops::strip_nulls(&mut v);
                    v
                }))
            })
        }
        Kind::Pretty => {
            let j = JsonbCol::new(&args[0])?;
            text_out(n, |i| Ok(j.get(i)?.map(|v| value::pretty(&v))))
        }
        Kind::Set => {
            let j = JsonbCol::new(&args[0])?;
            let path = TextArrayCol::new(&args[1])?;
            let new = JsonbCol::new(&args[2])?;
            let create = match args.get(3) {
                Some(a) => Some(
                    arrow::compute::cast(a, &DataType::Boolean)?
                        .as_boolean()
                        .clone(),
                ),
                None => None,
            };
            jsonb_out(n, |i| {
                let create = match &create {
                    Some(c) if c.is_null(i) => return Ok(None),
                    Some(c) => c.value(i),
                    None => true,
                };
                let (Some(v), Some(p), Some(new)) = (j.get(i)?, path.get(i)?, new.get(i)?) else {
                    return Ok(None);
                };
                ops::set_path(v, &p, new, create).map(Some).map_err(err)
            })
        }
        Kind::Exists => {
            let j = JsonbCol::new(&args[0])?;
            let key = TextCol::new(&args[1])?;
            bool_out(n, |i| {
                let (Some(v), Some(k)) = (j.get(i)?, key.get(i)) else {
                    return Ok(None);
                };
                Ok(Some(ops::exists(&v, k)))
            })
        }
        Kind::ExistsAny | Kind::ExistsAll => {
            let j = JsonbCol::new(&args[0])?;
            let keys = TextArrayCol::new(&args[1])?;
            bool_out(n, |i| {
                let (Some(v), Some(ks)) = (j.get(i)?, keys.get(i)?) else {
                    return Ok(None);
                };
                // NULL keys never match and are skipped, as in Postgres.
                let mut present = ks.iter().flatten().map(|k| ops::exists(&v, k));
                Ok(Some(if kind == Kind::ExistsAny {
                    present.any(|b| b)
                } else {
                    present.all(|b| b)
                }))
            })
        }
        Kind::Contains | Kind::Contained => {
            let a = JsonbCol::new(&args[0])?;
            let b = JsonbCol::new(&args[1])?;
            bool_out(n, |i| {
                let (Some(x), Some(y)) = (a.get(i)?, b.get(i)?) else {
                    return Ok(None);
                };
                Ok(Some(if kind == Kind::Contains {
                    ops::contains(&x, &y)
                } else {
                    ops::contains(&y, &x)
                }))
            })
        }
        Kind::Concat => {
            let a = JsonbCol::new(&args[0])?;
            let b = JsonbCol::new(&args[1])?;
            jsonb_out(n, |i| {
                let (Some(x), Some(y)) = (a.get(i)?, b.get(i)?) else {
                    return Ok(None);
                };
                Ok(Some(ops::concat(x, y)))
            })
        }
        Kind::Delete => {
            let j = JsonbCol::new(&args[0])?;
            match args[1].data_type() {
                t if t.is_integer() => {
                    let idx = int_col(&args[1])?;
                    jsonb_out(n, |i| {
                        let Some(v) = j.get(i)? else { return Ok(None) };
                        if idx.is_null(i) {
                            return Ok(None);
                        }
                        ops::delete_index(v, idx.value(i)).map(Some).map_err(err)
                    })
                }
                t if is_text_list(t) => {
                    let keys = TextArrayCol::new(&args[1])?;
                    jsonb_out(n, |i| {
                        let (Some(mut v), Some(ks)) = (j.get(i)?, keys.get(i)?) else {
                            return Ok(None);
                        };
                        for k in ks.iter().flatten() {
                            v = ops::delete_key(v, k).map_err(err)?;
                        }
                        Ok(Some(v))
                    })
                }
                _ => {
                    let key = TextCol::new(&args[1])?;
                    jsonb_out(n, |i| {
                        let (Some(v), Some(k)) = (j.get(i)?, key.get(i)) else {
                            return Ok(None);
                        };
                        ops::delete_key(v, k).map(Some).map_err(err)
                    })
                }
            }
        }
        Kind::DeletePath => {
            let j = JsonbCol::new(&args[0])?;
            let path = TextArrayCol::new(&args[1])?;
            jsonb_out(n, |i| {
                let (Some(v), Some(p)) = (j.get(i)?, path.get(i)?) else {
                    return Ok(None);
                };
                ops::delete_path(v, &p).map(Some).map_err(err)
            })
        }
        Kind::AggFinish | Kind::ObjectAggFinish => {
            let lists = match args[0].data_type() {
                DataType::Null => return jsonb_out(n, |_| Ok(None)),
                _ => array_to_values(&args[0])?,
            };
            jsonb_out(n, |i| {
                let Some(list) = lists[i].clone() else {
                    return Ok(None);
                };
                let Value::Array(items) = list else {
                    return exec_err!("jsonb aggregate state is not a list");
                };
                if kind == Kind::AggFinish {
                    return Ok(Some(Value::Array(items)));
                }
                let mut pairs = Vec::with_capacity(items.len());
                for item in items {
                    let Value::Array(kv) = item else {
                        return exec_err!("jsonb_object_agg state is not a pair");
                    };
                    let mut kv = kv.into_iter();
                    let (Some(k), Some(v)) = (kv.next(), kv.next()) else {
                        return exec_err!("jsonb_object_agg state is not a pair");
                    };
                    pairs.push((key_text(k, None)?, v));
                }
                Ok(Some(ops::object_from_pairs(pairs)))
            })
        }
        Kind::ElementsList
        | Kind::ElementsTextList
        | Kind::ObjectKeysList
        | Kind::EachList
        | Kind::EachTextList => {
            super::srf::evaluate_list(kind, &JsonbRows(JsonbCol::new(&args[0])?), n)
        }
        Kind::SrfMarker(s) => exec_err!("set-returning function {} is not allowed here", s.name()),
    }
}

/// Row access to a jsonb argument, shared with the set-returning functions.
pub struct JsonbRows(JsonbCol);

impl JsonbRows {
    pub fn get(&self, i: usize) -> Result<Option<Value>> {
        self.0.get(i)
    }
}

/// A number's text as Postgres `numeric` input takes it (no exponent), for casts to numeric.
pub fn plain_number_text(n: &Number) -> Option<String> {
    value::pg_numeric_text(n.as_str())
}
