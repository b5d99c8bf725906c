//! Name resolution against the catalog and SQL type mapping, with Postgres' rules for
//! identifier case folding (unquoted identifiers fold to lower case).

use std::sync::Arc;

use datafusion::sql::sqlparser::ast::{
    ArrayElemTypeDef, DataType as SqlType, ExactNumberInfo, Ident, ObjectName, ObjectNamePart, TimezoneInfo,
};
use tributary_common::catalog::Database;
use tributary_common::types::DataType;

use crate::catalog::{CatalogSnapshot, TableCatalog};
use crate::error::{FrontendError, Result};

pub fn normalize_ident(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

pub fn object_name_parts(name: &ObjectName) -> Result<Vec<String>> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Ok(normalize_ident(i)),
            other => Err(FrontendError::not_supported(format!("object name {other}"))),
        })
        .collect()
}

/// `[[database.]schema.]name` → (schema, name); a database part must name the current database.
pub fn split_name(name: &ObjectName, database: &str) -> Result<(Option<String>, String)> {
    let mut parts = object_name_parts(name)?;
    let n = parts.len();
    match n {
        1 => Ok((None, parts.remove(0))),
        2 => {
            let table = parts.remove(1);
            Ok((Some(parts.remove(0)), table))
        }
        3 => {
            if parts[0] != database {
                return Err(FrontendError::not_supported(format!(
                    "cross-database references: \"{}\"",
                    parts.join(".")
                )));
            }
            let table = parts.remove(2);
            Ok((Some(parts.remove(1)), table))
        }
        _ => Err(FrontendError::sql("42601", format!("improper qualified name (too many dotted names): {name}"))),
    }
}

/// Resolves a table name through the search path.
pub fn resolve_table(
    catalog: &CatalogSnapshot,
    db: &Database,
    search_path: &[String],
    name: &ObjectName,
) -> Result<Arc<TableCatalog>> {
    let (schema, table) = split_name(name, &db.name)?;
    let schemas: Vec<String> = match schema {
        Some(s) => vec![s],
        None => search_path.to_vec(),
    };
    for s in &schemas {
        if let Some(sc) = catalog.schema(db.id, s) {
            if let Some(t) = catalog.table(sc.id, &table) {
                return Ok(t.clone());
            }
        }
    }
    Err(FrontendError::undefined_table(&table))
}

/// The schema new objects go to: the named one, or the first existing schema of the search path.
pub fn creation_schema(
    catalog: &CatalogSnapshot,
    db: &Database,
    search_path: &[String],
    schema: Option<String>,
) -> Result<u32> {
    match schema {
        Some(s) => catalog
            .schema(db.id, &s)
            .map(|sc| sc.id)
            .ok_or_else(|| FrontendError::sql("3F000", format!("schema \"{s}\" does not exist"))),
        None => search_path
            .iter()
            .find_map(|s| catalog.schema(db.id, s))
            .map(|sc| sc.id)
            .ok_or_else(|| FrontendError::sql("3F000", "no schema has been selected to create in")),
    }
}

