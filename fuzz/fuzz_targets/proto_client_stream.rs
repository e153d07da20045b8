//! Fuzz target: the client-to-server message stream (normal phase) as rfb-proto parses it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_proto::fuzzing::client_stream(data));
