//! The TRLE encoding (15): ZRLE's tile grammar without zlib, in 16x16 tiles.
//!
//! Wire format (RFC 6143, 7.7.5): no length prefix; the rectangle's 16x16 tiles follow
//! one another, left to right, top to bottom, each a sub-encoding byte and its data as in
//! ZRLE ([`crate::zrle`]: raw 0, solid 1, packed palette 2..=16, plain RLE 128, palette RLE
//! 130..=255, with CPIXELs), plus two sub-encodings that reuse the palette of an earlier
//! tile instead of sending it again:
//!
//! - 127: packed palette indices against the reused palette (which must have 2..=16
//!   colours, so the index width is defined);
//! - 129: palette RLE against the reused palette.
//!
//! The reused palette is the last one sent (by a 2..=16 or 130..=255 tile) in the same
//! rectangle; a reuse before any palette is malformed. Our encoder only reuses the palette
//! of the immediately preceding tile, which every reading of the RFC accepts.
//!
//! Because there is no length prefix, [`RectDecoder::frame`] walks the tile structure
//! (without allocating) to find where the rectangle ends.

use bytes::BytesMut;
use rfb_proto::{Encoding, PixelFormat, Progress, Rect};

use crate::zrle::{blit, tiles, Cpixel, SliceSource, TileDecoder, TileEncoder};
use crate::{CodecError, CodecLimits, Framebuffer, PixelView, RectDecoder, RectEncoder};

/// TRLE's tile size.
pub const TILE_SIZE: u16 = 16;

/// TRLE encoder: 16x16 tiles, each with the smallest sub-encoding, reusing the previous
/// tile's palette when that is smaller. Stateless between rectangles.
///
/// ```
/// use bytes::BytesMut;
/// use rfb_codec::trle::{TrleDecoder, TrleEncoder};
/// use rfb_codec::{CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder, RectEncoder};
/// use rfb_proto::Progress;
///
/// let mut src = Framebuffer::new(40, 20, PixelFormat::RGB332);
/// src.fill(Rect::new(3, 3, 30, 10), &[0xe0]).unwrap();
/// let mut wire = BytesMut::new();
/// TrleEncoder::new().encode(&src.view(src.rect()).unwrap(), &mut wire).unwrap();
///
/// let limits = CodecLimits::default();
/// let mut dec = TrleDecoder::new();
/// let progress = dec.frame(src.rect(), src.format(), &wire, &limits).unwrap();
/// assert_eq!(progress, Progress::Done { item: (), consumed: wire.len() });
/// let mut dst = Framebuffer::new(40, 20, PixelFormat::RGB332);
/// dec.decode(dst.rect(), &wire, &mut dst, &limits).unwrap();
/// assert_eq!(dst, src);
/// ```
pub struct TrleEncoder {
    tiles: TileEncoder,
    buf: Vec<u8>,
}

impl std::fmt::Debug for TrleEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrleEncoder").finish_non_exhaustive()
    }
}

impl TrleEncoder {
    /// A new encoder.
    pub fn new() -> TrleEncoder {
        TrleEncoder {
            tiles: TileEncoder::new(),
            buf: Vec::new(),
        }
    }
}

impl Default for TrleEncoder {
    fn default() -> Self {
        TrleEncoder::new()
    }
}

impl RectEncoder for TrleEncoder {
    fn encoding(&self) -> Encoding {
        Encoding::TRLE
    }

    fn encode(&mut self, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
        let cp = Cpixel::new(pixels.format(), "TRLE")?;
        self.tiles.start_rect();
        self.buf.clear();
        for tile in tiles(pixels.width(), pixels.height(), TILE_SIZE) {
            self.tiles
                .encode_tile(&cp, pixels, tile, true, &mut self.buf);
        }
        out.extend_from_slice(&self.buf);
        Ok(())
    }
}

/// TRLE decoder. Stateless between rectangles; see [`TrleEncoder`] for an example.
///
/// [`RectDecoder::frame`] remembers the tile where it last returned `NeedMore`, and resumes
/// there when called again for the same rectangle with the buffer grown (checked against
/// the rectangle, format and first bytes), so framing is linear in the payload however
/// the bytes arrive.
#[derive(Debug, Default)]
pub struct TrleDecoder {
    tile: Vec<u8>,
    resume: Option<FrameResume>,
}

