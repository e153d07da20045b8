//! RFB pixel formats, regions, encoders and decoders, sans-IO.
//!
//! # Design overview
//!
//! This crate does no IO. It holds:
//!
//! - [`Framebuffer`]: an owned pixel buffer in one [`PixelFormat`], and [`PixelView`], a
//!   borrowed strided view of a rectangle of one;
//! - encoders ([`RectEncoder`]): each appends one rectangle's payload to a
//!   [`bytes::BytesMut`] and never sees a connection; stateful ones (zlib streams) keep
//!   their state in `self`, one instance per connection;
//! - decoders ([`RectDecoder`]) in two phases: [`RectDecoder::frame`] finds how long a
//!   rectangle's payload is (serial, cheap, bounded), [`RectDecoder::decode`] paints a
//!   complete payload into a [`Framebuffer`] after checking the rectangle against it;
//! - [`CodecError`], sorted like `rfb_proto::Error`, and [`CodecLimits`].
//!
//! Around them:
//!
//! - [`Region`] ([`region`]): sets of pixels as non-overlapping rectangles (damage,
//!   pending updates), with union, intersection, subtraction and translation;
//! - [`pixel`]: pixel values, [`Palette`]s for colour-map clients, the
//!   [`ColourPreset`]s support tools offer, and [`Translator`], which converts between
//!   any two valid pixel formats with SIMD kernels (SSE2/AVX2, chosen at run time) for
//!   the common cases and scalar twins for the rest;
//! - one module per encoding, each with its encoder and decoder: [`raw`],
//!   [`copy_rect`], [`rre`] (RRE and CoRRE), [`hextile`], and the zlib family;
//! - pseudo-encoding payloads: [`cursor`] (Cursor, X Cursor, Cursor With Alpha) and
//!   [`pseudo`] (DesktopSize, LastRect, PointerPos, DesktopName, ExtendedDesktopSize).
//!
//! Decoders treat every byte as hostile: counts and lengths are checked against
//! [`CodecLimits`] while framing, before anything is allocated, and every rectangle and
//! sub-rectangle is checked against the framebuffer, rectangle or tile before a pixel is
//! written. The decoders of [`raw`], [`copy_rect`], [`rre`] and [`hextile`] validate a
//! whole payload before painting, so a refused payload paints nothing.

pub mod copy_rect;
pub mod cursor;
pub mod error;
pub mod framebuffer;
pub mod hextile;
pub mod pixel;
pub mod pseudo;
pub mod raw;
pub mod region;
pub mod rre;

pub mod damage;
pub mod inflate;
pub mod jpeg;
pub mod planner;
pub mod tight;
pub mod trle;
pub mod zlib;
pub mod zrle;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing_tight;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing_zlib;

pub use error::CodecError;
pub use framebuffer::{Framebuffer, PixelView};
pub use pixel::{ColourPreset, Palette, Translator};
pub use region::Region;
pub use rfb_proto::{PixelFormat, Rect};

use bytes::BytesMut;
use rfb_proto::{Encoding, Progress};

/// Bounds a decoder respects on hostile input.
///
/// Every decoder checks counts and lengths against these while framing, before it
/// allocates or waits for anything.
///
/// ```
/// use rfb_codec::{rre::RreDecoder, CodecError, CodecLimits, PixelFormat, Rect, RectDecoder};
/// let limits = CodecLimits { max_subrects: 100, ..CodecLimits::default() };
/// let header = [0, 0, 1, 0]; // 256 sub-rectangles
/// let err = RreDecoder.frame(Rect::new(0, 0, 8, 8), &PixelFormat::RGB888, &header, &limits);
/// assert!(matches!(err, Err(CodecError::LimitExceeded { requested: 256, .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecLimits {
    /// Largest payload of one rectangle, in bytes, that a decoder will wait for
    /// (compressed length prefixes above it are refused). Default 64 MiB.
    pub max_payload: u32,
    /// Most sub-rectangles one RRE/CoRRE rectangle may declare. Default 1 << 20.
    pub max_subrects: u32,
}

impl Default for CodecLimits {
    fn default() -> Self {
        CodecLimits {
            max_payload: 64 << 20,
            max_subrects: 1 << 20,
        }
    }
}

/// Encodes rectangles in one wire encoding.
///
/// The pixels handed in are already in the client's wire pixel format
/// (`pixels.format()`); the encoder appends the rectangle's payload (not the 12-byte
/// rectangle header) to `out`.
pub trait RectEncoder {
    /// The encoding number written in the rectangle header.
    fn encoding(&self) -> Encoding;

    /// Appends the payload for `pixels` to `out`.
    fn encode(&mut self, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError>;
}

/// Decodes rectangles of one wire encoding, in two phases.
pub trait RectDecoder {
    /// The encoding this decoder handles.
    fn encoding(&self) -> Encoding;

    /// Phase 1: how many payload bytes, starting at `buf[0]`, the rectangle `rect` of
    /// this encoding takes, or how many are needed at least. Must not change decoder state
    /// that [`RectDecoder::decode`] depends on, and must be bounded by `limits`.
    fn frame(
        &mut self,
        rect: Rect,
        format: &PixelFormat,
        buf: &[u8],
        limits: &CodecLimits,
    ) -> Result<Progress<()>, CodecError>;

    /// Phase 2: paints the complete `payload` of `rect` into `fb` (whose format is the
    /// wire format). Checks `rect` against the framebuffer before writing any pixel.
    fn decode(
        &mut self,
        rect: Rect,
        payload: &[u8],
        fb: &mut Framebuffer,
        limits: &CodecLimits,
    ) -> Result<(), CodecError>;
}
