//! The client's copy of the remote framebuffer, and the decoders that paint it.

use std::collections::HashMap;

use rfb_codec::copy_rect::CopyRectDecoder;
use rfb_codec::hextile::HextileDecoder;
use rfb_codec::pixel::{rgb8, Palette};
use rfb_codec::raw::RawDecoder;
use rfb_codec::rre::{CorreDecoder, RreDecoder};
use rfb_codec::tight::TightDecoder;
use rfb_codec::trle::TrleDecoder;
use rfb_codec::zlib::ZlibDecoder;
use rfb_codec::zrle::ZrleDecoder;
use rfb_codec::{CodecError, CodecLimits, Framebuffer, RectDecoder};
use rfb_proto::{
    BasicFramer, Encoding, Error as ProtoError, Limits, Malformed, PayloadFramer, PixelFormat,
    Progress, Rect, RectHeader,
};

/// Turns a codec error into the protocol error the stream walker reports.
fn proto_error(encoding: Encoding, e: CodecError) -> ProtoError {
    match e {
        CodecError::Proto(p) => p,
        other => Malformed::RectPayload {
            encoding: encoding.0,
            detail: other.to_string(),
        }
        .into(),
    }
}

/// A decoder for every encoding this crate can decode, or `None`.
fn new_decoder(encoding: Encoding) -> Option<Box<dyn RectDecoder + Send>> {
    Some(match encoding {
        Encoding::RAW => Box::new(RawDecoder),
        Encoding::COPY_RECT => Box::new(CopyRectDecoder),
        Encoding::RRE => Box::new(RreDecoder),
        Encoding::CORRE => Box::new(CorreDecoder),
        Encoding::HEXTILE => Box::new(HextileDecoder),
        Encoding::ZLIB => Box::new(ZlibDecoder::new()),
        Encoding::ZRLE => Box::new(ZrleDecoder::new()),
        Encoding::TRLE => Box::new(TrleDecoder::new()),
        Encoding::TIGHT => Box::new(TightDecoder::new()),
        _ => return None,
    })
}

/// The encodings [`RemoteFramebuffer`] can decode, best first (a sensible default
/// preference list for SetEncodings).
pub const DECODABLE_ENCODINGS: &[Encoding] = &[
    Encoding::ZRLE,
    Encoding::TIGHT,
    Encoding::TRLE,
    Encoding::ZLIB,
    Encoding::HEXTILE,
    Encoding::RRE,
    Encoding::CORRE,
    Encoding::COPY_RECT,
    Encoding::RAW,
];

/// Frames rectangle payloads of every encoding this crate decodes (plus the
/// fixed-layout pseudo-encodings, through [`BasicFramer`]).
///
/// Framing is stateless for all of them (the zlib-based ones carry a length), so one
/// framer serves the connection while [`RemoteFramebuffer`] keeps the stateful decoders.
///
/// When it knows the framebuffer size ([`CodecFramer::with_bounds`]), it refuses a
/// pixel rectangle outside the framebuffer as soon as its header arrives, before
/// waiting for (and buffering) a payload that could never be painted; DesktopSize and
/// ExtendedDesktopSize rectangles move the bounds as they pass.
#[derive(Default)]
pub struct CodecFramer {
    decoders: HashMap<Encoding, Box<dyn RectDecoder + Send>>,
    limits: CodecLimits,
    bounds: Option<(u16, u16)>,
}

impl std::fmt::Debug for CodecFramer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodecFramer").finish_non_exhaustive()
    }
}

impl CodecFramer {
    /// A framer with the given codec limits.
    pub fn new(limits: CodecLimits) -> CodecFramer {
        CodecFramer {
            decoders: HashMap::new(),
            limits,
            bounds: None,
        }
    }

    /// A framer that also checks every pixel rectangle against a `width` x `height`
    /// framebuffer (and follows resizes announced in the stream).
    pub fn with_bounds(width: u16, height: u16, limits: CodecLimits) -> CodecFramer {
        CodecFramer {
            decoders: HashMap::new(),
            limits,
            bounds: Some((width, height)),
        }
    }
}

