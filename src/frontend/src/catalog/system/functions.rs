//! Functions of Postgres' system catalog interface (`format_type`, `pg_get_userbyid`,
//! `pg_table_is_visible`, `current_schema()`, the `::regclass` casts, ...).
//!
//! Those that only know built-in facts are installed once into the base session state
//! ([`install`]); those that read the catalog, the database, the search path or the user are
//! built per statement over its [`CatalogView`] ([`install_session`]).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use arrow::array::new_empty_array;
use arrow::datatypes::{DataType as ArrowType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use tributary_common::types::TIMESTAMPTZ_ARROW_TZ;

use super::pg_catalog::UTF8_ENCODING;
use super::types::{format_type, type_oid_by_name};
use super::{columns, parse_qualified_name, pk_attnums, quote_ident, CatalogView, RelKind, SUPERUSER, SUPERUSER_OID};

type Body = dyn Fn(&[ScalarValue]) -> DfResult<ScalarValue> + Send + Sync;
type ReturnType = dyn Fn(&[ArrowType]) -> DfResult<ArrowType> + Send + Sync;

/// A scalar function evaluated row by row on `ScalarValue`s (catalog-sized inputs).
struct Func {
    name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
    /// Accepted argument counts (the signature's, checked again before indexing arguments).
    counts: Vec<usize>,
    return_type: Arc<ReturnType>,
    body: Arc<Body>,
    /// NULL in any argument gives NULL without calling the body.
    strict: bool,
}

impl fmt::Debug for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Func({})", self.name)
    }
}

impl PartialEq for Func {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.body, &other.body)
    }
}

impl Eq for Func {}

impl Hash for Func {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// Accepted argument counts, any types.
fn arities(counts: &[usize]) -> Signature {
    let sigs = counts.iter().map(|n| if *n == 0 { TypeSignature::Nullary } else { TypeSignature::Any(*n) }).collect();
    Signature::one_of(sigs, Volatility::Stable)
}

impl Func {
    fn new(
        name: &'static str,
        counts: &[usize],
        ret: ArrowType,
        body: impl Fn(&[ScalarValue]) -> DfResult<ScalarValue> + Send + Sync + 'static,
    ) -> Self {
        Func {
            name,
            aliases: vec![],
            signature: arities(counts),
            counts: counts.to_vec(),
            return_type: Arc::new(move |_| Ok(ret.clone())),
            body: Arc::new(body),
            strict: false,
        }
    }

    /// A function whose result type depends on its arguments' types.
    fn dynamic(
        name: &'static str,
        counts: &[usize],
        ret: impl Fn(&[ArrowType]) -> DfResult<ArrowType> + Send + Sync + 'static,
        body: impl Fn(&[ScalarValue]) -> DfResult<ScalarValue> + Send + Sync + 'static,
    ) -> Self {
        Func {
            name,
            aliases: vec![],
            signature: arities(counts),
            counts: counts.to_vec(),
            return_type: Arc::new(ret),
            body: Arc::new(body),
            strict: false,
        }
    }

    fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    fn alias(mut self, name: &str) -> Self {
        self.aliases.push(name.to_string());
        self
    }

    fn udf(self) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::new_from_impl(self))
    }

    fn eval(&self, values: &[ScalarValue], ret: &ArrowType) -> DfResult<ScalarValue> {
        if !self.counts.contains(&values.len()) {
            return Err(DataFusionError::Plan(format!(
                "{} takes {:?} arguments, not {}",
                self.name,
                self.counts,
                values.len()
            )));
        }
        if self.strict && values.iter().any(|v| v.is_null()) {
            return ScalarValue::try_from(ret);
        }
        let out = (self.body)(values)?;
        if &out.data_type() == ret {
            Ok(out)
        } else if out.is_null() {
            ScalarValue::try_from(ret)
        } else {
            out.cast_to(ret)
        }
    }
}