/// Maps a SQL type as written in DDL to a Tributary type.
pub fn bind_data_type(t: &SqlType) -> Result<DataType> {
    let unsupported = || FrontendError::not_supported(format!("type {t}"));
    Ok(match t {
        SqlType::Boolean | SqlType::Bool => DataType::Boolean,
        SqlType::SmallInt(_) | SqlType::Int2(_) => DataType::Int16,
        SqlType::Int(_) | SqlType::Integer(_) | SqlType::Int4(_) => DataType::Int32,
        SqlType::BigInt(_) | SqlType::Int8(_) => DataType::Int64,
        SqlType::Real | SqlType::Float4 => DataType::Float32,
        SqlType::Float(info) => match info {
            datafusion::sql::sqlparser::ast::ExactNumberInfo::Precision(p) if *p <= 24 => DataType::Float32,
            _ => DataType::Float64,
        },
        SqlType::Double(_) | SqlType::DoublePrecision | SqlType::Float8 | SqlType::Float64 => DataType::Float64,
        SqlType::Numeric(info) | SqlType::Decimal(info) | SqlType::Dec(info) => match info {
            ExactNumberInfo::None => DataType::Decimal { precision: None, scale: None },
            ExactNumberInfo::Precision(p) => decimal(*p, 0)?,
            ExactNumberInfo::PrecisionAndScale(p, s) => decimal(*p, u64::try_from(*s).map_err(|_| FrontendError::sql("22023", format!("NUMERIC scale {s} must be between 0 and precision {p}")))?)?,
        },
        SqlType::Varchar(_) | SqlType::CharacterVarying(_) | SqlType::Text | SqlType::String(_) => DataType::Varchar,
        SqlType::Char(_) | SqlType::Character(_) => DataType::Varchar,
        SqlType::Bytea => DataType::Bytea,
        SqlType::Date => DataType::Date,
        SqlType::Time(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => DataType::Time,
        SqlType::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => DataType::Timestamp,
        SqlType::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) => DataType::Timestamptz,
        SqlType::TimestampNtz(_) => DataType::Timestamp,
        SqlType::Interval { .. } => DataType::Interval,
        SqlType::JSONB | SqlType::JSON => DataType::Jsonb,
        SqlType::Array(elem) => match elem {
            ArrayElemTypeDef::SquareBracket(inner, _) | ArrayElemTypeDef::AngleBracket(inner) => {
                let inner = bind_data_type(inner)?;
                DataType::List(Box::new(inner))
            }
            _ => return Err(unsupported()),
        },
        SqlType::Struct(fields, _) => {
            let mut out: Vec<(String, DataType)> = Vec::with_capacity(fields.len());
            for f in fields {
                let name = f.field_name.as_ref().map(normalize_ident).ok_or_else(|| {
                    FrontendError::sql("42601", format!("a field of {t} has no name"))
                })?;
                if out.iter().any(|(n, _)| *n == name) {
                    return Err(FrontendError::sql("42701", format!("field \"{name}\" appears twice in {t}")));
                }
                out.push((name, bind_data_type(&f.field_type)?));
            }
            if out.is_empty() {
                return Err(FrontendError::sql("42601", "a struct type needs at least one field"));
            }
            DataType::Struct(out)
        }
        SqlType::Custom(name, args) if args.is_empty() => {
            let n = name.to_string().to_lowercase();
            match n.as_str() {
                "timestamptz" => DataType::Timestamptz,
                "int2" => DataType::Int16,
                "int4" => DataType::Int32,
                "int8" | "serial8" => DataType::Int64,
                "float4" => DataType::Float32,
                "float8" => DataType::Float64,
                "serial" => DataType::Int64,
                "jsonb" => DataType::Jsonb,
                "string" => DataType::Varchar,
                _ => return Err(FrontendError::sql("42704", format!("type \"{n}\" does not exist"))),
            }
        }
        _ => return Err(unsupported()),
    })
}

fn decimal(p: u64, s: u64) -> Result<DataType> {
    if p == 0 || p > 38 {
        return Err(FrontendError::sql("22023", format!("NUMERIC precision {p} must be between 1 and 38")));
    }
    if s > p {
        return Err(FrontendError::sql("22023", format!("NUMERIC scale {s} must be between 0 and precision {p}")));
    }
    Ok(DataType::Decimal { precision: Some(p as u8), scale: Some(s as i8) })
}

/// A type spelled so that DataFusion's SQL planner reads it back as the same Arrow type.
pub fn cast_type_sql(t: &DataType) -> String {
    match t {
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INTEGER".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Float32 => "REAL".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal { precision: Some(p), scale: Some(s) } => format!("DECIMAL({p},{s})"),
        DataType::Decimal { .. } => "DECIMAL".into(),
        DataType::Varchar => "VARCHAR".into(),
        DataType::Bytea => "BYTEA".into(),
        DataType::Date => "DATE".into(),
        DataType::Time => "TIME".into(),
        DataType::Timestamp => "TIMESTAMP".into(),
        DataType::Timestamptz => "TIMESTAMP WITH TIME ZONE".into(),
        DataType::Interval => "INTERVAL".into(),
        DataType::Jsonb => "JSONB".into(),
        DataType::List(e) => format!("{}[]", cast_type_sql(e)),
        DataType::Struct(fields) => {
            let fields: Vec<String> = fields.iter().map(|(n, t)| format!("{} {}", crate::handler::dml::quote(n), cast_type_sql(t))).collect();
            // ` >`: nested closing brackets must not tokenize as `>>` or `>>>`.
            format!("STRUCT<{} >", fields.join(", "))
        }
    }
}
