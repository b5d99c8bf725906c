//! The built-in Postgres types pg_type lists, and the type-name functions over them
//! (`format_type`, `::regtype`).

use tributary_common::types::DataType;

/// A base type of pg_type. Its array type (if any) is derived from it.
pub struct PgType {
    pub oid: i32,
    pub name: &'static str,
    /// How `format_type` spells it.
    pub sql_name: &'static str,
    pub len: i16,
    pub byval: bool,
    /// typtype: 'b' base, 'p' pseudo.
    pub kind: char,
    pub category: char,
    pub preferred: bool,
    pub array: i32,
    /// Prefix of the I/O function names (`int4` → int4in, int4out, int4recv, int4send).
    pub io: &'static str,
    pub align: char,
    pub storage: char,
    pub collation: i32,
}

const fn t(
    oid: i32,
    name: &'static str,
    sql_name: &'static str,
    len: i16,
    category: char,
    array: i32,
    align: char,
) -> PgType {
    PgType {
        oid,
        name,
        sql_name,
        len,
        byval: len > 0 && len <= 8,
        kind: 'b',
        category,
        preferred: false,
        array,
        io: name,
        align,
        storage: if len == -1 { 'x' } else { 'p' },
        collation: 0,
    }
}

const fn text_like(mut ty: PgType, collation: i32) -> PgType {
    ty.collation = collation;
    ty
}

const fn preferred(mut ty: PgType) -> PgType {
    ty.preferred = true;
    ty
}

const fn main_storage(mut ty: PgType) -> PgType {
    ty.storage = 'm';
    ty
}

const fn pseudo(mut ty: PgType) -> PgType {
    ty.kind = 'p';
    ty
}

pub const DEFAULT_COLLATION: i32 = 100;
pub const C_COLLATION: i32 = 950;

pub static TYPES: &[PgType] = &[
    preferred(t(16, "bool", "boolean", 1, 'B', 1000, 'c')),
    t(17, "bytea", "bytea", -1, 'U', 1001, 'i'),
    t(18, "char", "\"char\"", 1, 'Z', 1002, 'c'),
    text_like(t(19, "name", "name", 64, 'S', 1003, 'c'), C_COLLATION),
    t(20, "int8", "bigint", 8, 'N', 1016, 'd'),
    t(21, "int2", "smallint", 2, 'N', 1005, 's'),
    t(22, "int2vector", "int2vector", -1, 'A', 1006, 'i'),
    t(23, "int4", "integer", 4, 'N', 1007, 'i'),
    t(24, "regproc", "regproc", 4, 'N', 1008, 'i'),
    preferred(text_like(t(25, "text", "text", -1, 'S', 1009, 'i'), DEFAULT_COLLATION)),
    preferred(t(26, "oid", "oid", 4, 'N', 1028, 'i')),
    t(28, "xid", "xid", 4, 'U', 1011, 'i'),
    t(30, "oidvector", "oidvector", -1, 'A', 1013, 'i'),
    t(114, "json", "json", -1, 'U', 199, 'i'),
    text_like(t(194, "pg_node_tree", "pg_node_tree", -1, 'Z', 0, 'i'), DEFAULT_COLLATION),
    t(700, "float4", "real", 4, 'N', 1021, 'i'),
    preferred(t(701, "float8", "double precision", 8, 'N', 1022, 'd')),
    pseudo(t(705, "unknown", "unknown", -2, 'X', 0, 'c')),
    t(1033, "aclitem", "aclitem", 12, 'U', 1034, 'i'),
    text_like(t(1042, "bpchar", "character", -1, 'S', 1014, 'i'), DEFAULT_COLLATION),
    text_like(t(1043, "varchar", "character varying", -1, 'S', 1015, 'i'), DEFAULT_COLLATION),
    t(1082, "date", "date", 4, 'D', 1182, 'i'),
    t(1083, "time", "time without time zone", 8, 'D', 1183, 'd'),
    t(1114, "timestamp", "timestamp without time zone", 8, 'D', 1115, 'd'),
    preferred(t(1184, "timestamptz", "timestamp with time zone", 8, 'D', 1185, 'd')),
    preferred(t(1186, "interval", "interval", 16, 'T', 1187, 'd')),
    t(1266, "timetz", "time with time zone", 12, 'D', 1270, 'd'),
    main_storage(t(1700, "numeric", "numeric", -1, 'N', 1231, 'i')),
    t(2205, "regclass", "regclass", 4, 'N', 2210, 'i'),
    t(2206, "regtype", "regtype", 4, 'N', 2211, 'i'),
    pseudo(t(2249, "record", "record", -1, 'P', 2287, 'd')),
    pseudo(t(2275, "cstring", "cstring", -2, 'P', 1263, 'c')),
    pseudo(t(2276, "any", "\"any\"", 4, 'P', 0, 'i')),
    pseudo(t(2277, "anyarray", "anyarray", -1, 'P', 0, 'd')),
    pseudo(t(2278, "void", "void", 4, 'P', 0, 'i')),
    pseudo(t(2279, "trigger", "trigger", 4, 'P', 0, 'i')),
    pseudo(t(2283, "anyelement", "anyelement", 4, 'P', 0, 'i')),
    t(2950, "uuid", "uuid", 16, 'U', 2951, 'c'),
    t(3802, "jsonb", "jsonb", -1, 'U', 3807, 'i'),
    t(4089, "regnamespace", "regnamespace", 4, 'N', 4090, 'i'),
    t(4096, "regrole", "regrole", 4, 'N', 4097, 'i'),
];