impl ScalarUDFImpl for Func {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[ArrowType]) -> DfResult<ArrowType> {
        (self.return_type)(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let ret = args.return_field.data_type().clone();
        let scalars: Option<Vec<ScalarValue>> = args
            .args
            .iter()
            .map(|a| match a {
                ColumnarValue::Scalar(s) => Some(s.clone()),
                ColumnarValue::Array(_) => None,
            })
            .collect();
        if let Some(values) = scalars {
            return Ok(ColumnarValue::Scalar(self.eval(&values, &ret)?));
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut out = Vec::with_capacity(args.number_rows);
        for row in 0..args.number_rows {
            let values = arrays.iter().map(|a| ScalarValue::try_from_array(a, row)).collect::<DfResult<Vec<_>>>()?;
            out.push(self.eval(&values, &ret)?);
        }
        if out.is_empty() {
            return Ok(ColumnarValue::Array(new_empty_array(&ret)));
        }
        Ok(ColumnarValue::Array(ScalarValue::iter_to_array(out)?))
    }
}

// Argument readers: oids arrive as integers or as text (`'16384'`), names as text.

fn int_arg(v: &ScalarValue) -> Option<i64> {
    match v {
        ScalarValue::Int8(x) => x.map(i64::from),
        ScalarValue::Int16(x) => x.map(i64::from),
        ScalarValue::Int32(x) => x.map(i64::from),
        ScalarValue::Int64(x) => *x,
        ScalarValue::UInt8(x) => x.map(i64::from),
        ScalarValue::UInt16(x) => x.map(i64::from),
        ScalarValue::UInt32(x) => x.map(i64::from),
        ScalarValue::UInt64(x) => x.and_then(|n| i64::try_from(n).ok()),
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => {
            s.trim().parse().ok()
        }
        _ => None,
    }
}

fn text_arg(v: &ScalarValue) -> Option<String> {
    match v {
        ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s) => s.clone(),
        other if other.is_null() => None,
        other => int_arg(other).map(|n| n.to_string()),
    }
}

fn bool_arg(v: &ScalarValue) -> Option<bool> {
    match v {
        ScalarValue::Boolean(b) => *b,
        _ => None,
    }
}

fn is_text(t: &ArrowType) -> bool {
    matches!(t, ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View | ArrowType::Null)
}

fn utf8(s: impl Into<String>) -> ScalarValue {
    ScalarValue::Utf8(Some(s.into()))
}

fn null_text() -> ScalarValue {
    ScalarValue::Utf8(None)
}

fn int32(n: i64) -> DfResult<ScalarValue> {
    i32::try_from(n)
        .map(|n| ScalarValue::Int32(Some(n)))
        .map_err(|_| DataFusionError::Execution(format!("OID out of range: {n}")))
}

fn sql_error(message: String) -> DataFusionError {
    DataFusionError::Execution(message)
}

pub fn version() -> String {
    format!(
        "PostgreSQL 13.14-Tributary-{} on {}-{}, compiled by rustc, 64-bit",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS
    )
}

fn start_time() -> i64 {
    static START: OnceLock<i64> = OnceLock::new();
    *START.get_or_init(|| chrono::Utc::now().timestamp_micros())
}

/// Human-readable size, as Postgres' `pg_size_pretty(bigint)`: each unit is used below 20480
/// of it (bytes: 10240), rounded half away from zero.
fn size_pretty(n: i64) -> String {
    // (unit, limit, rounded, bits)
    const UNITS: &[(&str, i64, bool, u32)] = &[
        ("bytes", 10 * 1024, false, 0),
        ("kB", 20 * 1024 - 1, true, 10),
        ("MB", 20 * 1024 - 1, true, 20),
        ("GB", 20 * 1024 - 1, true, 30),
        ("TB", 20 * 1024 - 1, true, 40),
        ("PB", 20 * 1024 - 1, true, 50),
    ];
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    let mut size = n;
    for (i, (unit, limit, round, bits)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1);
        if next.is_none() || size.abs() < *limit {
            let shown = if *round { half_rounded(size) } else { size };
            return format!("{shown} {unit}");
        }
        if let Some((_, _, next_round, next_bits)) = next {
            // One bit is kept for the rounding of units that round.
            let shift = next_bits - bits - u32::from(*next_round) + u32::from(*round);
            size /= 1i64 << shift;
        }
    }
    format!("{n} bytes")
}

