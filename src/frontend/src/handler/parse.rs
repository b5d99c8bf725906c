//! Splitting a query string into statements and parsing each: RisingWave/Postgres utility
//! statements (FLUSH, SET, SHOW, DESCRIBE, ALTER SYSTEM, transactions) by hand, the rest with
//! sqlparser's PostgreSQL dialect.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{visit_relations, BinaryOperator, Expr, Ident, ObjectName, Statement};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::error::{FrontendError, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum UtilityStatement {
    Flush,
    /// `SHOW <words>`
    Show(Vec<String>),
    /// `SET [SESSION|LOCAL] name {TO|=} value[, value]` and `SET TIME ZONE value`
    Set { name: String, value: String },
    Reset(String),
    /// `DESCRIBE name` / `DESC name`
    Describe(String),
    AlterSystemSet { name: String, value: String },
    Begin,
    Commit,
    Rollback,
}

#[derive(Debug, Clone)]
pub enum ParsedStatement {
    Utility(UtilityStatement),
    Sql(Box<Statement>),
}

/// Parses every statement of `sql`; an error in any statement fails the whole string, as in
/// Postgres (nothing runs).
pub fn parse_statements(sql: &str) -> Result<Vec<ParsedStatement>> {
    let dialect = crate::dialect::TributaryDialect::new();
    let tokens = Tokenizer::new(&dialect, sql).tokenize_with_location().map_err(|e| FrontendError::Syntax(e.to_string()))?;
    let mut out = Vec::new();
    let mut current: Vec<TokenWithSpan> = Vec::new();
    for t in tokens.into_iter().chain(std::iter::once(TokenWithSpan::wrap(Token::SemiColon))) {
        if t.token == Token::SemiColon {
            let stmt = std::mem::take(&mut current);
            if stmt.iter().any(|t| !is_trivia(&t.token)) {
                out.push(parse_one(stmt)?);
            }
        } else {
            current.push(t);
        }
    }
    Ok(out)
}

