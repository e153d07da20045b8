//! Fuzz target: a stream of TRLE rectangles decoded by rfb-codec.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing_zlib::decode_trle(data));
