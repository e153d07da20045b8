//! Codec errors, sorted by who is at fault.
//!
//! - The peer sent bad bytes: [`CodecError::Malformed`] (grammar),
//!   [`CodecError::OutOfBounds`] (a rectangle or sub-rectangle outside its bounds),
//!   [`CodecError::Inflate`] (a compressed stream that does not inflate to what the
//!   rectangle needs), and [`CodecError::Proto`] for errors from `rfb-proto`.
//! - The peer asked for more than we allow: [`CodecError::LimitExceeded`] (see
//!   [`CodecLimits`](crate::CodecLimits)).
//! - The peers are incompatible: [`CodecError::UnsupportedFormat`].
//! - Our own caller made a mistake: [`CodecError::ApiMisuse`].

/// An error from an encoder or decoder.
///
/// ```
/// use rfb_codec::{raw::RawDecoder, CodecError, CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder};
/// let mut fb = Framebuffer::new(4, 4, PixelFormat::RGB332);
/// let err = RawDecoder.decode(Rect::new(3, 3, 2, 2), &[0; 4], &mut fb, &CodecLimits::default());
/// assert!(matches!(err, Err(CodecError::OutOfBounds { bound_width: 4, .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A protocol-level error (malformed header, limit, ...).
    #[error(transparent)]
    Proto(#[from] rfb_proto::Error),
    /// The payload does not follow the encoding's grammar.
    #[error("malformed {encoding} data: {what}")]
    Malformed {
        /// Encoding name.
        encoding: &'static str,
        /// What was wrong.
        what: String,
    },
    /// A rectangle (or sub-rectangle) outside the framebuffer or its parent rectangle.
    #[error("{what} {x},{y} {width}x{height} is outside {bound_width}x{bound_height}")]
    OutOfBounds {
        /// What was out of bounds.
        what: &'static str,
        /// Left edge.
        x: u32,
        /// Top edge.
        y: u32,
        /// Width.
        width: u32,
        /// Height.
        height: u32,
        /// Width of the bounding area.
        bound_width: u32,
        /// Height of the bounding area.
        bound_height: u32,
    },
    /// A compressed stream inflated to more (or fewer) bytes than the rectangle needs.
    #[error("{encoding} zlib stream: {what}")]
    Inflate {
        /// Encoding name.
        encoding: &'static str,
        /// What was wrong.
        what: String,
    },
    /// A length, count or size beyond [`CodecLimits`](crate::CodecLimits).
    #[error("{what}: {requested} requested, at most {allowed} allowed")]
    LimitExceeded {
        /// Which limit.
        what: &'static str,
        /// What was asked for.
        requested: u64,
        /// What is allowed.
        allowed: u64,
    },
    /// The pixel format cannot be used with this encoding.
    #[error("{encoding} cannot use this pixel format: {why}")]
    UnsupportedFormat {
        /// Encoding name.
        encoding: &'static str,
        /// Why.
        why: &'static str,
    },
    /// The caller handed an encoder something it cannot encode (a bug in the caller,
    /// not in the peer): e.g. a CoRRE rectangle wider than 255 pixels.
    #[error("API misuse: {what}")]
    ApiMisuse {
        /// What was wrong.
        what: String,
    },
}