fn is_trivia(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

fn parse_one(mut tokens: Vec<TokenWithSpan>) -> Result<ParsedStatement> {
    let words: Vec<&Token> = tokens.iter().map(|t| &t.token).filter(|t| !is_trivia(t)).collect();
    if let Some(u) = parse_utility(&words)? {
        return Ok(ParsedStatement::Utility(u));
    }
    strip_append_only(&mut tokens);
    strip_trailing_column_comma(&mut tokens);
    split_closing_angle_brackets(&mut tokens);
    let distributed_by = strip_distributed_by(&mut tokens)?;
    let dialect = crate::dialect::TributaryDialect::new();
    let mut parser = Parser::new(&dialect).with_tokens_with_locations(tokens);
    let stmt = parser.parse_statement().map_err(|e| FrontendError::Syntax(syntax_message(&e.to_string())))?;
    reject_reserved_names(&stmt)?;
    let mut stmt = stmt;
    if let (Some(columns), Statement::CreateIndex(create)) = (distributed_by, &mut stmt) {
        create.with.push(Expr::BinaryOp {
            left: Box::new(Expr::Identifier(Ident::new(DISTRIBUTED_BY_OPTION))),
            op: BinaryOperator::Eq,
            right: Box::new(Expr::Tuple(columns.into_iter().map(Expr::Identifier).collect())),
        });
    }
    // Catalog SQL of psql and drivers (regclass casts, OPERATOR(pg_catalog.~), COLLATE, ...).
    crate::catalog::system::rewrite_for_catalog(&mut stmt);
    let rest = parser.peek_token();
    if rest.token != Token::EOF {
        return Err(FrontendError::Syntax(format!("syntax error at or near \"{}\"", rest.token)));
    }
    Ok(ParsedStatement::Sql(Box::new(stmt)))
}

/// Postgres' reserved key words, including those that may name functions and types: none of them
/// names a table or column unquoted (sqlparser accepts most of them).
const RESERVED: &[&str] = &[
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary", "both",
    "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create", "cross",
    "current_catalog", "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
    "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false", "fetch",
    "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike", "in", "initially", "inner",
    "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left", "like", "limit", "localtime",
    "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps",
    "placing", "primary", "references", "returning", "right", "select", "session_user", "similar", "some",
    "symmetric", "table", "tablesample", "then", "to", "trailing", "true", "union", "unique", "user", "using",
    "variadic", "verbose", "when", "where", "window", "with",
];

fn check_name(ident: &Ident) -> Result<()> {
    if ident.quote_style.is_none() && RESERVED.contains(&ident.value.to_ascii_lowercase().as_str()) {
        return Err(FrontendError::Syntax(format!("syntax error at or near \"{}\"", ident.value)));
    }
    Ok(())
}

/// Only the first part of a qualified name must not be reserved (`public.table` is fine).
fn check_object_name(name: &ObjectName) -> Result<()> {
    match name.0.first().and_then(|p| p.as_ident()) {
        Some(ident) => check_name(ident),
        None => Ok(()),
    }
}

fn reject_reserved_names(stmt: &Statement) -> Result<()> {
    if let ControlFlow::Break(e) = visit_relations(stmt, |name| match check_object_name(name) {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    }) {
        return Err(e);
    }
    match stmt {
        Statement::CreateTable(create) => create.columns.iter().try_for_each(|c| check_name(&c.name)),
        Statement::Drop { names, .. } => names.iter().try_for_each(check_object_name),
        _ => Ok(()),
    }
}

/// RisingWave's `CREATE TABLE ... APPEND ONLY`: accepted, the table is a regular table (every
/// append-only workload runs on it unchanged).
fn strip_append_only(tokens: &mut Vec<TokenWithSpan>) {
    let words: Vec<usize> = (0..tokens.len()).filter(|i| !is_trivia(&tokens[*i].token)).collect();
    let kw = |i: usize| keyword(&tokens[words[i]].token);
    let n = words.len();
    if n >= 4
        && kw(0) == Some(Keyword::CREATE)
        && kw(1) == Some(Keyword::TABLE)
        && matches!(&tokens[words[n - 2]].token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("append"))
        && kw(n - 1) == Some(Keyword::ONLY)
    {
        tokens.truncate(words[n - 2]);
    }
}

/// `struct<a int, b struct<c int, d struct<e int>>>` ends in `>>>`, which the Postgres tokenizer
/// reads as one custom operator; sqlparser closes nested angle brackets from `>` and `>>` only,
/// so a run of three or more `>` becomes single `>` tokens. (Postgres has no such operator.)
fn split_closing_angle_brackets(tokens: &mut Vec<TokenWithSpan>) {
    let is_run = |t: &Token| matches!(t, Token::CustomBinaryOperator(op) if op.len() >= 3 && op.chars().all(|c| c == '>'));
    if !tokens.iter().any(|t| is_run(&t.token)) {
        return;
    }
    let mut out = Vec::with_capacity(tokens.len() + 4);
    for t in tokens.drain(..) {
        if let Token::CustomBinaryOperator(op) = &t.token {
            if is_run(&t.token) {
                out.extend((0..op.len()).map(|_| TokenWithSpan { token: Token::Gt, span: t.span }));
                continue;
            }
        }
        out.push(t);
    }
    *tokens = out;
}

/// RisingWave accepts a comma before the `)` closing the column list of CREATE TABLE / CREATE
/// SOURCE (`CREATE TABLE t (a int, b int,)`); sqlparser does not, so that one comma is dropped.
/// Only the list right after the relation's name counts: a stray comma anywhere else (in
/// `CREATE TABLE t AS SELECT a, FROM s` too) stays a syntax error.
fn strip_trailing_column_comma(tokens: &mut Vec<TokenWithSpan>) {
    let words: Vec<usize> = (0..tokens.len()).filter(|i| !is_trivia(&tokens[*i].token)).collect();
    let kw = |i: usize| words.get(i).and_then(|w| keyword(&tokens[*w].token));
    let is_source = |i: usize| {
        words.get(i).is_some_and(
            |w| matches!(&tokens[*w].token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("source")),
        )
    };
    if kw(0) != Some(Keyword::CREATE) || !(kw(1) == Some(Keyword::TABLE) || is_source(1)) {
        return;
    }
    // The relation's name (`IF NOT EXISTS`, dotted parts) up to the column list's `(`.
    let mut i = 2;
    while words.get(i).is_some_and(|w| matches!(tokens[*w].token, Token::Word(_) | Token::Period)) {
        i += 1;
    }
    if words.get(i).map(|w| &tokens[*w].token) != Some(&Token::LParen) {
        return;
    }
    let mut depth = 0usize;
    for j in i..words.len() {
        match tokens[words[j]].token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    if j > i + 1 && tokens[words[j - 1]].token == Token::Comma {
                        tokens.remove(words[j - 1]);
                    }
                    return;
                }
            }
            _ => {}
        }
    }
}

