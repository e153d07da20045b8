//! Fuzz target: a server's normal-phase bytes fed to a connected rfb-client Viewer, with commands in between.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rfb_client::fuzzing::viewer(data));