/// Functions that depend on nothing but built-in facts.
fn static_functions() -> Vec<Arc<ScalarUDF>> {
    let text = ArrowType::Utf8;
    let boolean = ArrowType::Boolean;
    let always = |name: &'static str, counts: &[usize]| {
        Func::new(name, counts, ArrowType::Boolean, |_| Ok(ScalarValue::Boolean(Some(true)))).udf()
    };
    let zero_size = |name: &'static str| {
        Func::new(name, &[1, 2], ArrowType::Int64, |_| Ok(ScalarValue::Int64(Some(0)))).strict().udf()
    };
    let no_text =
        |name: &'static str, counts: &[usize]| Func::new(name, counts, ArrowType::Utf8, |_| Ok(null_text())).udf();
    let _ = start_time();
    vec![
        Func::new("version", &[0], text.clone(), |_| Ok(utf8(version()))).udf(),
        Func::new("pg_backend_pid", &[0], ArrowType::Int32, |_| {
            Ok(ScalarValue::Int32(i32::try_from(std::process::id()).ok()))
        })
        .udf(),
        no_text("inet_server_addr", &[0]),
        no_text("inet_client_addr", &[0]),
        Func::new("inet_server_port", &[0], ArrowType::Int32, |_| Ok(ScalarValue::Int32(None))).udf(),
        Func::new("inet_client_port", &[0], ArrowType::Int32, |_| Ok(ScalarValue::Int32(None))).udf(),
        Func::new(
            "pg_postmaster_start_time",
            &[0],
            ArrowType::Timestamp(TimeUnit::Microsecond, Some(TIMESTAMPTZ_ARROW_TZ.into())),
            |_| Ok(ScalarValue::TimestampMicrosecond(Some(start_time()), Some(TIMESTAMPTZ_ARROW_TZ.into()))),
        )
        .alias("pg_conf_load_time")
        .udf(),
        Func::new("pg_is_in_recovery", &[0], boolean.clone(), |_| Ok(ScalarValue::Boolean(Some(false)))).udf(),
        // The session side of set_config happens before planning (handler::query::apply_set_config),
        // which also puts the new value in as the second argument.
        Func::new("set_config", &[3], text.clone(), |a| Ok(ScalarValue::Utf8(text_arg(&a[1])))).udf(),
        Func::new("pg_get_userbyid", &[1], text.clone(), |a| {
            Ok(utf8(match int_arg(&a[0]) {
                Some(n) if n == i64::from(SUPERUSER_OID) => SUPERUSER.to_string(),
                Some(n) => format!("unknown (OID={n})"),
                None => return Ok(null_text()),
            }))
        })
        .strict()
        .udf(),
        Func::new("format_type", &[2], text.clone(), |a| {
            let Some(oid) = int_arg(&a[0]) else { return Ok(null_text()) };
            Ok(utf8(format_type(oid, int_arg(&a[1])).unwrap_or_else(|| "???".to_string())))
        })
        .udf(),
        // pg_attrdef.adbin and friends already hold SQL text.
        Func::new("pg_get_expr", &[2, 3], text.clone(), |a| Ok(a[0].clone())).udf(),
        Func::new("pg_encoding_to_char", &[1], text.clone(), |a| {
            Ok(utf8(match int_arg(&a[0]) {
                Some(0) => "SQL_ASCII",
                Some(n) if n == i64::from(UTF8_ENCODING) => "UTF8",
                _ => "",
            }))
        })
        .strict()
        .udf(),
        Func::new("pg_char_to_encoding", &[1], ArrowType::Int32, |a| {
            Ok(ScalarValue::Int32(Some(match text_arg(&a[0]).map(|s| s.to_ascii_uppercase()).as_deref() {
                Some("UTF8") | Some("UTF-8") | Some("UNICODE") => UTF8_ENCODING,
                Some("SQL_ASCII") => 0,
                _ => -1,
            })))
        })
        .strict()
        .udf(),
        // Tributary has no comments on objects yet.
        no_text("obj_description", &[1, 2]),
        no_text("col_description", &[2]),
        no_text("shobj_description", &[2]),
        no_text("pg_get_viewdef", &[1, 2]),
        no_text("pg_get_function_result", &[1]),
        no_text("pg_get_function_arguments", &[1]),
        no_text("pg_get_function_identity_arguments", &[1]),
        no_text("pg_get_functiondef", &[1]),
        no_text("pg_get_triggerdef", &[1, 2]),
        no_text("pg_get_ruledef", &[1, 2]),
        no_text("pg_get_partkeydef", &[1]),
        no_text("pg_get_statisticsobjdef_columns", &[1]),
        no_text("pg_get_serial_sequence", &[2]),
        Func::new("pg_tablespace_location", &[1], text.clone(), |_| Ok(utf8(""))).strict().udf(),
        // Every session is the superuser.
        always("has_table_privilege", &[2, 3]),
        always("has_schema_privilege", &[2, 3]),
        always("has_database_privilege", &[2, 3]),
        always("has_column_privilege", &[3, 4]),
        always("has_any_column_privilege", &[2, 3]),
        always("has_function_privilege", &[2, 3]),
        always("has_sequence_privilege", &[2, 3]),
        always("has_tablespace_privilege", &[2, 3]),
        always("has_type_privilege", &[2, 3]),
        always("pg_has_role", &[2, 3]),
        // All types and functions live in pg_catalog, which is always searched.
        always("pg_type_is_visible", &[1]),
        always("pg_function_is_visible", &[1]),
        always("pg_collation_is_visible", &[1]),
        always("pg_opclass_is_visible", &[1]),
        Func::new("pg_relation_is_publishable", &[1], boolean, |_| Ok(ScalarValue::Boolean(Some(false)))).udf(),
        // Storage is not attributed to tables yet.
        zero_size("pg_relation_size"),
        zero_size("pg_total_relation_size"),
        zero_size("pg_table_size"),
        zero_size("pg_indexes_size"),
        zero_size("pg_database_size"),
        Func::new("pg_size_pretty", &[1], text.clone(), |a| {
            Ok(int_arg(&a[0]).map_or(null_text(), |n| utf8(size_pretty(n))))
        })
        .strict()
        .udf(),
        reg_cast(
            "regtype",
            |name| {
                type_oid_by_name(name)
                    .map(i64::from)
                    .ok_or_else(|| sql_error(format!("type \"{name}\" does not exist")))
            },
            |oid| format_type(oid, None).unwrap_or_else(|| oid.to_string()),
        ),
        reg_cast(
            "regrole",
            |name| {
                if name.trim_matches('"') == SUPERUSER {
                    Ok(SUPERUSER_OID.into())
                } else {
                    Err(sql_error(format!("role \"{name}\" does not exist")))
                }
            },
            |oid| if oid == i64::from(SUPERUSER_OID) { SUPERUSER.to_string() } else { oid.to_string() },
        ),
        // Functions are not catalogued: a regproc stays its name.
        Func::new("regproc", &[1, 2], text, |a| {
            if let Some(name) = text_of_text_arg(&a[0]) {
                return Ok(utf8(name.strip_prefix("pg_catalog.").unwrap_or(&name)));
            }
            Ok(utf8(match int_arg(&a[0]) {
                Some(0) => "-".to_string(),
                Some(n) => n.to_string(),
                None => return Ok(null_text()),
            }))
        })
        .strict()
        .udf(),
    ]
}

