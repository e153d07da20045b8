//! Fuzz target: a stream of TightPNG rectangles decoded by rfb-codec.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing_tight::decode_tight_png(data));
