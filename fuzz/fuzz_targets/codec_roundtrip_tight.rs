//! Fuzz target: rfb-codec's lossless Tight encoder then decoder must give the pixels back.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing_tight::roundtrip_tight(data));
