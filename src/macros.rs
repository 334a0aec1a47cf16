//! The crate's one macro: `cfg_table!`, which compiles the first branch
//! whose `cfg` holds and none of the others (the pattern of the `cfg-if`
//! crate, which this crate does not depend on). The backend table in
//! `os/mod.rs` and the per-architecture table in `arch/mod.rs` use it, so
//! that no list of `cfg`s is repeated to express "none of the above".

macro_rules! cfg_table {
    ($(if #[cfg($m:meta)] { $($i:item)* }) else+ else { $($e:item)* }) => {
        cfg_table! { @rows () ; $( ( ($m) ($($i)*) ), )+ ( () ($($e)*) ), }
    };
    (@rows ($($not:meta,)*) ; ) => {};
    (@rows ($($not:meta,)*) ; ( ($($m:meta),*) ($($i:item)*) ), $($rest:tt,)*) => {
        cfg_table! { @emit (all($($m,)* not(any($($not),*)))) $($i)* }
        cfg_table! { @rows ($($not,)* $($m,)*) ; $($rest,)* }
    };
    (@emit ($m:meta) $($i:item)*) => { $(#[cfg($m)] $i)* };
}
