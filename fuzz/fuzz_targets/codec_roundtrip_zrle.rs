//! Fuzz target: rfb-codec's ZRLE encoder then decoder (two rectangles, one stream) must give the pixels back.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing_zlib::roundtrip_zrle(data));
