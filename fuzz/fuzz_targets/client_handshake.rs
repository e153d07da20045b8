//! Fuzz target: the bytes a server sends during the handshake, fed to rfb-client's connection.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_client::fuzzing::handshake(data));