/// One row of pg_type: a base type, or the array type of one.
pub struct TypeRow {
    pub base: &'static PgType,
    pub is_array: bool,
}

impl TypeRow {
    pub fn oid(&self) -> i32 {
        if self.is_array {
            self.base.array
        } else {
            self.base.oid
        }
    }

    pub fn name(&self) -> String {
        if self.is_array {
            format!("_{}", self.base.name)
        } else {
            self.base.name.to_string()
        }
    }
}

/// Every pg_type row, base types first.
pub fn all_types() -> impl Iterator<Item = TypeRow> {
    let bases = TYPES.iter().map(|b| TypeRow { base: b, is_array: false });
    let arrays = TYPES.iter().filter(|b| b.array != 0).map(|b| TypeRow { base: b, is_array: true });
    bases.chain(arrays)
}

pub fn type_by_oid(oid: i64) -> Option<TypeRow> {
    all_types().find(|t| i64::from(t.oid()) == oid)
}

/// `format_type(oid, typmod)`: the SQL spelling, with the modifier applied (`numeric(10,2)`,
/// `character varying(20)`). `None` for an unknown oid, which Postgres prints as `???`.
pub fn format_type(oid: i64, typmod: Option<i64>) -> Option<String> {
    if oid == 0 {
        return Some("-".to_string());
    }
    let t = type_by_oid(oid)?;
    let typmod = typmod.unwrap_or(-1);
    let base = match (t.base.oid, typmod) {
        (1043, m) if m >= 4 => format!("character varying({})", m - 4),
        (1042, m) if m >= 4 => format!("character({})", m - 4),
        (1700, m) if m >= 4 => {
            let m = m - 4;
            format!("numeric({},{})", (m >> 16) & 0xffff, m & 0xffff)
        }
        (1083 | 1114 | 1184 | 1266, m) if m >= 0 => {
            let (head, tail) = t.base.sql_name.split_once(' ').unwrap_or((t.base.sql_name, ""));
            format!("{head}({m}) {tail}")
        }
        _ => t.base.sql_name.to_string(),
    };
    Some(if t.is_array { format!("{base}[]") } else { base })
}

