use std::path::PathBuf;

/// Every failure the core reports. The variants map to the CLI's exit codes:
/// `InvalidArgument` and `InvalidOption` are usage errors, `Io` and `Data` are data errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Data { path: PathBuf, message: String },
    #[error("{0}")]
    InvalidArgument(String),
    /// An option refused by its declaration or its rule (see `options`).
    #[error(transparent)]
    InvalidOption(#[from] crate::options::OptionError),
    #[error("training was aborted")]
    Aborted,
    /// A buffer that memory could not hold (see `memory.rs`).
    #[error("out of memory: {0}")]
    OutOfMemory(String),
    #[error("training diverged: {0}")]
    Diverged(String),
    /// A broken invariant of this crate: a bug, not a user error.
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Data { path: path.into(), message: message.into() }
    }
}
