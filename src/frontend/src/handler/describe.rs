//! Describing a prepared statement (extended protocol): the types of its parameters and the
//! columns it returns, found by planning it without running it.

use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement;
use pgwire::api::Type;
use tributary_common::types::DataType;

use super::parse::{ParsedStatement, UtilityStatement};
use super::query::prepare_output_names;
use super::{dml, utility, FrontendEnv, StatementResult};
use crate::error::Result;
use crate::session::Session;

pub struct Described {
    pub params: Vec<DataType>,
    pub schema: Option<SchemaRef>,
}

/// Our type of a Postgres type OID a client declared for a parameter.
pub fn datatype_of_oid(oid: u32) -> Option<DataType> {
    let scalar = |o: u32| -> Option<DataType> {
        Some(match o {
            16 => DataType::Boolean,
            21 => DataType::Int16,
            23 | 26 => DataType::Int32,
            20 => DataType::Int64,
            700 => DataType::Float32,
            701 => DataType::Float64,
            1700 => DataType::Decimal { precision: None, scale: None },
            25 | 1043 | 1042 | 19 | 705 => DataType::Varchar,
            17 => DataType::Bytea,
            1082 => DataType::Date,
            1083 => DataType::Time,
            1114 => DataType::Timestamp,
            1184 => DataType::Timestamptz,
            1186 => DataType::Interval,
            3802 | 114 => DataType::Jsonb,
            _ => return None,
        })
    };
    let array_elem = match oid {
        1000 => Some(16),
        1005 => Some(21),
        1007 => Some(23),
        1016 => Some(20),
        1021 => Some(700),
        1022 => Some(701),
        1231 => Some(1700),
        1009 | 1015 => Some(25),
        1001 => Some(17),
        1182 => Some(1082),
        1183 => Some(1083),
        1115 => Some(1114),
        1185 => Some(1184),
        1187 => Some(1186),
        3807 => Some(3802),
        _ => None,
    };
    match array_elem {
        Some(e) => scalar(e).map(|t| DataType::List(Box::new(t))),
        None => scalar(oid),
    }
}

fn param_types(plan: &LogicalPlan) -> Result<Vec<DataType>> {
    let types = plan.get_parameter_types()?;
    let mut out = Vec::new();
    for i in 1..=types.len() {
        let t = types.get(&format!("${i}")).cloned().flatten();
        out.push(t.and_then(|t| DataType::from_arrow(&t).ok()).unwrap_or(DataType::Varchar));
    }
    Ok(out)
}

pub async fn describe(
    env: &FrontendEnv,
    session: &Session,
    stmt: &ParsedStatement,
    _client_types: &[Option<Type>],
) -> Result<Described> {
    match stmt {
        ParsedStatement::Utility(u @ (UtilityStatement::Show(_) | UtilityStatement::Describe(_))) => {
            // SHOW and DESCRIBE have no side effects: run them to learn their columns.
            let mut copy = Session::new(session.database.clone(), session.user.clone());
            copy.min_epoch = session.min_epoch;
            let schema = match utility::handle(env, &mut copy, u.clone()).await {
                Ok(StatementResult::Rows { schema, .. }) => Some(schema),
                _ => None,
            };
            Ok(Described { params: vec![], schema })
        }
        ParsedStatement::Utility(_) => Ok(Described { params: vec![], schema: None }),
        ParsedStatement::Sql(stmt) => {
            let mut stmt = stmt.clone();
            crate::planner::rewrite::rewrite(&mut stmt)?;
            super::inline_functions(env, session, &mut stmt)?;
            describe_sql(env, session, stmt).await
        }
    }
}

async fn describe_sql(env: &FrontendEnv, session: &Session, stmt: Box<Statement>) -> Result<Described> {
        match stmt.as_ref() {
            Statement::Query(q) => {
                let mut q = q.clone();
                let names = prepare_output_names(&mut q);
                let ctx = env.planning_context(session, false)?;
                let state = ctx.session_state();
                let plan = state.statement_to_plan(DfStatement::Statement(Box::new(Statement::Query(q)))).await?;
    let plan = tributary_expr::pg::rewrite_plan(plan)?;
                let mut schema = plan.schema().as_arrow().clone();
                if let Some(names) = names.filter(|n| n.len() == schema.fields().len()) {
                    let fields: Vec<_> = schema
                        .fields()
                        .iter()
                        .zip(names)
                        .map(|(f, n)| match n {
                            Some(n) => f.as_ref().clone().with_name(n),
                            None => f.as_ref().clone(),
                        })
                        .collect();
                    schema = Schema::new(fields);
                }
                Ok(Described { params: param_types(&plan)?, schema: Some(Arc::new(schema)) })
            }
            Statement::Insert(insert) => {
                let mut insert = insert.clone();
                let returning = insert.returning.take();
                let ctx = env.planning_context(session, false)?;
                let state = ctx.session_state();
                let plan = state.statement_to_plan(DfStatement::Statement(Box::new(Statement::Insert(insert.clone())))).await?;
                let schema = match returning {
                    Some(items) => Some(dml::returning_schema(env, session, &insert.table.to_string(), &items).await?),
                    None => None,
                };
                Ok(Described { params: param_types(&plan)?, schema })
            }
            Statement::Update(u) => {
                let params = dml::param_types(env, session, &stmt).await?;
                let schema = match &u.returning {
                    Some(items) => Some(dml::returning_schema(env, session, &u.table.relation.to_string(), items).await?),
                    None => None,
                };
                Ok(Described { params, schema })
            }
            Statement::Delete(d) => {
                let params = dml::param_types(env, session, &stmt).await?;
                let schema = match (&d.returning, d.tables.first()) {
                    (Some(items), _) => {
                        let from = match &d.from {
                            datafusion::sql::sqlparser::ast::FromTable::WithFromKeyword(f)
                            | datafusion::sql::sqlparser::ast::FromTable::WithoutKeyword(f) => f,
                        };
                        let name = from.first().map(|t| t.relation.to_string()).unwrap_or_default();
                        Some(dml::returning_schema(env, session, &name, items).await?)
                    }
                    _ => None,
                };
                Ok(Described { params, schema })
            }
            // EXPLAIN answers one text line per row.
            Statement::Explain { .. } => Ok(Described {
                params: vec![],
                schema: Some(Arc::new(Schema::new(vec![arrow::datatypes::Field::new(
                    "QUERY PLAN",
                    arrow::datatypes::DataType::Utf8,
                    false,
                )]))),
            }),
            _ => Ok(Described { params: vec![], schema: None }),
        }
}