impl PayloadFramer for CodecFramer {
    fn frame(
        &mut self,
        header: &RectHeader,
        pf: &PixelFormat,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Progress<()>, ProtoError> {
        let enc = header.encoding;
        if let Some(bounds) = &mut self.bounds {
            let r = header.rect;
            if enc == Encoding::DESKTOP_SIZE
                || (enc == Encoding::EXTENDED_DESKTOP_SIZE && !(r.x == 1 && r.y != 0))
            {
                // The payload (if any) is framed below; a resize that breaks the limits
                // is refused when it is applied.
                *bounds = (r.width, r.height);
            } else if !enc.is_pseudo() {
                r.check_within(bounds.0, bounds.1)?;
            }
        }
        if enc == Encoding::RAW || enc == Encoding::COPY_RECT || enc.is_pseudo() {
            return BasicFramer.frame(header, pf, buf, limits);
        }
        let decoder = match self.decoders.entry(enc) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => match new_decoder(enc) {
                Some(d) => v.insert(d),
                None => return BasicFramer.frame(header, pf, buf, limits),
            },
        };
        decoder
            .frame(header.rect, pf, buf, &self.limits)
            .map_err(|e| proto_error(enc, e))
    }
}

/// What applying one rectangle changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramebufferChange {
    /// Pixels in this rectangle changed.
    Painted(Rect),
    /// The framebuffer was resized (contents cleared).
    Resized {
        /// New width.
        width: u16,
        /// New height.
        height: u16,
    },
    /// The desktop name changed.
    DesktopName(String),
    /// LastRect: the update is over.
    LastRect,
    /// A pseudo-encoding this framebuffer does not act on.
    Ignored(Encoding),
}

/// The client's copy of the remote screen, in the wire pixel format, with one
/// persistent decoder per encoding (zlib streams live across rectangles).
///
/// ```
/// use rfb_client::RemoteFramebuffer;
/// use rfb_proto::{Encoding, PixelFormat, Rect, RectHeader};
/// let mut fb = RemoteFramebuffer::new(2, 1, PixelFormat::RGB888);
/// let header = RectHeader { rect: Rect::new(0, 0, 2, 1), encoding: Encoding::RAW };
/// fb.apply(&header, &[0, 0, 255, 0, 0, 255, 0, 0]).unwrap();
/// assert_eq!(fb.to_rgb(), vec![255, 0, 0, 0, 255, 0]);
/// ```
pub struct RemoteFramebuffer {
    fb: Framebuffer,
    decoders: HashMap<Encoding, Box<dyn RectDecoder + Send>>,
    palette: Option<Palette>,
    limits: CodecLimits,
    max_width: u16,
    max_height: u16,
}

impl std::fmt::Debug for RemoteFramebuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteFramebuffer")
            .field("framebuffer", &self.fb)
            .finish_non_exhaustive()
    }
}

impl RemoteFramebuffer {
    /// A black framebuffer of the given size and wire format.
    pub fn new(width: u16, height: u16, format: PixelFormat) -> RemoteFramebuffer {
        RemoteFramebuffer {
            fb: Framebuffer::new(width, height, format),
            decoders: HashMap::new(),
            palette: None,
            limits: CodecLimits::default(),
            max_width: Limits::default().max_framebuffer_width,
            max_height: Limits::default().max_framebuffer_height,
        }
    }

    /// Sets the largest size a DesktopSize or ExtendedDesktopSize rectangle may resize
    /// the framebuffer to (default: [`Limits::default`]'s framebuffer limits); larger
    /// resizes are [`rfb_proto::LimitExceeded`] errors, refused before allocating.
    pub fn set_max_size(&mut self, width: u16, height: u16) {
        self.max_width = width;
        self.max_height = height;
    }

    /// Sets the codec limits decoders respect (default [`CodecLimits::default`]).
    pub fn set_codec_limits(&mut self, limits: CodecLimits) {
        self.limits = limits;
    }

    /// The palette for colour-map formats, if one was set.
    pub fn palette(&self) -> Option<&Palette> {
        self.palette.as_ref()
    }

    /// Resizes to `width` x `height` (contents cleared), checking the size limits.
    pub fn resize(&mut self, width: u16, height: u16) -> Result<(), CodecError> {
        use rfb_proto::{Limit, LimitExceeded};
        LimitExceeded::check(Limit::FramebufferWidth, width.into(), self.max_width.into())?;
        LimitExceeded::check(
            Limit::FramebufferHeight,
            height.into(),
            self.max_height.into(),
        )?;
        let format = *self.fb.format();
        self.fb = Framebuffer::new(width, height, format);
        Ok(())
    }

