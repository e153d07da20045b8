//! Benchmark support for the rfb crates.