/// Where RisingWave's `CREATE INDEX ... DISTRIBUTED BY (cols)` travels after parsing: the
/// index's WITH options get `__distributed_by = (cols)` (Postgres has no such clause).
pub const DISTRIBUTED_BY_OPTION: &str = "__distributed_by";

/// Removes a trailing `DISTRIBUTED BY (a, b)` of `CREATE [UNIQUE] INDEX` and returns the columns.
fn strip_distributed_by(tokens: &mut Vec<TokenWithSpan>) -> Result<Option<Vec<Ident>>> {
    let words: Vec<usize> = (0..tokens.len()).filter(|i| !is_trivia(&tokens[*i].token)).collect();
    let kw = |i: usize| words.get(i).and_then(|w| keyword(&tokens[*w].token));
    let index_at = if kw(1) == Some(Keyword::UNIQUE) { 2 } else { 1 };
    if kw(0) != Some(Keyword::CREATE) || kw(index_at) != Some(Keyword::INDEX) {
        return Ok(None);
    }
    let is_distributed =
        |t: &Token| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("distributed"));
    let Some(at) = (0..words.len()).find(|&i| is_distributed(&tokens[words[i]].token) && kw(i + 1) == Some(Keyword::BY))
    else {
        return Ok(None);
    };
    let rest: Vec<&Token> = words[at + 2..].iter().map(|w| &tokens[*w].token).collect();
    let syntax = || FrontendError::Syntax("syntax error in DISTRIBUTED BY: expected (column, ...)".into());
    if rest.first() != Some(&&Token::LParen) || rest.last() != Some(&&Token::RParen) {
        return Err(syntax());
    }
    let mut columns = Vec::new();
    for (i, t) in rest[1..rest.len() - 1].iter().enumerate() {
        match (i % 2, t) {
            (0, Token::Word(w)) => columns.push(match w.quote_style {
                Some(q) => Ident::with_quote(q, w.value.clone()),
                None => Ident::new(w.value.clone()),
            }),
            (1, Token::Comma) => {}
            _ => return Err(syntax()),
        }
    }
    if columns.is_empty() || rest.len() % 2 != 1 {
        return Err(syntax());
    }
    tokens.truncate(words[at]);
    Ok(Some(columns))
}

fn syntax_message(e: &str) -> String {
    let e = e.strip_prefix("sql parser error: ").unwrap_or(e);
    format!("syntax error: {e}")
}

fn keyword(t: &Token) -> Option<Keyword> {
    match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    }
}

fn word_lower(t: &Token) -> Option<String> {
    match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_lowercase()),
        Token::Word(w) => Some(w.value.clone()),
        _ => None,
    }
}

