use thiserror::Error;

use crate::store::Epoch;

pub type StorageResult<T> = std::result::Result<T, StorageError>;

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("cannot write at epoch {epoch}: epochs up to {sealed} are sealed")]
    EpochSealed { epoch: Epoch, sealed: Epoch },
    #[error("cannot sync epoch {epoch}: only epochs up to {sealed} are sealed")]
    EpochNotSealed { epoch: Epoch, sealed: Epoch },
    /// Versions visible only below the safe epoch may already be garbage collected, so such a
    /// read could silently return wrong data. Long reads must pin their epoch first.
    #[error("cannot read at epoch {epoch}: it is below the safe epoch {safe} and not pinned")]
    EpochExpired { epoch: Epoch, safe: Epoch },
}
