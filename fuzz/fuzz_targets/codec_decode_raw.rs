//! Fuzz target: Raw rectangles framed and decoded by rfb-codec (format, framebuffer and rectangle from the first 7 bytes).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing::decode_raw(data));
