//! rfb-codec
