//! Shared helpers for the example programs: blocking drivers that move bytes between a
//! `std::net::TcpStream` and the sans-IO connections, and a deterministic test pattern.
//!
//! These drivers are deliberately small; they show the polling order the connection
//! types document.

pub mod blocking;
pub mod demo;
pub mod pattern;
pub mod replay;
pub mod viewer;
pub mod x11;
