//! Fuzz target: rfb-codec's TRLE encoder then decoder must give the pixels back.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing_zlib::roundtrip_trle(data));
