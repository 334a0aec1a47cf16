//! What [`init`](crate::init) did.

use core::fmt;

use crate::{CacheGeometry, FlushMechanism, FlushPolicy};

/// What [`init`](crate::init) or [`init_with`](crate::init_with) set up
/// for this process. `Display` prints it as a few lines for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Report {
    /// The policy in force.
    pub policy: FlushPolicy,
    /// The mechanism [`pipeline_flush_mt`](crate::pipeline_flush_mt) uses.
    pub mechanism: FlushMechanism,
    /// The cache geometry [`clear_cache`](crate::clear_cache) uses, as
    /// [`cache_geometry`](crate::cache_geometry) returns it.
    pub geometry: Option<CacheGeometry>,
    /// The system calls this call made to probe and register the mechanism
    /// (`membarrier`, and on riscv64 Linux the prctl): 0 when an earlier
    /// call or flush had already done it. The geometry probe's own call
    /// (riscv64 Linux: one `riscv_hwprobe`, once per process) is not
    /// counted.
    pub syscalls: u32,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "policy:    {}", self.policy)?;
        writeln!(f, "mechanism: {}", self.mechanism)?;
        match self.geometry {
            Some(g) => writeln!(f, "geometry:  {g:?}")?,
            None => writeln!(f, "geometry:  none (this platform reports none)")?,
        }
        write!(f, "syscalls:  {}", self.syscalls)
    }
}
