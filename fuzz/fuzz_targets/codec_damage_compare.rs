//! Fuzz target: damage compare kernels agree with slice equality; refined damage replays to the new frame.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing_tight::damage_compare(data));
