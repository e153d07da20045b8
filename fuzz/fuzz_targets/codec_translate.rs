//! Fuzz target: pixel translation: every SIMD kernel must agree with the scalar one.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing::translate(data));
