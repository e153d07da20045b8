//! rfb-server