/// A reg* cast (`x::regclass`): a name in, its oid out; an oid in, its name out. With a second
/// argument (`x::regclass::text`), the name either way. Unknown oids show as numbers, 0 as `-`.
fn reg_cast(
    name: &'static str,
    resolve: impl Fn(&str) -> DfResult<i64> + Send + Sync + 'static,
    display: impl Fn(i64) -> String + Send + Sync + 'static,
) -> Arc<ScalarUDF> {
    let ret = |args: &[ArrowType]| {
        Ok(if args.len() == 1 && args.first().is_none_or(is_text) { ArrowType::Int32 } else { ArrowType::Utf8 })
    };
    Func::dynamic(name, &[1, 2], ret, move |a| {
        let oid = match text_of_text_arg(&a[0]) {
            Some(text) if a.len() == 1 => return int32(resolve(&text)?),
            Some(text) => resolve(&text)?,
            None => int_arg(&a[0]).ok_or_else(|| sql_error(format!("cannot cast {} to {name}", a[0].data_type())))?,
        };
        Ok(utf8(if oid == 0 { "-".to_string() } else { display(oid) }))
    })
    .strict()
    .udf()
}

fn text_of_text_arg(v: &ScalarValue) -> Option<String> {
    match v {
        ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s) => s.clone(),
        _ => None,
    }
}

