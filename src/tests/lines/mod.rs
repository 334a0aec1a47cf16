pub(crate) use crate::plan::Op;

mod naive;
mod prop;
