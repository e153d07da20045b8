//! Fuzz target: rfb-codec's JPEG encoder gives the same stream on every kernel, and it
//! decodes to an image of the right size.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_codec::fuzzing_tight::roundtrip_jpeg(data));
