//! Fuzz target: the bytes a client sends during the handshake, fed to rfb-server's connection.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_server::fuzzing::handshake(data));
