//! Test support for running real VNC peers on loopback.
