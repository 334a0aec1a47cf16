//! Linux and Android on AArch64: `DC CVAU`/`IC IVAU` by line with the
//! geometry from `CTR_EL0` (read once; [`crate::os::ctr_el0`]), and
//! `membarrier` across threads.

pub(crate) use crate::os::ctr_el0::*;
pub(crate) use crate::os::membarrier::{
    flush_mechanism_counted, flush_mechanism_peek, pipeline_flush_mt,
};