/// The text of a SET value: strings unquoted, identifiers as written, numbers as is.
fn value_text(tokens: &[&Token]) -> Result<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    for t in tokens {
        match t {
            Token::Comma => parts.push(std::mem::take(&mut current)),
            Token::SingleQuotedString(s) => current.push_str(s),
            Token::Word(w) if w.quote_style.is_some() => current.push_str(&format!("\"{}\"", w.value)),
            Token::Word(w) => current.push_str(&w.value),
            Token::Number(n, _) => current.push_str(n),
            Token::Minus => current.push('-'),
            Token::Plus => current.push('+'),
            Token::Period => current.push('.'),
            Token::Div => current.push('/'),
            Token::Colon => current.push(':'),
            other => return Err(FrontendError::Syntax(format!("syntax error at or near \"{other}\""))),
        }
    }
    parts.push(current);
    Ok(parts.join(", "))
}

fn parse_utility(w: &[&Token]) -> Result<Option<UtilityStatement>> {
    let Some(first) = w.first().and_then(|t| keyword(t)) else { return Ok(None) };
    let kw = |i: usize| w.get(i).and_then(|t| keyword(t));
    Ok(Some(match first {
        Keyword::FLUSH if w.len() == 1 => UtilityStatement::Flush,
        Keyword::SHOW => {
            let words = w[1..].iter().map(|t| word_lower(t).unwrap_or_else(|| t.to_string())).collect::<Vec<_>>();
            if words.is_empty() {
                return Err(FrontendError::Syntax("syntax error at end of input".into()));
            }
            UtilityStatement::Show(words)
        }
        Keyword::SET => {
            let mut i = 1;
            if matches!(kw(i), Some(Keyword::SESSION) | Some(Keyword::LOCAL)) {
                i += 1;
            }
            if kw(i) == Some(Keyword::TIME) && kw(i + 1) == Some(Keyword::ZONE) {
                let value = value_text(&w[i + 2..])?;
                UtilityStatement::Set { name: "timezone".into(), value }
            } else if matches!(kw(i), Some(Keyword::TRANSACTION) | Some(Keyword::CHARACTERISTICS)) {
                return Ok(None);
            } else {
                let Some(name) = w.get(i).and_then(|t| word_lower(t)) else { return Ok(None) };
                let mut j = i + 1;
                // Dotted names (`SET a.b = 1`) are custom options; keep the whole name.
                let mut name = name;
                while w.get(j) == Some(&&Token::Period) {
                    let Some(part) = w.get(j + 1).and_then(|t| word_lower(t)) else { return Ok(None) };
                    name = format!("{name}.{part}");
                    j += 2;
                }
                if !(kw(j) == Some(Keyword::TO) || w.get(j) == Some(&&Token::Eq)) {
                    return Err(FrontendError::Syntax(format!("syntax error at or near \"{}\"", w.get(j).map(|t| t.to_string()).unwrap_or_default())));
                }
                let value = value_text(&w[j + 1..])?;
                UtilityStatement::Set { name, value }
            }
        }
        Keyword::RESET => {
            let name = w.get(1).and_then(|t| word_lower(t)).ok_or_else(|| FrontendError::Syntax("syntax error at end of input".into()))?;
            UtilityStatement::Reset(name)
        }
        Keyword::DESCRIBE | Keyword::DESC => {
            let name = w[1..].iter().map(|t| t.to_string()).collect::<String>();
            if name.is_empty() {
                return Err(FrontendError::Syntax("syntax error at end of input".into()));
            }
            UtilityStatement::Describe(name)
        }
        Keyword::ALTER if kw(1) == Some(Keyword::SYSTEM) && kw(2) == Some(Keyword::SET) => {
            let name = w.get(3).and_then(|t| word_lower(t)).ok_or_else(|| FrontendError::Syntax("syntax error at end of input".into()))?;
            if !(kw(4) == Some(Keyword::TO) || w.get(4) == Some(&&Token::Eq)) {
                return Err(FrontendError::Syntax("syntax error: expected TO or =".into()));
            }
            UtilityStatement::AlterSystemSet { name, value: value_text(&w[5..])? }
        }
        Keyword::BEGIN | Keyword::START => UtilityStatement::Begin,
        Keyword::COMMIT | Keyword::END => UtilityStatement::Commit,
        Keyword::ROLLBACK | Keyword::ABORT => UtilityStatement::Rollback,
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utility(sql: &str) -> UtilityStatement {
        match parse_statements(sql).unwrap().remove(0) {
            ParsedStatement::Utility(u) => u,
            other => panic!("not a utility statement: {other:?}"),
        }
    }

    #[test]
    fn splits_and_parses() {
        let stmts = parse_statements("select 1; select ';'; ; flush;").unwrap();
        assert_eq!(stmts.len(), 3);
        assert!(matches!(stmts[2], ParsedStatement::Utility(UtilityStatement::Flush)));
        assert!(parse_statements("select 1; selec 2").is_err());
        assert!(parse_statements("").unwrap().is_empty());
    }

    #[test]
    fn utilities() {
        assert_eq!(utility("SET RW_IMPLICIT_FLUSH TO true"), UtilityStatement::Set { name: "rw_implicit_flush".into(), value: "true".into() });
        assert_eq!(utility("set time zone 'Asia/Shanghai'"), UtilityStatement::Set { name: "timezone".into(), value: "Asia/Shanghai".into() });
        assert_eq!(utility("SET search_path = a, \"B\""), UtilityStatement::Set { name: "search_path".into(), value: "a, \"B\"".into() });
        assert_eq!(utility("SET statement_timeout = 100"), UtilityStatement::Set { name: "statement_timeout".into(), value: "100".into() });
        assert_eq!(utility("show TABLES"), UtilityStatement::Show(vec!["tables".into()]));
        assert_eq!(utility("ALTER SYSTEM SET barrier_interval_ms = 100"), UtilityStatement::AlterSystemSet { name: "barrier_interval_ms".into(), value: "100".into() });
        assert!(parse_statements("set x").is_err());
        let ParsedStatement::Sql(s) = parse_statements("create table t1 (k int) append only").unwrap().remove(0) else {
            panic!("not sql")
        };
        assert_eq!(s.to_string(), "CREATE TABLE t1 (k INT)");
    }

    #[test]
    fn trailing_comma_in_column_list() {
        let sql = |q: &str| match parse_statements(q).unwrap().remove(0) {
            ParsedStatement::Sql(s) => s.to_string(),
            other => panic!("not sql: {other:?}"),
        };
        assert_eq!(sql("CREATE TABLE t (a int, b int,)"), "CREATE TABLE t (a INT, b INT)");
        assert_eq!(
            sql("create table if not exists s.t (a int, b numeric(10, 2) ,\n) append only"),
            "CREATE TABLE IF NOT EXISTS s.t (a INT, b NUMERIC(10,2))"
        );
        // Only the column list of CREATE TABLE / CREATE SOURCE.
        assert!(parse_statements("SELECT a, FROM t").is_err());
        assert!(parse_statements("SELECT f(a,) FROM t").is_err());
        assert!(parse_statements("INSERT INTO t (a, b,) VALUES (1, 2)").is_err());
        assert!(parse_statements("CREATE TABLE t (a int,, )").is_err());
        assert!(parse_statements("CREATE TABLE t AS SELECT a, FROM s").is_err());
        assert!(parse_statements("CREATE TABLE t (a int, b numeric(10, 2,))").is_err());
    }

    #[test]
    fn reserved_names() {
        let err = |sql: &str| parse_statements(sql).map(|_| ()).unwrap_err().to_string();
        assert_eq!(err("CREATE TABLE table (v int)"), "syntax error at or near \"table\"");
        assert_eq!(err("create table t (user int)"), "syntax error at or near \"user\"");
        assert_eq!(err("DROP TABLE Table"), "syntax error at or near \"Table\"");
        assert!(parse_statements("CREATE TABLE \"table\" (\"user\" int)").is_ok());
        assert!(parse_statements("SELECT * FROM public.table").is_ok());
        assert!(parse_statements("SELECT 1 AS select").is_ok());
    }
}
