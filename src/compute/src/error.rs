use thiserror::Error;
use tributary_common::CommonError;
use tributary_storage::StorageError;

pub type ComputeResult<T> = std::result::Result<T, ComputeError>;

#[derive(Debug, Error)]
pub enum ComputeError {
    #[error("table {0} does not exist on this compute node")]
    TableNotFound(u32),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error(transparent)]
    Common(#[from] CommonError),
    #[error("state store: {0}")]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("meta: {0}")]
    Meta(String),
    #[error("streaming: {0}")]
    Stream(String),
    #[error("{0}")]
    NotSupported(String),
}

impl From<crate::stream::StreamError> for ComputeError {
    fn from(e: crate::stream::StreamError) -> Self {
        match e {
            crate::stream::StreamError::NotSupported(_) => ComputeError::NotSupported(e.to_string()),
            e => ComputeError::Stream(e.to_string()),
        }
    }
}

impl From<ComputeError> for tonic::Status {
    fn from(e: ComputeError) -> Self {
        let code = match &e {
            ComputeError::TableNotFound(_) => tonic::Code::NotFound,
            ComputeError::InvalidRequest(_) | ComputeError::Common(_) | ComputeError::Arrow(_) => {
                tonic::Code::InvalidArgument
            }
            ComputeError::Storage(_) | ComputeError::Meta(_) | ComputeError::Stream(_) => tonic::Code::Internal,
            ComputeError::NotSupported(_) => tonic::Code::Unimplemented,
        };
        tonic::Status::new(code, e.to_string())
    }
}
