//! Fuzz target: RRE rectangles framed and decoded by rfb-codec.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing::decode_rre(data));
