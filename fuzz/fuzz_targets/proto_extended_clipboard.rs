//! Fuzz target: Extended Clipboard messages (caps/request/peek/notify/provide) as rfb-proto parses them.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_proto::fuzzing::extended_clipboard(data));
