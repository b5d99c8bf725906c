//! A client session: its database and user, session variables (SET/SHOW), and the newest epoch
//! it must read at (after its own FLUSH or implicitly flushed writes).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::{FrontendError, Result};

/// Session variables with their defaults. Names are lower case; the value is what SHOW prints.
const VARIABLES: &[(&str, &str)] = &[
    ("application_name", ""),
    ("batch_enable_distributed_dml", "false"),
    ("batch_parallelism", "0"),
    ("backfill_rate_limit", "-1"),
    ("background_ddl", "false"),
    ("batch_expr_strict_mode", "true"),
    ("bytea_output", "hex"),
    ("client_encoding", "UTF8"),
    ("client_min_messages", "notice"),
    ("datestyle", "ISO, MDY"),
    ("default_transaction_isolation", "read committed"),
    ("enable_two_phase_agg", "true"),
    ("extra_float_digits", "1"),
    ("idle_in_transaction_session_timeout", "0"),
    ("implicit_flush", "false"),
    ("integer_datetimes", "on"),
    ("intervalstyle", "postgres"),
    ("lock_timeout", "0"),
    ("max_identifier_length", "63"),
    ("query_mode", "auto"),
    ("row_security", "off"),
    ("rw_batch_enable_lookup_join", "true"),
    ("rw_force_two_phase_agg", "false"),
    ("rw_implicit_flush", "false"),
    ("rw_streaming_allow_jsonb_in_stream_key", "false"),
    ("rw_streaming_enable_delta_join", "false"),
    ("rw_streaming_over_window_cache_policy", "full"),
    ("search_path", "\"$user\", public"),
    ("server_encoding", "UTF8"),
    ("server_version", "13.14.0"),
    ("server_version_num", "130014"),
    ("standard_conforming_strings", "on"),
    ("statement_timeout", "0"),
    ("streaming_asof_join_use_cache", "true"),
    ("streaming_cache_refill_policy", "default"),
    ("streaming_enable_delta_join", "false"),
    ("streaming_enable_unaligned_join", "false"),
    ("streaming_join_encoding", "memory_optimized"),
    ("streaming_max_parallelism", "256"),
    ("streaming_parallelism", "default"),
    ("streaming_parallelism_for_index", "default"),
    ("streaming_parallelism_for_materialized_view", "default"),
    ("streaming_parallelism_for_sink", "default"),
    ("streaming_parallelism_for_source", "default"),
    ("streaming_parallelism_for_table", "default"),
    ("streaming_use_shared_source", "true"),
    ("synchronize_seqscans", "on"),
    ("timezone", "UTC"),
    ("transaction_isolation", "read committed"),
    ("transaction_read_only", "off"),
    ("upsert_dml", "false"),
    ("visibility_mode", "default"),
];

/// Alternative names of variables.
fn canonical(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "time zone" | "time_zone" => "timezone".into(),
        "rw_implicit_flush" => "implicit_flush".into(),
        "database" => "database".into(),
        _ => lower,
    }
}

pub struct Session {
    pub database: String,
    pub user: String,
    vars: BTreeMap<String, String>,
    /// Reads must be at this epoch or later (the session's own flushed writes).
    pub min_epoch: u64,
    /// The session wrote since its last flush: its next read flushes first, so a session always
    /// reads its own writes without every write waiting for its commit.
    pub unflushed_writes: bool,
}

impl Session {
    pub fn new(database: String, user: String) -> Self {
        let vars = VARIABLES
            .iter()
            .filter(|(n, _)| *n != "rw_implicit_flush")
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        Session { database, user, vars, min_epoch: 0, unflushed_writes: false }
    }

