//! How SQL type names map to Arrow types, where Tributary's mapping (see
//! `tributary_common::types`) differs from DataFusion's default: timestamps and times in
//! microseconds, timestamptz as UTC instants, jsonb as `LargeUtf8`.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use datafusion::error::Result;
use datafusion::logical_expr::planner::TypePlanner;
use datafusion::sql::sqlparser::ast::{self, ArrayElemTypeDef, TimezoneInfo};
use tributary_common::types::TIMESTAMPTZ_ARROW_TZ;

use crate::jsonb::planner::JsonbTypePlanner;

/// The session's one type planner.
#[derive(Debug, Default)]
pub struct PgTypePlanner;

fn arrow_type(t: &ast::DataType) -> Option<DataType> {
    Some(match t {
        ast::DataType::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) | ast::DataType::TimestampNtz(_) => {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        }
        ast::DataType::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) => {
            DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(TIMESTAMPTZ_ARROW_TZ)))
        }
        ast::DataType::Time(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => DataType::Time64(TimeUnit::Microsecond),
        ast::DataType::Custom(name, args) if args.is_empty() && name.to_string().eq_ignore_ascii_case("timestamptz") => {
            DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(TIMESTAMPTZ_ARROW_TZ)))
        }
        ast::DataType::Array(ArrayElemTypeDef::SquareBracket(inner, _) | ArrayElemTypeDef::AngleBracket(inner)) => {
            DataType::List(Arc::new(Field::new("item", arrow_type(inner)?, true)))
        }
        _ => return None,
    })
}

impl TypePlanner for PgTypePlanner {
    fn plan_type_field(&self, sql_type: &ast::DataType) -> Result<Option<FieldRef>> {
        if let Some(f) = JsonbTypePlanner.plan_type_field(sql_type)? {
            return Ok(Some(f));
        }
        Ok(arrow_type(sql_type).map(|t| Arc::new(Field::new("", t, true))))
    }
}