    /// Writes the pixels of `rect` (clipped to the framebuffer) as `0x00RRGGBB` words
    /// into `dst`, a buffer of the whole framebuffer's size (row stride = width).
    /// With `grey`, each pixel becomes its luminance (ITU-R BT.601). Colour-map formats
    /// go through the palette (missing entries are black).
    pub fn copy_xrgb(&self, rect: Rect, dst: &mut [u32], grey: bool) {
        let width = usize::from(self.fb.width());
        let r = rect.clip_to(self.fb.width(), self.fb.height());
        if r.is_empty() || dst.len() < width * usize::from(self.fb.height()) {
            return;
        }
        let format = *self.fb.format();
        let bpp = format.bytes_per_pixel();
        // RGB888 little-endian is B G R X in memory: one load per pixel.
        let fast = format == PixelFormat::RGB888;
        for y in r.y..r.y + r.height {
            let row = self.fb.row(y);
            let src = &row[usize::from(r.x) * bpp..(usize::from(r.x) + usize::from(r.width)) * bpp];
            let start = usize::from(y) * width + usize::from(r.x);
            let out = &mut dst[start..start + usize::from(r.width)];
            for (o, px) in out.iter_mut().zip(src.chunks_exact(bpp)) {
                let v = if fast {
                    u32::from_le_bytes([px[0], px[1], px[2], 0])
                } else {
                    let value = rfb_codec::pixel::pixel_value(px, &format);
                    let [r, g, b] = rgb8(value, &format, self.palette.as_ref());
                    u32::from_be_bytes([0, r, g, b])
                };
                *o = if grey { grey_of(v) } else { v };
            }
        }
    }

    /// The pixels.
    pub fn framebuffer(&self) -> &Framebuffer {
        &self.fb
    }

    /// Sets the colour map used to show colour-map formats (from SetColourMapEntries).
    pub fn set_palette(&mut self, palette: Option<Palette>) {
        self.palette = palette;
    }

    /// Changes the wire pixel format (after sending SetPixelFormat); the contents are
    /// cleared. The decoders are kept: the zlib streams of Zlib, ZRLE and TRLE belong to
    /// the connection and go on across a format change.
    pub fn set_pixel_format(&mut self, format: PixelFormat) {
        self.fb = Framebuffer::new(self.fb.width(), self.fb.height(), format);
    }

    /// Decodes one rectangle of an update into the framebuffer.
    pub fn apply(
        &mut self,
        header: &RectHeader,
        payload: &[u8],
    ) -> Result<FramebufferChange, CodecError> {
        let enc = header.encoding;
        let rect = header.rect;
        match enc {
            Encoding::DESKTOP_SIZE | Encoding::EXTENDED_DESKTOP_SIZE => {
                // For ExtendedDesktopSize a non-zero x with a non-zero y is a failed
                // request: the size did not change.
                if enc == Encoding::EXTENDED_DESKTOP_SIZE && rect.x == 1 && rect.y != 0 {
                    return Ok(FramebufferChange::Ignored(enc));
                }
                self.resize(rect.width, rect.height)?;
                return Ok(FramebufferChange::Resized {
                    width: rect.width,
                    height: rect.height,
                });
            }
            Encoding::LAST_RECT => return Ok(FramebufferChange::LastRect),
            Encoding::DESKTOP_NAME => {
                let name = payload
                    .get(4..)
                    .map(rfb_proto::decode_text)
                    .unwrap_or_default();
                return Ok(FramebufferChange::DesktopName(name));
            }
            e if e.is_pseudo() => return Ok(FramebufferChange::Ignored(e)),
            _ => {}
        }
        let decoder = match self.decoders.entry(enc) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => match new_decoder(enc) {
                Some(d) => v.insert(d),
                None => {
                    return Err(CodecError::Proto(
                        rfb_proto::Incompatible::Encoding(enc.0).into(),
                    ))
                }
            },
        };
        decoder.decode(rect, payload, &mut self.fb, &self.limits)?;
        Ok(FramebufferChange::Painted(rect))
    }

    /// The whole framebuffer as packed 8-bit `R G B` (colour-map formats through the
    /// palette; missing entries are black).
    pub fn to_rgb(&self) -> Vec<u8> {
        let format = *self.fb.format();
        let bpp = format.bytes_per_pixel();
        let mut out = Vec::with_capacity(self.fb.data().len() / bpp * 3);
        for px in self.fb.data().chunks_exact(bpp) {
            let v = rfb_codec::pixel::pixel_value(px, &format);
            out.extend_from_slice(&rgb8(v, &format, self.palette.as_ref()));
        }
        out
    }
}

/// The BT.601 luminance of a `0x00RRGGBB` pixel, as a grey `0x00YYYYYY` pixel.
fn grey_of(v: u32) -> u32 {
    let [_, r, g, b] = v.to_be_bytes();
    let y = (299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000;
    y * 0x0001_0101
}
