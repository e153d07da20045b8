//! Configurable bounds on what a peer may make us allocate or process.

use std::fmt;

/// Bounds that every parser in this crate respects.
///
/// A peer that asks for more than a limit gets
/// [`Error::LimitExceeded`](crate::Error::LimitExceeded) *before* anything is allocated
/// for it. Both sides (server and client) use the same struct; each field says who reads
/// it. The defaults suit an interactive desktop session; raise them consciously.
///
/// ```
/// let limits = rfb_proto::Limits { max_cut_text: 1 << 20, ..Default::default() };
/// assert_eq!(limits.max_encodings, rfb_proto::Limits::default().max_encodings);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest cut text (clipboard) message body, in bytes, either direction; also the
    /// cap on an ExtendedClipboard message body. Default 16 MiB.
    pub max_cut_text: u32,
    /// Most encodings in one SetEncodings (read by the server). Default 1024.
    pub max_encodings: u16,
    /// Most entries in one SetColourMapEntries (read by the client). Default 65536
    /// (everything the 16-bit count can express beyond index 0).
    pub max_colour_map_entries: u32,
    /// Widest framebuffer accepted from ServerInit, DesktopSize and ExtendedDesktopSize,
    /// and in SetDesktopSize. Default 16384.
    pub max_framebuffer_width: u16,
    /// Tallest framebuffer, as above. Default 16384.
    pub max_framebuffer_height: u16,
    /// Most rectangles in one FramebufferUpdate, including updates ended by LastRect
    /// (read by the client). Default 65536.
    pub max_rects_per_update: u32,
    /// Longest desktop name (ServerInit, DesktopName) in bytes. Default 4096.
    pub max_desktop_name: u32,
    /// Longest failure reason string (version 3.3/3.7 connection failure, SecurityResult),
    /// in bytes. Default 4096.
    pub max_reason: u32,
    /// Most screens in a SetDesktopSize or ExtendedDesktopSize layout. Default 64.
    pub max_screens: u8,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_cut_text: 16 << 20,
            max_encodings: 1024,
            max_colour_map_entries: 65536,
            max_framebuffer_width: 16384,
            max_framebuffer_height: 16384,
            max_rects_per_update: 65536,
            max_desktop_name: 4096,
            max_reason: 4096,
            max_screens: 64,
        }
    }
}

/// Names one field of [`Limits`], for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::max_cut_text`].
    CutText,
    /// [`Limits::max_encodings`].
    Encodings,
    /// [`Limits::max_colour_map_entries`].
    ColourMapEntries,
    /// [`Limits::max_framebuffer_width`].
    FramebufferWidth,
    /// [`Limits::max_framebuffer_height`].
    FramebufferHeight,
    /// [`Limits::max_rects_per_update`].
    RectsPerUpdate,
    /// [`Limits::max_desktop_name`].
    DesktopName,
    /// [`Limits::max_reason`].
    Reason,
    /// [`Limits::max_screens`].
    Screens,
    /// A limit of a codec or connection built on this crate.
    Other(&'static str),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::CutText => "cut text length",
            Limit::Encodings => "number of encodings",
            Limit::ColourMapEntries => "colour map entries",
            Limit::FramebufferWidth => "framebuffer width",
            Limit::FramebufferHeight => "framebuffer height",
            Limit::RectsPerUpdate => "rectangles per update",
            Limit::DesktopName => "desktop name length",
            Limit::Reason => "reason string length",
            Limit::Screens => "number of screens",
            Limit::Other(s) => s,
        })
    }
}
