//! Tests that check every implementation against a naive reference model,
//! after `memchr`'s `src/tests/`.

mod lines;