/// `CREATE UNIQUE INDEX ...` of a primary key index.
pub fn index_def(v: &CatalogView, oid: i64) -> Option<String> {
    let rel = v.relation_by_oid(oid)?;
    let RelKind::PrimaryKey(t) = rel.kind else { return None };
    Some(format!(
        "CREATE UNIQUE INDEX {} ON {}.{} USING btree ({})",
        quote_ident(&rel.name),
        quote_ident(&rel.schema),
        quote_ident(&t.table.name),
        key_columns(v, oid)?.join(", ")
    ))
}

/// Names of the key columns of a primary key index or constraint.
fn key_columns(v: &CatalogView, oid: i64) -> Option<Vec<String>> {
    let RelKind::PrimaryKey(t) = v.relation_by_oid(oid)?.kind else { return None };
    let cols = columns(t);
    Some(
        pk_attnums(t)?
            .iter()
            .filter_map(|a| cols.iter().find(|c| c.attnum == *a).map(|c| quote_ident(&c.desc.name)))
            .collect(),
    )
}

fn resolve_name(v: &CatalogView, name: &str) -> DfResult<Option<i64>> {
    let Some(parts) = parse_qualified_name(name) else {
        return Err(sql_error(format!("invalid name syntax: \"{name}\"")));
    };
    let rel = match parts.as_slice() {
        [n] => v.resolve_relation(None, n),
        [s, n] => v.resolve_relation(Some(s), n),
        [d, s, n] if *d == v.database.name => v.resolve_relation(Some(s), n),
        [d, ..] if parts.len() == 3 => {
            return Err(sql_error(format!("cross-database references are not implemented: \"{d}\"")))
        }
        _ => return Err(sql_error(format!("improper relation name (too many dotted names): {name}"))),
    };
    Ok(rel.map(|r| r.oid))
}

