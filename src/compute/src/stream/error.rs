use thiserror::Error;
use tributary_common::CommonError;
use tributary_storage::StorageError;

pub type StreamResult<T> = std::result::Result<T, StreamError>;

#[derive(Debug, Error)]
pub enum StreamError {
    #[error("invalid plan: {0}")]
    Plan(String),
    /// A plan this node cannot run (an operator it lacks): the user's feature is unsupported.
    #[error("feature not supported: {0}")]
    NotSupported(String),
    #[error(transparent)]
    Common(#[from] CommonError),
    #[error("state store: {0}")]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("expression: {0}")]
    Expr(#[from] datafusion::error::DataFusionError),
    #[error("channel to actor {0} closed")]
    ChannelClosed(u32),
    #[error("{0}")]
    Internal(String),
}

impl StreamError {
    pub fn plan(msg: impl Into<String>) -> Self {
        StreamError::Plan(msg.into())
    }
}
