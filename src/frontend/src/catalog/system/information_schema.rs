//! information_schema views (SQL standard), for the current database.

use tributary_common::types::DataType;

use super::schema::{row, Kind, Row, SystemTable, Ty, V};
use super::{columns, pk_attnums, pk_name, relation_kind, relations_of_kind, CatalogView, RelKind, SUPERUSER};
use tributary_proto::catalog::TableType;

use Ty::*;

const fn view(name: &'static str, columns: &'static [(&'static str, Ty)], rows: super::schema::RowsFn) -> SystemTable {
    SystemTable { schema: "information_schema", name, kind: Kind::View, columns, rows: Some(rows) }
}

const fn empty(name: &'static str, columns: &'static [(&'static str, Ty)]) -> SystemTable {
    SystemTable { schema: "information_schema", name, kind: Kind::View, columns, rows: None }
}

pub static TABLES: &[SystemTable] = &[
    view(
        "schemata",
        &[
            ("catalog_name", Varchar),
            ("schema_name", Varchar),
            ("schema_owner", Varchar),
            ("default_character_set_catalog", Varchar),
            ("default_character_set_schema", Varchar),
            ("default_character_set_name", Varchar),
            ("sql_path", Varchar),
        ],
        schemata,
    ),
    view(
        "tables",
        &[
            ("table_catalog", Varchar),
            ("table_schema", Varchar),
            ("table_name", Varchar),
            ("table_type", Varchar),
            ("self_referencing_column_name", Varchar),
            ("reference_generation", Varchar),
            ("user_defined_type_catalog", Varchar),
            ("user_defined_type_schema", Varchar),
            ("user_defined_type_name", Varchar),
            ("is_insertable_into", Varchar),
            ("is_typed", Varchar),
            ("commit_action", Varchar),
        ],
        tables,
    ),
    view(
        "columns",
        &[
            ("table_catalog", Varchar),
            ("table_schema", Varchar),
            ("table_name", Varchar),
            ("column_name", Varchar),
            ("ordinal_position", Int4),
            ("column_default", Varchar),
            ("is_nullable", Varchar),
            ("data_type", Varchar),
            ("character_maximum_length", Int4),
            ("character_octet_length", Int4),
            ("numeric_precision", Int4),
            ("numeric_precision_radix", Int4),
            ("numeric_scale", Int4),
            ("datetime_precision", Int4),
            ("interval_type", Varchar),
            ("interval_precision", Int4),
            ("character_set_catalog", Varchar),
            ("character_set_schema", Varchar),
            ("character_set_name", Varchar),
            ("collation_catalog", Varchar),
            ("collation_schema", Varchar),
            ("collation_name", Varchar),
            ("domain_catalog", Varchar),
            ("domain_schema", Varchar),
            ("domain_name", Varchar),
            ("udt_catalog", Varchar),
            ("udt_schema", Varchar),
            ("udt_name", Varchar),
            ("scope_catalog", Varchar),
            ("scope_schema", Varchar),
            ("scope_name", Varchar),
            ("maximum_cardinality", Int4),
            ("dtd_identifier", Varchar),
            ("is_self_referencing", Varchar),
            ("is_identity", Varchar),
            ("identity_generation", Varchar),
            ("identity_start", Varchar),
            ("identity_increment", Varchar),
            ("identity_maximum", Varchar),
            ("identity_minimum", Varchar),
            ("identity_cycle", Varchar),
            ("is_generated", Varchar),
            ("generation_expression", Varchar),
            ("is_updatable", Varchar),
        ],
        columns_view,
    ),
    view(
        "views",
        &[
            ("table_catalog", Varchar),
            ("table_schema", Varchar),
            ("table_name", Varchar),
            ("view_definition", Varchar),
            ("check_option", Varchar),
            ("is_updatable", Varchar),
            ("is_insertable_into", Varchar),
            ("is_trigger_updatable", Varchar),
            ("is_trigger_deletable", Varchar),
            ("is_trigger_insertable_into", Varchar),
        ],
        views,
    ),
    view(
        "table_constraints",
        &[
            ("constraint_catalog", Varchar),
            ("constraint_schema", Varchar),
            ("constraint_name", Varchar),
            ("table_catalog", Varchar),
            ("table_schema", Varchar),
            ("table_name", Varchar),
            ("constraint_type", Varchar),
            ("is_deferrable", Varchar),
            ("initially_deferred", Varchar),
            ("enforced", Varchar),
            ("nulls_distinct", Varchar),
        ],
        table_constraints,
    ),
    view(
        "key_column_usage",
        &[
            ("constraint_catalog", Varchar),
            ("constraint_schema", Varchar),
            ("constraint_name", Varchar),
            ("table_catalog", Varchar),
            ("table_schema", Varchar),
            ("table_name", Varchar),
            ("column_name", Varchar),
            ("ordinal_position", Int4),
            ("position_in_unique_constraint", Int4),
        ],
        key_column_usage,
    ),
    view(
        "constraint_column_usage",
        &[
            ("table_catalog", Varchar),
            ("table_schema", Varchar),
            ("table_name", Varchar),
            ("column_name", Varchar),
            ("constraint_catalog", Varchar),
            ("constraint_schema", Varchar),
            ("constraint_name", Varchar),
        ],
        constraint_column_usage,
    ),
    empty(
        "referential_constraints",
        &[
            ("constraint_catalog", Varchar),
            ("constraint_schema", Varchar),
            ("constraint_name", Varchar),
            ("unique_constraint_catalog", Varchar),
            ("unique_constraint_schema", Varchar),
            ("unique_constraint_name", Varchar),
            ("match_option", Varchar),
            ("update_rule", Varchar),
            ("delete_rule", Varchar),
        ],
    ),
    empty(
        "check_constraints",
        &[
            ("constraint_catalog", Varchar),
            ("constraint_schema", Varchar),
            ("constraint_name", Varchar),
            ("check_clause", Varchar),
        ],
    ),
    empty(
        "routines",
        &[
            ("specific_catalog", Varchar),
            ("specific_schema", Varchar),
            ("specific_name", Varchar),
            ("routine_catalog", Varchar),
            ("routine_schema", Varchar),
            ("routine_name", Varchar),
            ("routine_type", Varchar),
            ("data_type", Varchar),
            ("routine_definition", Varchar),
            ("external_language", Varchar),
        ],
    ),
];

fn schemata(v: &CatalogView) -> Vec<Row> {
    v.namespaces()
        .into_iter()
        .map(|n| row![&v.database.name, n.name, SUPERUSER, V::Null, V::Null, V::Null, V::Null])
        .collect()
}

fn tables(v: &CatalogView) -> Vec<Row> {
    v.relations()
        .into_iter()
        .filter_map(|r| {
            let table_type = match &r.kind {
                RelKind::Table(t) => match relation_kind(&t.table) {
                    TableType::MaterializedView => "MATERIALIZED VIEW",
                    TableType::View => "VIEW",
                    TableType::Index => return None,
                    _ => "BASE TABLE",
                },
                RelKind::System(_) => "VIEW",
                RelKind::PrimaryKey(_) => return None,
            };
            let insertable = if table_type == "BASE TABLE" { "YES" } else { "NO" };
            Some(row![
                &v.database.name,
                r.schema,
                r.name,
                table_type,
                V::Null,
                V::Null,
                V::Null,
                V::Null,
                V::Null,
                insertable,
                "NO",
                V::Null,
            ])
        })
        .collect()
}

fn views(v: &CatalogView) -> Vec<Row> {
    relations_of_kind(v, TableType::View)
        .into_iter()
        .map(|(t, schema)| {
            row![&v.database.name, schema, t.table.name.clone(), t.table.query.clone(), "NONE", "NO", "NO", "NO", "NO", "NO"]
        })
        .collect()
}

/// How information_schema.columns describes a type: (data_type, udt_name, numeric precision,
/// radix, scale, datetime precision, octet length).
struct TypeInfo {
    data_type: String,
    udt_name: String,
    precision: Option<i32>,
    radix: Option<i32>,
    scale: Option<i32>,
    datetime_precision: Option<i32>,
    octet_length: Option<i32>,
}

fn type_info(ty: &DataType) -> TypeInfo {
    let udt_name = super::types::type_by_oid(ty.pg_oid().into()).map(|t| t.name()).unwrap_or_default();
    let mut info = TypeInfo {
        data_type: String::new(),
        udt_name,
        precision: None,
        radix: None,
        scale: None,
        datetime_precision: None,
        octet_length: None,
    };
    info.data_type = match ty {
        DataType::List(_) => "ARRAY".to_string(),
        DataType::Decimal { precision, scale } => {
            info.precision = precision.map(i32::from);
            info.scale = scale.map(i32::from);
            info.radix = Some(10);
            "numeric".to_string()
        }
        other => other.to_string(),
    };
    let binary = |bits: i32, scale: Option<i32>| (Some(bits), Some(2), scale);
    let (p, r, s) = match ty {
        DataType::Int16 => binary(16, Some(0)),
        DataType::Int32 => binary(32, Some(0)),
        DataType::Int64 => binary(64, Some(0)),
        DataType::Float32 => binary(24, None),
        DataType::Float64 => binary(53, None),
        _ => (info.precision, info.radix, info.scale),
    };
    (info.precision, info.radix, info.scale) = (p, r, s);
    info.datetime_precision = match ty {
        DataType::Date => Some(0),
        DataType::Time | DataType::Timestamp | DataType::Timestamptz | DataType::Interval => Some(6),
        _ => None,
    };
    // Postgres reports the largest possible value of an unconstrained character type.
    info.octet_length = matches!(ty, DataType::Varchar).then_some(1_073_741_824);
    info
}

fn columns_view(v: &CatalogView) -> Vec<Row> {
    let mut rows = Vec::new();
    for r in v.relations() {
        match &r.kind {
            RelKind::Table(t) => {
                for c in columns(t) {
                    let info = type_info(c.ty);
                    let text = matches!(c.ty, DataType::Varchar);
                    rows.push(column_row(
                        v,
                        &r.schema,
                        &r.name,
                        &c.desc.name,
                        c.attnum.into(),
                        c.desc.default_expr.clone(),
                        !c.desc.not_null,
                        info,
                        text,
                        true,
                    ));
                }
            }
            RelKind::System(t) => {
                for ((name, ty), n) in t.columns.iter().zip(1i32..) {
                    let info = system_type_info(*ty);
                    let text = !ty.arrow().is_nested() && ty.arrow() == arrow::datatypes::DataType::Utf8;
                    rows.push(column_row(v, &r.schema, &r.name, name, n, None, true, info, text, false));
                }
            }
            RelKind::PrimaryKey(_) => {}
        }
    }
    rows
}

fn system_type_info(ty: Ty) -> TypeInfo {
    let t = super::types::type_by_oid(ty.pg_oid().into());
    let udt_name = t.as_ref().map(|t| t.name()).unwrap_or_default();
    let data_type = match &t {
        Some(t) if t.is_array => "ARRAY".to_string(),
        Some(t) => t.base.sql_name.to_string(),
        None => "USER-DEFINED".to_string(),
    };
    let sql = match ty {
        Ty::Int2 => Some(DataType::Int16),
        Ty::Int4 => Some(DataType::Int32),
        Ty::Int8 => Some(DataType::Int64),
        Ty::Float4 => Some(DataType::Float32),
        Ty::Float8 => Some(DataType::Float64),
        _ => None,
    };
    match sql {
        Some(sql) => TypeInfo { data_type, udt_name, ..type_info(&sql) },
        None => TypeInfo {
            data_type,
            udt_name,
            precision: None,
            radix: None,
            scale: None,
            datetime_precision: None,
            octet_length: (ty == Ty::Varchar || ty == Ty::Text).then_some(1_073_741_824),
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn column_row(
    v: &CatalogView,
    schema: &str,
    table: &str,
    column: &str,
    position: i32,
    default: Option<String>,
    nullable: bool,
    info: TypeInfo,
    collatable: bool,
    updatable: bool,
) -> Row {
    let db = &v.database.name;
    let (collation_catalog, collation_schema, collation_name) =
        if collatable { (V::from(db), V::from("pg_catalog"), V::from("default")) } else { (V::Null, V::Null, V::Null) };
    row![
        db,
        schema,
        table,
        column,
        position,
        default,
        if nullable { "YES" } else { "NO" },
        info.data_type,
        V::Null,
        info.octet_length,
        info.precision,
        info.radix,
        info.scale,
        info.datetime_precision,
        V::Null,
        V::Null,
        V::Null,
        V::Null,
        V::Null,
        collation_catalog,
        collation_schema,
        collation_name,
        V::Null,
        V::Null,
        V::Null,
        db,
        "pg_catalog",
        info.udt_name,
        V::Null,
        V::Null,
        V::Null,
        V::Null,
        position.to_string(),
        "NO",
        "NO",
        V::Null,
        V::Null,
        V::Null,
        V::Null,
        V::Null,
        "NO",
        "NEVER",
        V::Null,
        if updatable { "YES" } else { "NO" },
    ]
}

/// (schema, table, constraint name, key column names) of every primary key.
fn primary_keys(v: &CatalogView) -> Vec<(String, String, String, Vec<String>)> {
    let mut out = Vec::new();
    for t in v.tables() {
        let Some(key) = pk_attnums(t) else { continue };
        let Some(schema) = v.catalog.schemas.get(&t.table.schema_id) else { continue };
        let cols = columns(t);
        let names =
            key.iter().filter_map(|a| cols.iter().find(|c| c.attnum == *a).map(|c| c.desc.name.clone())).collect();
        out.push((schema.name.clone(), t.table.name.clone(), pk_name(t), names));
    }
    out
}

fn table_constraints(v: &CatalogView) -> Vec<Row> {
    let db = &v.database.name;
    primary_keys(v)
        .into_iter()
        .map(|(schema, table, name, _)| {
            row![db, &schema, name, db, &schema, table, "PRIMARY KEY", "NO", "NO", "YES", V::Null]
        })
        .collect()
}

fn key_column_usage(v: &CatalogView) -> Vec<Row> {
    let db = &v.database.name;
    let mut rows = Vec::new();
    for (schema, table, name, cols) in primary_keys(v) {
        for (col, pos) in cols.into_iter().zip(1i32..) {
            rows.push(row![db, &schema, &name, db, &schema, &table, col, pos, V::Null]);
        }
    }
    rows
}

fn constraint_column_usage(v: &CatalogView) -> Vec<Row> {
    let db = &v.database.name;
    let mut rows = Vec::new();
    for (schema, table, name, cols) in primary_keys(v) {
        for col in cols {
            rows.push(row![db, &schema, &table, col, db, &schema, &name]);
        }
    }
    rows
}
