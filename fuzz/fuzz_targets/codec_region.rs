//! Fuzz target: Region union/intersect/subtract identities.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing::region(data));
