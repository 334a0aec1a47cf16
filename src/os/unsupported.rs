//! Targets this crate has no implementation for yet. Every call returns
//! [`Error::Unsupported`] with no system call, rather than silently doing
//! nothing on hardware that may need maintenance.

use crate::range::CodeRange;
use crate::{CacheGeometry, Error, FlushMechanism};

const UNSUPPORTED: Error = Error::Unsupported {
    syscall: None,
    errno: 0,
};

pub(crate) unsafe fn clear_cache(_range: CodeRange) -> Result<(), Error> {
    Err(UNSUPPORTED)
}

pub(crate) fn pipeline_flush_mt() -> Result<(), Error> {
    Err(UNSUPPORTED)
}

pub(crate) fn flush_mechanism() -> Result<FlushMechanism, Error> {
    Err(UNSUPPORTED)
}

pub(crate) fn cache_geometry() -> Option<CacheGeometry> {
    None
}
