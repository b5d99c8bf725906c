use thiserror::Error;

pub type Result<T, E = CommonError> = std::result::Result<T, E>;

/// Errors of the shared layer (type mapping, encodings, config).
#[derive(Debug, Error)]
pub enum CommonError {
    #[error("feature not supported: {0}")]
    NotSupported(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("encoding error: {0}")]
    Encoding(String),
    #[error("config error: {0}")]
    Config(String),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
}
