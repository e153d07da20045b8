//! Fuzz target: a client's normal-phase bytes fed to a connected rfb-server connection with a Session encoding updates.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_server::fuzzing::normal_phase(data));
