use thiserror::Error;

use crate::store::MetaStoreError;

pub type MetaResult<T> = std::result::Result<T, MetaError>;

/// Errors of the meta server; each maps to a gRPC status whose message a frontend shows the user.
#[derive(Debug, Error)]
pub enum MetaError {
    #[error("{kind} \"{name}\" already exists")]
    AlreadyExists { kind: &'static str, name: String },
    #[error("{kind} \"{name}\" does not exist")]
    NotFound { kind: &'static str, name: String },
    #[error("{0}")]
    InvalidInput(String),
    /// Dropping an object others depend on without CASCADE.
    #[error("{0}")]
    DependentObjects(String),
    /// The statement names the wrong kind of relation (`DROP VIEW` of a materialized view).
    #[error("{0}")]
    WrongObjectType(String),
    /// The object is being created or dropped by another statement.
    #[error("{0}")]
    ObjectInUse(String),
    #[error("{0}")]
    NotSupported(String),
    /// The frontend sent a stream plan meta cannot schedule: a bug, not a user error.
    #[error("invalid stream plan: {0}")]
    InvalidPlan(String),
    #[error("no compute node is available")]
    NoComputeNode,
    #[error("compute node {addr} failed: {source}")]
    Compute { addr: String, source: tonic::Status },
    #[error("meta store: {0}")]
    Store(#[from] MetaStoreError),
    #[error("corrupt metadata: {0}")]
    Corrupt(String),
    #[error("barrier failed: {0}")]
    Barrier(String),
    #[error("{0}")]
    Startup(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<MetaError> for tonic::Status {
    fn from(e: MetaError) -> Self {
        // The SQLSTATE travels in the status details so the frontend can show the right code.
        let (code, sqlstate) = match &e {
            MetaError::AlreadyExists { kind, .. } => {
                let code = match *kind {
                    "database" => "42P04",
                    "schema" => "42P06",
                    "function" => "42723",
                    _ => "42P07",
                };
                (tonic::Code::AlreadyExists, code)
            }
            MetaError::NotFound { kind, .. } => {
                let code = match *kind {
                    "database" => "3D000",
                    "schema" => "3F000",
                    "function" => "42883",
                    _ => "42P01",
                };
                (tonic::Code::NotFound, code)
            }
            MetaError::InvalidInput(_) => (tonic::Code::InvalidArgument, "22023"),
            MetaError::DependentObjects(_) => (tonic::Code::FailedPrecondition, "2BP01"),
            MetaError::WrongObjectType(_) => (tonic::Code::InvalidArgument, "42809"),
            MetaError::ObjectInUse(_) => (tonic::Code::FailedPrecondition, "55006"),
            MetaError::NotSupported(_) => (tonic::Code::Unimplemented, "0A000"),
            // A plan the compute node cannot run is the user's unsupported feature.
            MetaError::Compute { source, .. } if source.code() == tonic::Code::Unimplemented => {
                (tonic::Code::Unimplemented, "0A000")
            }
            MetaError::NoComputeNode | MetaError::Compute { .. } | MetaError::Barrier(_) => {
                (tonic::Code::Unavailable, "58000")
            }
            MetaError::Store(_) | MetaError::Corrupt(_) | MetaError::Startup(_) | MetaError::InvalidPlan(_) | MetaError::Internal(_) => {
                (tonic::Code::Internal, "XX000")
            }
        };
        tonic::Status::with_details(code, e.to_string(), bytes_of(sqlstate))
    }
}

fn bytes_of(s: &str) -> tonic::codegen::Bytes {
    tonic::codegen::Bytes::copy_from_slice(s.as_bytes())
}