    pub fn get(&self, name: &str) -> Result<String> {
        let name = canonical(name);
        match name.as_str() {
            "database" => return Ok(self.database.clone()),
            "session_user" | "current_user" | "user" => return Ok(self.user.clone()),
            _ => {}
        }
        self.vars
            .get(&name)
            .cloned()
            .ok_or_else(|| FrontendError::sql("42704", format!("unrecognized configuration parameter \"{name}\"")))
    }

    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let name = canonical(name);
        let value = self.check(&name, value)?;
        // RisingWave: forcing two-phase aggregation enables it.
        if name == "rw_force_two_phase_agg" && value == "true" {
            self.vars.insert("enable_two_phase_agg".into(), "true".into());
        }
        self.vars.insert(name, value);
        Ok(())
    }

    /// The value `set(name, value)` would store (validated and normalized), without storing it.
    pub fn check(&self, name: &str, value: &str) -> Result<String> {
        let name = canonical(name);
        let value = self.validate(&name, value)?;
        if !self.vars.contains_key(&name) && !is_custom(&name) {
            return Err(FrontendError::sql("42704", format!("unrecognized configuration parameter \"{name}\"")));
        }
        Ok(value)
    }

    pub fn reset(&mut self, name: &str) -> Result<()> {
        let name = canonical(name);
        let default = self.default_value(&name)?;
        self.vars.insert(name, default);
        Ok(())
    }

    /// What RESET sets a variable to.
    pub fn default_value(&self, name: &str) -> Result<String> {
        let name = canonical(name);
        if is_custom(&name) {
            return Ok(String::new());
        }
        VARIABLES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
            .ok_or_else(|| FrontendError::sql("42704", format!("unrecognized configuration parameter \"{name}\"")))
    }

    /// (name, value) of every variable, for SHOW ALL.
    pub fn all(&self) -> impl Iterator<Item = (&String, &String)> {
        self.vars.iter()
    }

    fn validate(&self, name: &str, value: &str) -> Result<String> {
        let invalid = || FrontendError::sql("22023", format!("invalid value for parameter \"{name}\": \"{value}\""));
        Ok(match name {
            "implicit_flush" | "rw_force_two_phase_agg" | "enable_two_phase_agg" | "background_ddl" | "upsert_dml"
            | "batch_expr_strict_mode" | "rw_batch_enable_lookup_join" | "streaming_enable_delta_join"
            | "rw_streaming_enable_delta_join" | "rw_streaming_allow_jsonb_in_stream_key"
            | "streaming_use_shared_source" | "streaming_asof_join_use_cache" | "streaming_enable_unaligned_join"
            | "batch_enable_distributed_dml" => parse_bool(value).ok_or_else(invalid)?.to_string(),
            "timezone" => {
                let value = value.trim_matches('"');
                if parse_time_zone(value).is_none() {
                    return Err(FrontendError::sql("22023", format!("invalid value for parameter \"TimeZone\": \"{value}\"")));
                }
                value.to_string()
            }
            "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout" => {
                parse_duration_ms(value).ok_or_else(invalid)?.to_string()
            }
            "extra_float_digits" => {
                let n: i32 = value.trim().parse().map_err(|_| invalid())?;
                if !(-15..=3).contains(&n) {
                    return Err(invalid());
                }
                n.to_string()
            }
            "client_encoding" => {
                let v = value.trim().to_ascii_uppercase().replace('-', "");
                if v != "UTF8" && v != "UNICODE" && v != "SQL_ASCII" {
                    return Err(FrontendError::not_supported(format!("client_encoding {value}; only UTF8 is supported")));
                }
                "UTF8".to_string()
            }
            "search_path" => value.to_string(),
            "streaming_parallelism" | "batch_parallelism" | "streaming_max_parallelism" => {
                if value.eq_ignore_ascii_case("default") || value.eq_ignore_ascii_case("adaptive") {
                    value.to_ascii_lowercase()
                } else {
                    value.trim().parse::<u32>().map_err(|_| invalid())?.to_string()
                }
            }
            _ => value.to_string(),
        })
    }

    pub fn implicit_flush(&self) -> bool {
        self.vars.get("implicit_flush").is_some_and(|v| v == "true")
    }

    pub fn statement_timeout(&self) -> Option<Duration> {
        let ms: u64 = self.vars.get("statement_timeout")?.parse().ok()?;
        (ms > 0).then(|| Duration::from_millis(ms))
    }

    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.vars.get("timezone").and_then(|v| parse_time_zone(v)).unwrap_or(chrono_tz::UTC)
    }

    pub fn extra_float_digits(&self) -> i32 {
        self.vars.get("extra_float_digits").and_then(|v| v.parse().ok()).unwrap_or(1)
    }

    /// Schemas of the search path, with `$user` resolved.
    pub fn search_path(&self) -> Vec<String> {
        let raw = self.vars.get("search_path").cloned().unwrap_or_default();
        raw.split(',')
            .map(|s| s.trim().trim_matches('"').trim_matches('\'').to_string())
            .filter(|s| !s.is_empty())
            .map(|s| if s == "$user" { self.user.clone() } else { s })
            .collect()
    }
}

/// Postgres accepts any dotted name (`myapp.user_id`) as a custom option: extensions and
/// applications keep their own settings in the session that way.
fn is_custom(name: &str) -> bool {
    let mut parts = name.split('.');
    name.contains('.') && parts.all(|p| !p.is_empty())
}

pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().trim_matches('\'').to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" | "t" => Some(true),
        "false" | "off" | "no" | "0" | "f" => Some(false),
        _ => None,
    }
}

/// A time zone name as Postgres accepts it (IANA names, UTC, fixed offsets are not handled).
pub fn parse_time_zone(v: &str) -> Option<chrono_tz::Tz> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("utc") || v.eq_ignore_ascii_case("gmt") || v.eq_ignore_ascii_case("z") {
        return Some(chrono_tz::UTC);
    }
    v.parse::<chrono_tz::Tz>().ok().or_else(|| {
        // Case-insensitive match, as Postgres does.
        chrono_tz::TZ_VARIANTS.iter().find(|tz| tz.name().eq_ignore_ascii_case(v)).copied()
    })
}

/// `100`, `100ms`, `5s`, `1min`, `1h` → milliseconds.
fn parse_duration_ms(v: &str) -> Option<u64> {
    let v = v.trim().trim_matches('\'').trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables() {
        let mut s = Session::new("dev".into(), "root".into());
        s.set("RW_IMPLICIT_FLUSH", "true").unwrap();
        assert!(s.implicit_flush());
        assert_eq!(s.get("implicit_flush").unwrap(), "true");
        s.set("statement_timeout", "5s").unwrap();
        assert_eq!(s.statement_timeout(), Some(Duration::from_secs(5)));
        assert!(s.set("timezone", "Mars/Base").is_err());
        s.set("TimeZone", "asia/shanghai").unwrap();
        assert_eq!(s.time_zone(), chrono_tz::Asia::Shanghai);
        assert!(s.get("nope").is_err());
        assert_eq!(s.search_path(), vec!["root".to_string(), "public".to_string()]);
        s.reset("statement_timeout").unwrap();
        assert_eq!(s.statement_timeout(), None);
        assert_eq!(s.check("TimeZone", "utc").unwrap(), "utc");
        assert!(s.check("nope", "1").is_err());
        s.set("myapp.user_id", "42").unwrap();
        assert_eq!(s.get("MyApp.User_Id").unwrap(), "42");
        s.reset("myapp.user_id").unwrap();
        assert_eq!(s.get("myapp.user_id").unwrap(), "");
        assert!(s.set("myapp.", "1").is_err());
    }
}
