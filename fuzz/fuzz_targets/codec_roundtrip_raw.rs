//! Fuzz target: rfb-codec's Raw encoder then decoder must give the pixels back.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing::roundtrip_raw(data));
