//! Fuzz target: Cursor, X Cursor and Cursor With Alpha pseudo-rectangles decoded by rfb-codec.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing::decode_cursor(data));