/// Where framing stopped short: at the start of tile `tile`, byte `pos`.
#[derive(Debug)]
struct FrameResume {
    rect: Rect,
    format: PixelFormat,
    tile: usize,
    pos: usize,
    palette_size: usize,
    /// The first bytes of the buffer, to notice a different payload.
    head: Vec<u8>,
}

impl FrameResume {
    const HEAD: usize = 16;
}

impl TrleDecoder {
    /// A new decoder.
    pub fn new() -> TrleDecoder {
        TrleDecoder::default()
    }
}

impl RectDecoder for TrleDecoder {
    fn encoding(&self) -> Encoding {
        Encoding::TRLE
    }

    fn frame(
        &mut self,
        rect: Rect,
        format: &PixelFormat,
        buf: &[u8],
        limits: &CodecLimits,
    ) -> Result<Progress<()>, CodecError> {
        let cp = Cpixel::new(format, "TRLE")?;
        let max = limits.max_payload as usize;
        // Never look past the payload limit: a longer rectangle is refused.
        let window = &buf[..buf.len().min(max)];
        let mut td = TileDecoder::new(cp, "TRLE", true);
        // Resume where the last NeedMore stopped, if this is the same rectangle's payload
        // grown (same geometry, format and leading bytes), so framing a large rectangle
        // as its bytes trickle in stays linear.
        let mut start = (0usize, 0usize);
        if let Some(r) = self.resume.take() {
            if r.rect == rect
                && r.format == *format
                && window.len() >= r.pos
                && window[..r.head.len()] == r.head[..]
            {
                start = (r.tile, r.pos);
                td.set_palette_size(r.palette_size);
            }
        }
        let mut src = SliceSource {
            buf: window,
            pos: start.1,
            short: None,
            encoding: "TRLE",
        };
        for (i, t) in tiles(rect.width, rect.height, TILE_SIZE)
            .enumerate()
            .skip(start.0)
        {
            let tile_start = src.pos;
            let palette_size = td.palette_size();
            let res = td.tile::<_, false>(
                &mut src,
                usize::from(t.width),
                usize::from(t.height),
                &mut [],
            );
            if let Err(e) = res {
                return match src.short {
                    Some(needed) if needed > max => Err(CodecError::LimitExceeded {
                        what: "TRLE rectangle length",
                        requested: needed as u64,
                        allowed: max as u64,
                    }),
                    Some(needed) => {
                        self.resume = Some(FrameResume {
                            rect,
                            format: *format,
                            tile: i,
                            pos: tile_start,
                            palette_size,
                            head: window[..window.len().min(FrameResume::HEAD)].to_vec(),
                        });
                        Ok(Progress::NeedMore { at_least: needed })
                    }
                    None => Err(e),
                };
            }
        }
        Ok(Progress::Done {
            item: (),
            consumed: src.pos,
        })
    }

    fn decode(
        &mut self,
        rect: Rect,
        payload: &[u8],
        fb: &mut Framebuffer,
        _limits: &CodecLimits,
    ) -> Result<(), CodecError> {
        fb.check(rect)?;
        let cp = Cpixel::new(fb.format(), "TRLE")?;
        let bpp = cp.bpp;
        let max_tile = usize::from(TILE_SIZE) * usize::from(TILE_SIZE) * bpp;
        if self.tile.len() < max_tile {
            self.tile.resize(max_tile, 0);
        }
        let mut src = SliceSource {
            buf: payload,
            pos: 0,
            short: None,
            encoding: "TRLE",
        };
        let mut td = TileDecoder::new(cp, "TRLE", true);
        for t in tiles(rect.width, rect.height, TILE_SIZE) {
            let (tw, th) = (usize::from(t.width), usize::from(t.height));
            let buf = &mut self.tile[..tw * th * bpp];
            td.tile::<_, true>(&mut src, tw, th, buf)?;
            blit(
                fb,
                usize::from(rect.x) + usize::from(t.x),
                usize::from(rect.y) + usize::from(t.y),
                tw,
                buf,
            );
        }
        if src.pos != payload.len() {
            return Err(CodecError::Malformed {
                encoding: "TRLE",
                what: format!("{} bytes after the last tile", payload.len() - src.pos),
            });
        }
        Ok(())
    }
}
