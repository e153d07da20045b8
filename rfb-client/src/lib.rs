//! rfb-client
