//! pg_catalog tables. Columns follow Postgres 15 so that queries written against Postgres plan;
//! what Tributary does not have (toast tables, inheritance, rules, triggers, policies, ...) shows
//! as the value a Postgres object without it would have, or as an empty table.

use super::schema::{row, Kind, Row, SystemTable, Ty, V};
use super::types::{self, all_types};
use super::{
    columns, pk_attnums, pk_name, relation_kind, relations_of_kind, CatalogView, RelKind, BTREE_AM_OID, HEAP_AM_OID, PG_CATALOG_OID, PK_OID_OFFSET,
    SUPERUSER, SUPERUSER_OID,
};

use tributary_proto::catalog::TableType;
use Ty::*;

const fn table(name: &'static str, columns: &'static [(&'static str, Ty)], rows: super::schema::RowsFn) -> SystemTable {
    SystemTable { schema: "pg_catalog", name, kind: Kind::Table, columns, rows: Some(rows) }
}

const fn view(name: &'static str, columns: &'static [(&'static str, Ty)], rows: super::schema::RowsFn) -> SystemTable {
    SystemTable { schema: "pg_catalog", name, kind: Kind::View, columns, rows: Some(rows) }
}

const fn empty(name: &'static str, kind: Kind, columns: &'static [(&'static str, Ty)]) -> SystemTable {
    SystemTable { schema: "pg_catalog", name, kind, columns, rows: None }
}

const DEFAULT_TABLESPACE_OID: i32 = 1663;
const GLOBAL_TABLESPACE_OID: i32 = 1664;
/// pg_database.encoding of UTF8.
pub const UTF8_ENCODING: i32 = 6;

pub static TABLES: &[SystemTable] = &[
    table("pg_namespace", &[("oid", Oid), ("nspname", Name), ("nspowner", Oid), ("nspacl", AclArr)], pg_namespace),
    table(
        "pg_class",
        &[
            ("oid", Oid),
            ("relname", Name),
            ("relnamespace", Oid),
            ("reltype", Oid),
            ("reloftype", Oid),
            ("relowner", Oid),
            ("relam", Oid),
            ("relfilenode", Oid),
            ("reltablespace", Oid),
            ("relpages", Int4),
            ("reltuples", Float4),
            ("relallvisible", Int4),
            ("reltoastrelid", Oid),
            ("relhasindex", Bool),
            ("relisshared", Bool),
            ("relpersistence", Char),
            ("relkind", Char),
            ("relnatts", Int2),
            ("relchecks", Int2),
            ("relhasrules", Bool),
            ("relhastriggers", Bool),
            ("relhassubclass", Bool),
            ("relrowsecurity", Bool),
            ("relforcerowsecurity", Bool),
            ("relispopulated", Bool),
            ("relreplident", Char),
            ("relispartition", Bool),
            ("relrewrite", Oid),
            ("relfrozenxid", Xid),
            ("relminmxid", Xid),
            ("relacl", AclArr),
            ("reloptions", TextArr),
            ("relpartbound", NodeTree),
        ],
        pg_class,
    ),
    table(
        "pg_attribute",
        &[
            ("attrelid", Oid),
            ("attname", Name),
            ("atttypid", Oid),
            ("attstattarget", Int4),
            ("attlen", Int2),
            ("attnum", Int2),
            ("attndims", Int4),
            ("attcacheoff", Int4),
            ("atttypmod", Int4),
            ("attbyval", Bool),
            ("attalign", Char),
            ("attstorage", Char),
            ("attcompression", Char),
            ("attnotnull", Bool),
            ("atthasdef", Bool),
            ("atthasmissing", Bool),
            ("attidentity", Char),
            ("attgenerated", Char),
            ("attisdropped", Bool),
            ("attislocal", Bool),
            ("attinhcount", Int4),
            ("attcollation", Oid),
            ("attacl", AclArr),
            ("attoptions", TextArr),
            ("attfdwoptions", TextArr),
            ("attmissingval", TextArr),
        ],
        pg_attribute,
    ),
    table(
        "pg_type",
        &[
            ("oid", Oid),
            ("typname", Name),
            ("typnamespace", Oid),
            ("typowner", Oid),
            ("typlen", Int2),
            ("typbyval", Bool),
            ("typtype", Char),
            ("typcategory", Char),
            ("typispreferred", Bool),
            ("typisdefined", Bool),
            ("typdelim", Char),
            ("typrelid", Oid),
            ("typsubscript", RegProc),
            ("typelem", Oid),
            ("typarray", Oid),
            ("typinput", RegProc),
            ("typoutput", RegProc),
            ("typreceive", RegProc),
            ("typsend", RegProc),
            ("typmodin", RegProc),
            ("typmodout", RegProc),
            ("typanalyze", RegProc),
            ("typalign", Char),
            ("typstorage", Char),
            ("typnotnull", Bool),
            ("typbasetype", Oid),
            ("typtypmod", Int4),
            ("typndims", Int4),
            ("typcollation", Oid),
            ("typdefaultbin", NodeTree),
            ("typdefault", Text),
            ("typacl", AclArr),
        ],
        pg_type,
    ),
    table(
        "pg_database",
        &[
            ("oid", Oid),
            ("datname", Name),
            ("datdba", Oid),
            ("encoding", Int4),
            ("datlocprovider", Char),
            ("datistemplate", Bool),
            ("datallowconn", Bool),
            ("datconnlimit", Int4),
            ("datfrozenxid", Xid),
            ("datminmxid", Xid),
            ("dattablespace", Oid),
            ("datcollate", Text),
            ("datctype", Text),
            ("daticulocale", Text),
            ("datcollversion", Text),
            ("datacl", AclArr),
        ],
        pg_database,
    ),
    table(
        "pg_index",
        &[
            ("indexrelid", Oid),
            ("indrelid", Oid),
            ("indnatts", Int2),
            ("indnkeyatts", Int2),
            ("indisunique", Bool),
            ("indnullsnotdistinct", Bool),
            ("indisprimary", Bool),
            ("indisexclusion", Bool),
            ("indimmediate", Bool),
            ("indisclustered", Bool),
            ("indisvalid", Bool),
            ("indcheckxmin", Bool),
            ("indisready", Bool),
            ("indislive", Bool),
            ("indisreplident", Bool),
            ("indkey", Int2Vector),
            ("indcollation", OidVector),
            ("indclass", OidVector),
            ("indoption", Int2Vector),
            ("indexprs", NodeTree),
            ("indpred", NodeTree),
        ],
        pg_index,
    ),
    table(
        "pg_constraint",
        &[
            ("oid", Oid),
            ("conname", Name),
            ("connamespace", Oid),
            ("contype", Char),
            ("condeferrable", Bool),
            ("condeferred", Bool),
            ("convalidated", Bool),
            ("conrelid", Oid),
            ("contypid", Oid),
            ("conindid", Oid),
            ("conparentid", Oid),
            ("confrelid", Oid),
            ("confupdtype", Char),
            ("confdeltype", Char),
            ("confmatchtype", Char),
            ("conislocal", Bool),
            ("coninhcount", Int4),
            ("connoinherit", Bool),
            ("conkey", Int2Arr),
            ("confkey", Int2Arr),
            ("conpfeqop", OidArr),
            ("conppeqop", OidArr),
            ("conffeqop", OidArr),
            ("confdelsetcols", Int2Arr),
            ("conexclop", OidArr),
            ("conbin", NodeTree),
        ],
        pg_constraint,
    ),
    table("pg_attrdef", &[("oid", Oid), ("adrelid", Oid), ("adnum", Int2), ("adbin", NodeTree)], pg_attrdef),
    table("pg_am", &[("oid", Oid), ("amname", Name), ("amhandler", RegProc), ("amtype", Char)], pg_am),
    table(
        "pg_authid",
        &[
            ("oid", Oid),
            ("rolname", Name),
            ("rolsuper", Bool),
            ("rolinherit", Bool),
            ("rolcreaterole", Bool),
            ("rolcreatedb", Bool),
            ("rolcanlogin", Bool),
            ("rolreplication", Bool),
            ("rolbypassrls", Bool),
            ("rolconnlimit", Int4),
            ("rolpassword", Text),
            ("rolvaliduntil", Text),
        ],
        pg_authid,
    ),
    view(
        "pg_roles",
        &[
            ("rolname", Name),
            ("rolsuper", Bool),
            ("rolinherit", Bool),
            ("rolcreaterole", Bool),
            ("rolcreatedb", Bool),
            ("rolcanlogin", Bool),
            ("rolreplication", Bool),
            ("rolconnlimit", Int4),
            ("rolpassword", Text),
            ("rolvaliduntil", Text),
            ("rolbypassrls", Bool),
            ("rolconfig", TextArr),
            ("oid", Oid),
        ],
        pg_roles,
    ),
    view(
        "pg_user",
        &[
            ("usename", Name),
            ("usesysid", Oid),
            ("usecreatedb", Bool),
            ("usesuper", Bool),
            ("userepl", Bool),
            ("usebypassrls", Bool),
            ("passwd", Text),
            ("valuntil", Text),
            ("useconfig", TextArr),
        ],
        pg_user,
    ),
    empty(
        "pg_auth_members",
        Kind::Table,
        &[("roleid", Oid), ("member", Oid), ("grantor", Oid), ("admin_option", Bool)],
    ),
    view(
        "pg_settings",
        &[
            ("name", Text),
            ("setting", Text),
            ("unit", Text),
            ("category", Text),
            ("short_desc", Text),
            ("extra_desc", Text),
            ("context", Text),
            ("vartype", Text),
            ("source", Text),
            ("min_val", Text),
            ("max_val", Text),
            ("enumvals", TextArr),
            ("boot_val", Text),
            ("reset_val", Text),
            ("sourcefile", Text),
            ("sourceline", Int4),
            ("pending_restart", Bool),
        ],
        pg_settings,
    ),
    view(
        "pg_tables",
        &[
            ("schemaname", Name),
            ("tablename", Name),
            ("tableowner", Name),
            ("tablespace", Name),
            ("hasindexes", Bool),
            ("hasrules", Bool),
            ("hastriggers", Bool),
            ("rowsecurity", Bool),
        ],
        pg_tables,
    ),
    view("pg_views", &[("schemaname", Name), ("viewname", Name), ("viewowner", Name), ("definition", Text)], pg_views),
    view(
        "pg_matviews",
        &[
            ("schemaname", Name),
            ("matviewname", Name),
            ("matviewowner", Name),
            ("tablespace", Name),
            ("hasindexes", Bool),
            ("ispopulated", Bool),
            ("definition", Text),
        ],
        pg_matviews,
    ),
    view(
        "pg_indexes",
        &[("schemaname", Name), ("tablename", Name), ("indexname", Name), ("tablespace", Name), ("indexdef", Text)],
        pg_indexes,
    ),
    empty(
        "pg_description",
        Kind::Table,
        &[("objoid", Oid), ("classoid", Oid), ("objsubid", Int4), ("description", Text)],
    ),
    empty("pg_shdescription", Kind::Table, &[("objoid", Oid), ("classoid", Oid), ("description", Text)]),
    empty(
        "pg_proc",
        Kind::Table,
        &[
            ("oid", Oid),
            ("proname", Name),
            ("pronamespace", Oid),
            ("proowner", Oid),
            ("prolang", Oid),
            ("procost", Float4),
            ("prorows", Float4),
            ("provariadic", Oid),
            ("prosupport", RegProc),
            ("prokind", Char),
            ("prosecdef", Bool),
            ("proleakproof", Bool),
            ("proisstrict", Bool),
            ("proretset", Bool),
            ("provolatile", Char),
            ("proparallel", Char),
            ("pronargs", Int2),
            ("pronargdefaults", Int2),
            ("prorettype", Oid),
            ("proargtypes", OidVector),
            ("proallargtypes", OidArr),
            ("proargmodes", CharArr),
            ("proargnames", TextArr),
            ("proargdefaults", NodeTree),
            ("protrftypes", OidArr),
            ("prosrc", Text),
            ("probin", Text),
            ("prosqlbody", NodeTree),
            ("proconfig", TextArr),
            ("proacl", AclArr),
        ],
    ),
    empty(
        "pg_inherits",
        Kind::Table,
        &[("inhrelid", Oid), ("inhparent", Oid), ("inhseqno", Int4), ("inhdetachpending", Bool)],
    ),
    table(
        "pg_collation",
        &[
            ("oid", Oid),
            ("collname", Name),
            ("collnamespace", Oid),
            ("collowner", Oid),
            ("collprovider", Char),
            ("collisdeterministic", Bool),
            ("collencoding", Int4),
            ("collcollate", Text),
            ("collctype", Text),
            ("colliculocale", Text),
            ("collversion", Text),
        ],
        pg_collation,
    ),
    table(
        "pg_tablespace",
        &[("oid", Oid), ("spcname", Name), ("spcowner", Oid), ("spcacl", AclArr), ("spcoptions", TextArr)],
        pg_tablespace,
    ),
    empty(
        "pg_extension",
        Kind::Table,
        &[
            ("oid", Oid),
            ("extname", Name),
            ("extowner", Oid),
            ("extnamespace", Oid),
            ("extrelocatable", Bool),
            ("extversion", Text),
            ("extconfig", OidArr),
            ("extcondition", TextArr),
        ],
    ),
    empty("pg_enum", Kind::Table, &[("oid", Oid), ("enumtypid", Oid), ("enumsortorder", Float4), ("enumlabel", Name)]),
    empty(
        "pg_range",
        Kind::Table,
        &[
            ("rngtypid", Oid),
            ("rngsubtype", Oid),
            ("rngmultitypid", Oid),
            ("rngcollation", Oid),
            ("rngsubopc", Oid),
            ("rngcanonical", RegProc),
            ("rngsubdiff", RegProc),
        ],
    ),
    empty(
        "pg_event_trigger",
        Kind::Table,
        &[
            ("oid", Oid),
            ("evtname", Name),
            ("evtevent", Name),
            ("evtowner", Oid),
            ("evtfoid", Oid),
            ("evtenabled", Char),
            ("evttags", TextArr),
        ],
    ),
    empty(
        "pg_policy",
        Kind::Table,
        &[
            ("oid", Oid),
            ("polname", Name),
            ("polrelid", Oid),
            ("polcmd", Char),
            ("polpermissive", Bool),
            ("polroles", OidArr),
            ("polqual", NodeTree),
            ("polwithcheck", NodeTree),
        ],
    ),
    empty(
        "pg_statistic_ext",
        Kind::Table,
        &[
            ("oid", Oid),
            ("stxrelid", Oid),
            ("stxname", Name),
            ("stxnamespace", Oid),
            ("stxowner", Oid),
            ("stxstattarget", Int4),
            ("stxkeys", Int2Vector),
            ("stxkind", CharArr),
            ("stxexprs", NodeTree),
        ],
    ),
    empty(
        "pg_trigger",
        Kind::Table,
        &[
            ("oid", Oid),
            ("tgrelid", Oid),
            ("tgparentid", Oid),
            ("tgname", Name),
            ("tgfoid", Oid),
            ("tgtype", Int2),
            ("tgenabled", Char),
            ("tgisinternal", Bool),
            ("tgconstrrelid", Oid),
            ("tgconstrindid", Oid),
            ("tgconstraint", Oid),
            ("tgdeferrable", Bool),
            ("tginitdeferred", Bool),
            ("tgnargs", Int2),
            ("tgattr", Int2Vector),
            ("tgargs", Text),
            ("tgqual", NodeTree),
            ("tgoldtable", Name),
            ("tgnewtable", Name),
        ],
    ),
    empty(
        "pg_rewrite",
        Kind::Table,
        &[
            ("oid", Oid),
            ("rulename", Name),
            ("ev_class", Oid),
            ("ev_type", Char),
            ("ev_enabled", Char),
            ("is_instead", Bool),
            ("ev_qual", NodeTree),
            ("ev_action", NodeTree),
        ],
    ),
    empty(
        "pg_sequence",
        Kind::Table,
        &[
            ("seqrelid", Oid),
            ("seqtypid", Oid),
            ("seqstart", Int8),
            ("seqincrement", Int8),
            ("seqmax", Int8),
            ("seqmin", Int8),
            ("seqcache", Int8),
            ("seqcycle", Bool),
        ],
    ),
    empty(
        "pg_sequences",
        Kind::View,
        &[
            ("schemaname", Name),
            ("sequencename", Name),
            ("sequenceowner", Name),
            ("data_type", Text),
            ("start_value", Int8),
            ("min_value", Int8),
            ("max_value", Int8),
            ("increment_by", Int8),
            ("cycle", Bool),
            ("cache_size", Int8),
            ("last_value", Int8),
        ],
    ),
    empty(
        "pg_depend",
        Kind::Table,
        &[
            ("classid", Oid),
            ("objid", Oid),
            ("objsubid", Int4),
            ("refclassid", Oid),
            ("refobjid", Oid),
            ("refobjsubid", Int4),
            ("deptype", Char),
        ],
    ),
    empty(
        "pg_publication",
        Kind::Table,
        &[
            ("oid", Oid),
            ("pubname", Name),
            ("pubowner", Oid),
            ("puballtables", Bool),
            ("pubinsert", Bool),
            ("pubupdate", Bool),
            ("pubdelete", Bool),
            ("pubtruncate", Bool),
            ("pubviaroot", Bool),
        ],
    ),
    empty(
        "pg_publication_rel",
        Kind::Table,
        &[("oid", Oid), ("prpubid", Oid), ("prrelid", Oid), ("prqual", NodeTree), ("prattrs", Int2Vector)],
    ),
    empty("pg_foreign_table", Kind::Table, &[("ftrelid", Oid), ("ftserver", Oid), ("ftoptions", TextArr)]),
    empty(
        "pg_opclass",
        Kind::Table,
        &[
            ("oid", Oid),
            ("opcmethod", Oid),
            ("opcname", Name),
            ("opcnamespace", Oid),
            ("opcowner", Oid),
            ("opcfamily", Oid),
            ("opcintype", Oid),
            ("opcdefault", Bool),
            ("opckeytype", Oid),
        ],
    ),
    table(
        "pg_language",
        &[
            ("oid", Oid),
            ("lanname", Name),
            ("lanowner", Oid),
            ("lanispl", Bool),
            ("lanpltrusted", Bool),
            ("lanplcallfoid", Oid),
            ("laninline", Oid),
            ("lanvalidator", Oid),
            ("lanacl", AclArr),
        ],
        pg_language,
    ),
];

fn pg_namespace(v: &CatalogView) -> Vec<Row> {
    v.namespaces().into_iter().map(|n| row![n.oid, n.name, SUPERUSER_OID, V::Null]).collect()
}

fn pg_class(v: &CatalogView) -> Vec<Row> {
    v.relations()
        .into_iter()
        .map(|r| {
            let relkind = r.relkind();
            let (am, natts, has_index) = match &r.kind {
                RelKind::Table(t) => (0, columns(t).len(), pk_attnums(t).is_some()),
                RelKind::PrimaryKey(t) => (BTREE_AM_OID, pk_attnums(t).map_or(0, |k| k.len()), false),
                RelKind::System(t) => (0, t.columns.len(), false),
            };
            row![
                r.oid,
                r.name,
                r.namespace,
                0,
                0,
                SUPERUSER_OID,
                am,
                0,
                0,
                0,
                -1.0,
                0,
                0,
                has_index,
                false,
                "p",
                relkind,
                i16::try_from(natts).unwrap_or(i16::MAX),
                0i16,
                false,
                false,
                false,
                false,
                false,
                true,
                "d",
                false,
                0,
                0,
                0,
                V::Null,
                V::Null,
                V::Null,
            ]
        })
        .collect()
}

/// The columns of every relation, with their pg_type details.
fn pg_attribute(v: &CatalogView) -> Vec<Row> {
    let attr =
        |relid: i64, name: &str, typid: i32, attnum: i16, ndims: i32, typmod: i32, notnull: bool, hasdef: bool| {
            let ty = types::type_by_oid(typid.into());
            let (len, byval, align, storage, collation) = match &ty {
                Some(t) if t.is_array => {
                    (-1, false, if t.base.align == 'd' { "d" } else { "i" }, "x", t.base.collation)
                }
                Some(t) => {
                    (t.base.len, t.base.byval, align_str(t.base.align), storage_str(t.base.storage), t.base.collation)
                }
                None => (-1, false, "i", "x", 0),
            };
            row![
                relid,
                name,
                typid,
                -1,
                len,
                attnum,
                ndims,
                -1,
                typmod,
                byval,
                align,
                storage,
                "",
                notnull,
                hasdef,
                false,
                "",
                "",
                false,
                true,
                0,
                collation,
                V::Null,
                V::Null,
                V::Null,
                V::Null,
            ]
        };
    let mut rows = Vec::new();
    for r in v.relations() {
        match &r.kind {
            RelKind::Table(t) => {
                for c in columns(t) {
                    rows.push(attr(
                        r.oid,
                        &c.desc.name,
                        c.ty.pg_oid() as i32,
                        c.attnum,
                        types::ndims(c.ty),
                        types::typmod(c.ty),
                        c.desc.not_null,
                        c.desc.default_expr.is_some(),
                    ));
                }
            }
            RelKind::PrimaryKey(t) => {
                let cols = columns(t);
                for (n, attnum) in pk_attnums(t).unwrap_or_default().into_iter().zip(1i16..) {
                    if let Some(c) = cols.iter().find(|c| c.attnum == n) {
                        let (oid, ndims, typmod) = (c.ty.pg_oid() as i32, types::ndims(c.ty), types::typmod(c.ty));
                        rows.push(attr(r.oid, &c.desc.name, oid, attnum, ndims, typmod, false, false));
                    }
                }
            }
            RelKind::System(t) => {
                for ((name, ty), attnum) in t.columns.iter().zip(1i16..) {
                    let ndims = i32::from(ty.arrow().is_nested());
                    rows.push(attr(r.oid, name, ty.pg_oid(), attnum, ndims, -1, false, false));
                }
            }
        }
    }
    rows
}

fn align_str(c: char) -> &'static str {
    match c {
        'c' => "c",
        's' => "s",
        'd' => "d",
        _ => "i",
    }
}

fn storage_str(c: char) -> &'static str {
    match c {
        'x' => "x",
        'm' => "m",
        'e' => "e",
        _ => "p",
    }
}

fn pg_type(_: &CatalogView) -> Vec<Row> {
    all_types()
        .map(|t| {
            let b = t.base;
            let name = t.name();
            let (len, byval, kind, category, preferred, elem, array, io, subscript, align, storage) = if t.is_array {
                let align = if b.align == 'd' { "d" } else { "i" };
                (-1, false, "b", "A", false, b.oid, 0, "array_".to_string(), "array_subscript_handler", align, "x")
            } else {
                let subscript = if b.category == 'A' { "array_subscript_handler" } else { "-" };
                let elem = match b.oid {
                    22 => 21,
                    30 => 26,
                    19 => 18,
                    _ => 0,
                };
                (
                    b.len,
                    b.byval,
                    if b.kind == 'p' { "p" } else { "b" },
                    if b.category == 'Z' { "Z" } else { char_str(b.category) },
                    b.preferred,
                    elem,
                    b.array,
                    b.io.to_string(),
                    subscript,
                    align_str(b.align),
                    storage_str(b.storage),
                )
            };
            let (modin, modout) = match (t.is_array, b.oid) {
                (false, 1043 | 1042) => ("varchartypmodin", "varchartypmodout"),
                (false, 1700) => ("numerictypmodin", "numerictypmodout"),
                (false, 1083 | 1114 | 1184 | 1266) => ("timestamptypmodin", "timestamptypmodout"),
                _ => ("-", "-"),
            };
            row![
                t.oid(),
                name,
                PG_CATALOG_OID,
                SUPERUSER_OID,
                len,
                byval,
                kind,
                category,
                preferred,
                true,
                ",",
                0,
                subscript,
                elem,
                array,
                format!("{io}in"),
                format!("{io}out"),
                format!("{io}recv"),
                format!("{io}send"),
                modin,
                modout,
                "-",
                align,
                storage,
                false,
                0,
                -1,
                0,
                b.collation,
                V::Null,
                V::Null,
                V::Null,
            ]
        })
        .collect()
}

fn char_str(c: char) -> &'static str {
    match c {
        'A' => "A",
        'B' => "B",
        'D' => "D",
        'N' => "N",
        'P' => "P",
        'S' => "S",
        'T' => "T",
        'U' => "U",
        'X' => "X",
        _ => "Z",
    }
}

fn pg_database(v: &CatalogView) -> Vec<Row> {
    let mut dbs: Vec<_> = v.catalog.databases.values().collect();
    dbs.sort_by_key(|d| d.id);
    dbs.into_iter()
        .map(|d| {
            row![
                d.id,
                &d.name,
                SUPERUSER_OID,
                UTF8_ENCODING,
                "c",
                false,
                true,
                -1,
                0,
                1,
                DEFAULT_TABLESPACE_OID,
                "C",
                "C",
                V::Null,
                V::Null,
                V::Null,
            ]
        })
        .collect()
}

fn pg_index(v: &CatalogView) -> Vec<Row> {
    v.tables()
        .into_iter()
        .filter_map(|t| {
            let key = pk_attnums(t)?;
            let n = i16::try_from(key.len()).unwrap_or(i16::MAX);
            let cols = columns(t);
            let collations: Vec<i64> = key
                .iter()
                .map(|a| {
                    let text = cols.iter().find(|c| c.attnum == *a).is_some_and(|c| {
                        types::type_by_oid(c.ty.pg_oid().into())
                            .is_some_and(|ty| !ty.is_array && ty.base.collation != 0)
                    });
                    if text {
                        types::DEFAULT_COLLATION.into()
                    } else {
                        0
                    }
                })
                .collect();
            let zeros = vec![0i64; key.len()];
            Some(row![
                i64::from(t.table.id) + PK_OID_OFFSET,
                t.table.id,
                n,
                n,
                true,
                false,
                true,
                false,
                true,
                false,
                true,
                false,
                true,
                true,
                false,
                key.iter().map(|k| i64::from(*k)).collect::<Vec<_>>(),
                collations,
                zeros.clone(),
                zeros,
                V::Null,
                V::Null,
            ])
        })
        .collect()
}

fn pg_constraint(v: &CatalogView) -> Vec<Row> {
    v.tables()
        .into_iter()
        .filter_map(|t| {
            let key = pk_attnums(t)?;
            let oid = i64::from(t.table.id) + PK_OID_OFFSET;
            Some(row![
                oid,
                pk_name(t),
                t.table.schema_id,
                "p",
                false,
                false,
                true,
                t.table.id,
                0,
                oid,
                0,
                0,
                " ",
                " ",
                " ",
                true,
                0,
                true,
                key.iter().map(|k| i64::from(*k)).collect::<Vec<_>>(),
                V::Null,
                V::Null,
                V::Null,
                V::Null,
                V::Null,
                V::Null,
                V::Null,
            ])
        })
        .collect()
}

/// Column defaults; `adbin` holds the expression's SQL, which is what `pg_get_expr` returns.
fn pg_attrdef(v: &CatalogView) -> Vec<Row> {
    let mut rows = Vec::new();
    for t in v.tables() {
        for c in columns(t) {
            if let Some(expr) = &c.desc.default_expr {
                rows.push(row![0, t.table.id, c.attnum, expr.clone()]);
            }
        }
    }
    rows
}

fn pg_am(_: &CatalogView) -> Vec<Row> {
    vec![row![HEAP_AM_OID, "heap", "heap_tableam_handler", "t"], row![BTREE_AM_OID, "btree", "bthandler", "i"]]
}

fn pg_authid(_: &CatalogView) -> Vec<Row> {
    vec![row![SUPERUSER_OID, SUPERUSER, true, true, true, true, true, true, true, -1, V::Null, V::Null]]
}

fn pg_roles(_: &CatalogView) -> Vec<Row> {
    vec![row![SUPERUSER, true, true, true, true, true, true, -1, "********", V::Null, true, V::Null, SUPERUSER_OID]]
}

fn pg_user(_: &CatalogView) -> Vec<Row> {
    vec![row![SUPERUSER, SUPERUSER_OID, true, true, true, true, "********", V::Null, V::Null]]
}

/// Settings as pg_settings lists them, with their defaults (name, default, type); the session's
/// value replaces the default where the planning context knows it (see `CatalogView::settings`).
pub const SETTINGS: &[(&str, &str, &str)] = &[
    ("DateStyle", "ISO, MDY", "string"),
    ("IntervalStyle", "postgres", "enum"),
    ("TimeZone", "UTC", "string"),
    ("application_name", "", "string"),
    ("block_size", "8192", "integer"),
    ("client_encoding", "UTF8", "string"),
    ("default_transaction_isolation", "read committed", "enum"),
    ("default_transaction_read_only", "off", "bool"),
    ("extra_float_digits", "1", "integer"),
    ("integer_datetimes", "on", "bool"),
    ("lc_collate", "C", "string"),
    ("lc_ctype", "C", "string"),
    ("max_identifier_length", "63", "integer"),
    ("max_index_keys", "32", "integer"),
    ("search_path", "\"$user\", public", "string"),
    ("server_encoding", "UTF8", "string"),
    ("server_version", "13.14.0", "string"),
    ("server_version_num", "130014", "integer"),
    ("standard_conforming_strings", "on", "bool"),
    ("statement_timeout", "0", "integer"),
    ("transaction_isolation", "read committed", "string"),
    ("transaction_read_only", "off", "bool"),
];

fn pg_settings(v: &CatalogView) -> Vec<Row> {
    SETTINGS
        .iter()
        .map(|(name, default, vartype)| {
            let value = v.setting(name).unwrap_or_else(|| default.to_string());
            row![
                *name,
                value,
                V::Null,
                "Tributary",
                V::Null,
                V::Null,
                "user",
                *vartype,
                "default",
                V::Null,
                V::Null,
                V::Null,
                *default,
                *default,
                V::Null,
                V::Null,
                false,
            ]
        })
        .collect()
}

fn pg_tables(v: &CatalogView) -> Vec<Row> {
    let mut tables: Vec<(String, String, bool)> = v
        .relations()
        .into_iter()
        .filter_map(|r| match &r.kind {
            RelKind::Table(t) if relation_kind(&t.table) == TableType::Table => {
                Some((r.schema.clone(), r.name.clone(), pk_attnums(t).is_some()))
            }
            RelKind::System(t) if t.kind == Kind::Table => Some((r.schema.clone(), r.name.clone(), false)),
            _ => None,
        })
        .collect();
    tables.sort();
    tables
        .into_iter()
        .map(|(schema, name, has_index)| row![schema, name, SUPERUSER, V::Null, has_index, false, false, false])
        .collect()
}

fn pg_views(v: &CatalogView) -> Vec<Row> {
    relations_of_kind(v, TableType::View)
        .into_iter()
        .map(|(t, schema)| row![schema, t.table.name.clone(), SUPERUSER, t.table.query.clone()])
        .collect()
}

fn pg_matviews(v: &CatalogView) -> Vec<Row> {
    relations_of_kind(v, TableType::MaterializedView)
        .into_iter()
        .map(|(t, schema)| row![schema, t.table.name.clone(), SUPERUSER, V::Null, false, true, t.table.query.clone()])
        .collect()
}

fn pg_indexes(v: &CatalogView) -> Vec<Row> {
    v.tables()
        .into_iter()
        .filter_map(|t| {
            let rel = v.relation_by_oid(i64::from(t.table.id) + PK_OID_OFFSET)?;
            Some(row![
                rel.schema.clone(),
                t.table.name.clone(),
                rel.name.clone(),
                V::Null,
                super::functions::index_def(v, rel.oid)?
            ])
        })
        .collect()
}

fn pg_collation(_: &CatalogView) -> Vec<Row> {
    vec![
        row![
            types::DEFAULT_COLLATION,
            "default",
            PG_CATALOG_OID,
            SUPERUSER_OID,
            "d",
            true,
            -1,
            V::Null,
            V::Null,
            V::Null,
            V::Null
        ],
        row![types::C_COLLATION, "C", PG_CATALOG_OID, SUPERUSER_OID, "c", true, -1, "C", "C", V::Null, V::Null],
        row![951, "POSIX", PG_CATALOG_OID, SUPERUSER_OID, "c", true, -1, "POSIX", "POSIX", V::Null, V::Null],
    ]
}

fn pg_tablespace(_: &CatalogView) -> Vec<Row> {
    vec![
        row![DEFAULT_TABLESPACE_OID, "pg_default", SUPERUSER_OID, V::Null, V::Null],
        row![GLOBAL_TABLESPACE_OID, "pg_global", SUPERUSER_OID, V::Null, V::Null],
    ]
}

fn pg_language(_: &CatalogView) -> Vec<Row> {
    vec![
        row![12, "internal", SUPERUSER_OID, false, false, 0, 0, 0, V::Null],
        row![13, "c", SUPERUSER_OID, false, false, 0, 0, 0, V::Null],
        row![14, "sql", SUPERUSER_OID, false, true, 0, 0, 0, V::Null],
    ]
}