/// The type modifier Postgres records for a column of `ty` (`atttypmod`), -1 for none.
pub fn typmod(ty: &DataType) -> i32 {
    match ty.innermost() {
        DataType::Decimal { precision: Some(p), scale: Some(s) } => {
            ((i32::from(*p) << 16) | (i32::from(*s) & 0xffff)) + 4
        }
        _ => -1,
    }
}

/// Array dimensions of a column type (attndims).
pub fn ndims(ty: &DataType) -> i32 {
    match ty {
        DataType::List(e) => 1 + ndims(e),
        _ => 0,
    }
}

/// `'name'::regtype`: the oid of a type named as Postgres accepts it (`int4`, `integer`,
/// `pg_catalog.varchar`, `character varying`, `text[]`, `_int4`).
pub fn type_oid_by_name(name: &str) -> Option<i32> {
    let mut n = name.trim().to_ascii_lowercase();
    if let Some(rest) = n.strip_prefix("pg_catalog.") {
        n = rest.to_string();
    }
    let n = n.replace('"', "");
    if let Some(elem) = n.strip_suffix("[]") {
        let base = type_oid_by_name(elem)?;
        return TYPES.iter().find(|t| t.oid == base).map(|t| t.array).filter(|a| *a != 0);
    }
    // Modifiers do not change the type: `varchar(10)`, `numeric(10,2)`.
    let n = match n.find('(') {
        Some(i) => {
            let close = n.rfind(')').unwrap_or(n.len().saturating_sub(1));
            format!("{}{}", n[..i].trim_end(), n.get(close + 1..).unwrap_or(""))
        }
        None => n,
    };
    let n = n.split_whitespace().collect::<Vec<_>>().join(" ");
    let alias = match n.as_str() {
        "int" | "integer" => "int4",
        "smallint" => "int2",
        "bigint" => "int8",
        "real" => "float4",
        "double precision" | "float" => "float8",
        "boolean" => "bool",
        "decimal" => "numeric",
        "character varying" => "varchar",
        "character" | "char" => "bpchar",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        "time without time zone" => "time",
        "time with time zone" => "timetz",
        other => other,
    };
    all_types().find(|t| t.name() == alias).map(|t| t.oid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_modifiers() {
        assert_eq!(format_type(23, None).as_deref(), Some("integer"));
        assert_eq!(format_type(1007, Some(-1)).as_deref(), Some("integer[]"));
        assert_eq!(format_type(1043, Some(14)).as_deref(), Some("character varying(10)"));
        assert_eq!(format_type(1700, Some(((10 << 16) | 2) + 4)).as_deref(), Some("numeric(10,2)"));
        assert_eq!(format_type(1184, Some(3)).as_deref(), Some("timestamp(3) with time zone"));
        assert_eq!(format_type(99999, None), None);
        let ty = DataType::Decimal { precision: Some(10), scale: Some(2) };
        assert_eq!(format_type(ty.pg_oid().into(), Some(typmod(&ty).into())).as_deref(), Some("numeric(10,2)"));
        assert_eq!(type_oid_by_name("integer"), Some(23));
        assert_eq!(type_oid_by_name("pg_catalog.int4"), Some(23));
        assert_eq!(type_oid_by_name("character varying(20)"), Some(1043));
        assert_eq!(type_oid_by_name("text[]"), Some(1009));
        assert_eq!(type_oid_by_name("_int4"), Some(1007));
        assert_eq!(type_oid_by_name("timestamp with time zone"), Some(1184));
        assert_eq!(type_oid_by_name("nope"), None);
    }

    #[test]
    fn every_column_type_is_listed() {
        for ty in tributary_common::types::scalar_types() {
            let oid = i64::from(ty.pg_oid());
            let name = format_type(oid, None);
            assert_eq!(name.as_deref(), Some(ty.to_string().as_str()));
            let list = DataType::List(Box::new(ty.clone()));
            assert_eq!(format_type(list.pg_oid().into(), None), Some(format!("{ty}[]")));
        }
    }
}