/// Functions over the statement's catalog view, session and epoch.
fn session_functions(view: Arc<CatalogView>) -> Vec<Arc<ScalarUDF>> {
    let text = ArrowType::Utf8;
    let v = view.clone();
    let database = Func::new("current_database", &[0], text.clone(), move |_| Ok(utf8(&v.database.name)))
        .alias("current_catalog")
        .udf();
    let v = view.clone();
    let user = Func::new("current_user", &[0], text.clone(), move |_| Ok(utf8(&v.user)))
        .alias("session_user")
        .alias("user")
        .alias("current_role")
        .udf();
    let v = view.clone();
    let schema =
        Func::new("current_schema", &[0], text.clone(), move |_| Ok(ScalarValue::Utf8(v.current_schema()))).udf();
    let v = view.clone();
    let list = ArrowType::List(Arc::new(arrow::datatypes::Field::new("item", ArrowType::Utf8, true)));
    let schemas = Func::new("current_schemas", &[1], list, move |a| {
        let implicit = bool_arg(&a[0]).unwrap_or(false);
        let names: Vec<ScalarValue> = v
            .search_namespaces()
            .into_iter()
            .filter(|n| implicit || v.search_path.contains(&n.name))
            .map(|n| utf8(n.name))
            .collect();
        Ok(ScalarValue::List(ScalarValue::new_list_nullable(&names, &ArrowType::Utf8)))
    })
    .strict()
    .udf();
    let v = view.clone();
    let visible = Func::new("pg_table_is_visible", &[1], ArrowType::Boolean, move |a| {
        Ok(ScalarValue::Boolean(int_arg(&a[0]).map(|oid| v.is_visible(oid))))
    })
    .strict()
    .udf();
    let v = view.clone();
    let indexdef = Func::new("pg_get_indexdef", &[1, 3], text.clone(), move |a| {
        let Some(oid) = int_arg(&a[0]) else { return Ok(null_text()) };
        let column = a.get(1).and_then(int_arg).unwrap_or(0);
        if column > 0 {
            let cols = key_columns(&v, oid).unwrap_or_default();
            return Ok(ScalarValue::Utf8(usize::try_from(column - 1).ok().and_then(|i| cols.get(i).cloned())));
        }
        Ok(ScalarValue::Utf8(index_def(&v, oid)))
    })
    .udf();
    let v = view.clone();
    let constraintdef = Func::new("pg_get_constraintdef", &[1, 2], text.clone(), move |a| {
        let Some(oid) = int_arg(&a[0]) else { return Ok(null_text()) };
        Ok(ScalarValue::Utf8(key_columns(&v, oid).map(|cols| format!("PRIMARY KEY ({})", cols.join(", ")))))
    })
    .udf();
    let (v, w) = (view.clone(), view.clone());
    let regclass = reg_cast(
        "regclass",
        move |name| resolve_name(&v, name)?.ok_or_else(|| sql_error(format!("relation \"{name}\" does not exist"))),
        move |oid| w.relation_display_name(oid).unwrap_or_else(|| oid.to_string()),
    );
    let v = view.clone();
    let to_regclass = Func::new("to_regclass", &[1], ArrowType::Int32, move |a| {
        let name = text_arg(&a[0]).unwrap_or_default();
        match resolve_name(&v, &name) {
            Ok(Some(oid)) => int32(oid),
            _ => Ok(ScalarValue::Int32(None)),
        }
    })
    .strict()
    .udf();
    let (v, w) = (view.clone(), view.clone());
    let regnamespace = reg_cast(
        "regnamespace",
        move |name| {
            let parsed = parse_qualified_name(name).unwrap_or_default();
            let ns = match parsed.as_slice() {
                [n] => v.namespace_by_name(n),
                _ => None,
            };
            ns.map(|n| n.oid.into()).ok_or_else(|| sql_error(format!("schema \"{name}\" does not exist")))
        },
        move |oid| w.namespace_by_oid(oid).map(|n| quote_ident(&n.name)).unwrap_or_else(|| oid.to_string()),
    );
    let v = view.clone();
    let to_regnamespace = Func::new("to_regnamespace", &[1], ArrowType::Int32, move |a| {
        let name = text_arg(&a[0]).unwrap_or_default();
        let parsed = parse_qualified_name(&name).unwrap_or_default();
        Ok(ScalarValue::Int32(match parsed.as_slice() {
            [n] => v.namespace_by_name(n).map(|n| n.oid),
            _ => None,
        }))
    })
    .strict()
    .udf();
    let v = view.clone();
    let txid = Func::new("txid_current", &[0], ArrowType::Int64, move |_| {
        Ok(ScalarValue::Int64(Some(i64::try_from(v.epoch).unwrap_or(i64::MAX))))
    })
    .udf();
    let v = view;
    let setting = Func::new("current_setting", &[1, 2], text, move |a| {
        let Some(name) = text_arg(&a[0]) else { return Ok(null_text()) };
        let missing_ok = a.get(1).and_then(bool_arg).unwrap_or(false);
        match v.setting(&name) {
            Some(value) => Ok(utf8(value)),
            None if missing_ok => Ok(null_text()),
            None => Err(sql_error(format!("unrecognized configuration parameter \"{name}\""))),
        }
    })
    .udf();
    vec![
        database,
        user,
        schema,
        schemas,
        visible,
        indexdef,
        constraintdef,
        regclass,
        to_regclass,
        regnamespace,
        to_regnamespace,
        txid,
        setting,
    ]
}

/// Adds the session-independent catalog functions to the base session state.
pub fn install(mut builder: SessionStateBuilder) -> SessionStateBuilder {
    builder.scalar_functions().get_or_insert_with(Vec::new).extend(static_functions());
    builder
}

/// Adds the functions over one statement's catalog view; call on each statement's state.
pub fn install_session(mut builder: SessionStateBuilder, view: Arc<CatalogView>) -> SessionStateBuilder {
    builder.scalar_functions().get_or_insert_with(Vec::new).extend(session_functions(view));
    builder
}

/// [`install_session`] into a built state: registering a few functions into a clone of the base
/// state is much cheaper than building a state, which registers every function again.
pub fn install_session_into(state: &mut SessionState, view: Arc<CatalogView>) -> datafusion::error::Result<()> {
    use datafusion::execution::FunctionRegistry;
    for f in session_functions(view) {
        state.register_udf(f)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(8192), "8192 bytes");
        assert_eq!(size_pretty(10 * 1024), "10 kB");
        assert_eq!(size_pretty(1_000_000), "977 kB");
        assert_eq!(size_pretty(10 * 1024 * 1024), "10 MB");
        assert_eq!(size_pretty(5 * 1024 * 1024 * 1024), "5120 MB");
    }
}
