//! Hextile encoding (5): the rectangle in 16x16 tiles, left to right then top to
//! bottom, each raw or a background with sub-rectangles.
//!
//! Each tile starts with a sub-encoding mask: [`RAW`] (then `w * h` pixels; other bits
//! ignored), else [`BACKGROUND_SPECIFIED`] (a background pixel follows),
//! [`FOREGROUND_SPECIFIED`] (a foreground pixel follows), [`ANY_SUBRECTS`] (a `U8`
//! count follows, then the sub-rectangles) and [`SUBRECTS_COLOURED`] (each
//! sub-rectangle carries its own pixel). A sub-rectangle is two bytes: x in the high
//! nibble and y in the low nibble, then width - 1 and height - 1 likewise.
//!
//! Background and foreground carry over from the previous tile of the same rectangle;
//! a raw tile invalidates both, a tile with coloured sub-rectangles invalidates the
//! foreground. The decoder refuses a tile that relies on a colour it does not have,
//! unknown mask bits (32, 64, 128) on a non-raw tile, and any sub-rectangle that leaves
//! its tile. Like TigerVNC's and libvncclient's decoders it accepts a foreground with
//! coloured sub-rectangles (the spec says a server must not send that combination; the
//! foreground is then unused).
//!
//! The encoder picks per tile: one colour, background only (nothing at all if the
//! background carries over); two colours, foreground sub-rectangles; more,
//! coloured sub-rectangles — each unless raw is no larger.

use bytes::{BufMut, BytesMut};
use rfb_proto::{Encoding, PixelFormat, Progress, Rect};

use crate::raw::{
    check_payload, exact_len, load_into, malformed, most_frequent_with, store, subrects_into,
    SubRect,
};
use crate::{CodecError, CodecLimits, Framebuffer, PixelView, RectDecoder, RectEncoder};

/// Mask bit: the tile is raw pixels.
pub const RAW: u8 = 1;
/// Mask bit: a background pixel follows.
pub const BACKGROUND_SPECIFIED: u8 = 2;
/// Mask bit: a foreground pixel follows.
pub const FOREGROUND_SPECIFIED: u8 = 4;
/// Mask bit: a sub-rectangle count and sub-rectangles follow.
pub const ANY_SUBRECTS: u8 = 8;
/// Mask bit: each sub-rectangle has its own pixel.
pub const SUBRECTS_COLOURED: u8 = 16;

/// Tile side in pixels.
pub const TILE: u16 = 16;

/// The tiles of a `width` x `height` rectangle, in wire order, relative to it.
fn tiles(width: u16, height: u16) -> impl Iterator<Item = Rect> {
    (0..height.div_ceil(TILE)).flat_map(move |ty| {
        (0..width.div_ceil(TILE)).map(move |tx| {
            let (x, y) = (tx * TILE, ty * TILE);
            Rect::new(x, y, (width - x).min(TILE), (height - y).min(TILE))
        })
    })
}

/// Walks a payload. With `paint` = `None` it only frames and validates; with a
/// framebuffer it paints (the caller validated first).
fn walk(
    rect: Rect,
    bpp: usize,
    buf: &[u8],
    limits: &CodecLimits,
    mut paint: Option<&mut Framebuffer>,
) -> Result<Progress<()>, CodecError> {
    let mut pos = 0usize;
    let mut bg: Option<&[u8]> = None;
    let mut fg: Option<&[u8]> = None;
    macro_rules! take {
        ($n:expr) => {{
            let n: usize = $n;
            let end = pos + n;
            check_payload(end as u64, limits)?;
            if buf.len() < end {
                return Ok(Progress::NeedMore { at_least: end });
            }
            let s = &buf[pos..end];
            pos = end;
            s
        }};
    }
    for tile in tiles(rect.width, rect.height) {
        // The tile in framebuffer coordinates. Only used for painting, which happens
        // after `rect` was checked against the framebuffer; while framing, `rect` is
        // unchecked, so the sum must not overflow.
        let abs = Rect::new(
            rect.x.saturating_add(tile.x),
            rect.y.saturating_add(tile.y),
            tile.width,
            tile.height,
        );
        let mask = take!(1)[0];
        if mask & RAW != 0 {
            let px = take!(usize::from(tile.width) * usize::from(tile.height) * bpp);
            if let Some(fb) = paint.as_deref_mut() {
                fb.put_pixels(abs, px)?;
            }
            bg = None;
            fg = None;
            continue;
        }
        if mask & 0xe0 != 0 {
            return Err(malformed(
                "Hextile",
                format!("unknown sub-encoding bits in mask {mask:#04x}"),
            ));
        }
        if mask & BACKGROUND_SPECIFIED != 0 {
            bg = Some(take!(bpp));
        }
        if mask & FOREGROUND_SPECIFIED != 0 {
            fg = Some(take!(bpp));
        }
        let Some(background) = bg else {
            return Err(malformed(
                "Hextile",
                "tile without a background (none specified or carried over)",
            ));
        };
        if let Some(fb) = paint.as_deref_mut() {
            fb.fill(abs, background)?;
        }
        if mask & ANY_SUBRECTS == 0 {
            continue;
        }
        let count = usize::from(take!(1)[0]);
        let coloured = mask & SUBRECTS_COLOURED != 0;
        if !coloured && fg.is_none() {
            return Err(malformed(
                "Hextile",
                "sub-rectangles without a foreground (none specified or carried over)",
            ));
        }
        let each = if coloured { bpp + 2 } else { 2 };
        let subs = take!(count * each);
        for s in subs.chunks_exact(each) {
            let g = &s[each - 2..];
            let (x, y) = (u16::from(g[0] >> 4), u16::from(g[0] & 15));
            let (w, h) = (u16::from(g[1] >> 4) + 1, u16::from(g[1] & 15) + 1);
            if !Rect::new(x, y, w, h).fits_in(tile.width, tile.height) {
                return Err(CodecError::OutOfBounds {
                    what: "Hextile sub-rectangle",
                    x: x.into(),
                    y: y.into(),
                    width: w.into(),
                    height: h.into(),
                    bound_width: tile.width.into(),
                    bound_height: tile.height.into(),
                });
            }
            if let Some(fb) = paint.as_deref_mut() {
                let colour = if coloured {
                    &s[..bpp]
                } else {
                    fg.unwrap_or(background)
                };
                fb.fill(
                    Rect::new(abs.x.saturating_add(x), abs.y.saturating_add(y), w, h),
                    colour,
                )?;
            }
        }
        if coloured {
            fg = None;
        }
    }
    Ok(Progress::Done {
        item: (),
        consumed: pos,
    })
}

/// Hextile decoder. Framing walks the tile headers (no allocation); decoding validates
/// the whole payload, then paints.
///
/// ```
/// use rfb_codec::{hextile::HextileDecoder, CodecLimits, Framebuffer, PixelFormat, RectDecoder};
/// let mut fb = Framebuffer::new(4, 2, PixelFormat::RGB332);
/// // One tile: background 1, foreground 9, one sub-rectangle at (1,0) 2x2.
/// let payload = [2 | 4 | 8, 1, 9, 1, 0x10, 0x11];
/// HextileDecoder.decode(fb.rect(), &payload, &mut fb, &CodecLimits::default()).unwrap();
/// assert_eq!(fb.data(), &[1, 9, 9, 1, 1, 9, 9, 1]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct HextileDecoder;

impl RectDecoder for HextileDecoder {
    fn encoding(&self) -> Encoding {
        Encoding::HEXTILE
    }

    fn frame(
        &mut self,
        rect: Rect,
        format: &PixelFormat,
        buf: &[u8],
        limits: &CodecLimits,
    ) -> Result<Progress<()>, CodecError> {
        walk(rect, format.bytes_per_pixel(), buf, limits, None)
    }

    fn decode(
        &mut self,
        rect: Rect,
        payload: &[u8],
        fb: &mut Framebuffer,
        limits: &CodecLimits,
    ) -> Result<(), CodecError> {
        fb.check(rect)?;
        let bpp = fb.bytes_per_pixel();
        match walk(rect, bpp, payload, limits, None)? {
            Progress::Done { consumed, .. } => exact_len("Hextile", payload, consumed)?,
            Progress::NeedMore { at_least } => {
                return Err(malformed(
                    "Hextile",
                    format!("payload of {} bytes, {at_least} needed", payload.len()),
                ))
            }
        }
        walk(rect, bpp, payload, limits, Some(fb)).map(|_| ())
    }
}

/// Hextile encoder (stateless between rectangles: each starts with a background).
///
/// ```
/// use bytes::BytesMut;
/// use rfb_codec::{hextile::HextileEncoder, Framebuffer, PixelFormat, Rect, RectEncoder};
/// let mut fb = Framebuffer::new(20, 2, PixelFormat::RGB332);
/// fb.fill(Rect::new(1, 0, 2, 2), &[9]).unwrap();
/// let mut out = BytesMut::new();
/// HextileEncoder.encode(&fb.view(fb.rect()).unwrap(), &mut out).unwrap();
/// // Tile 1: background 0, foreground 9, one sub-rectangle (1,0) 2x2.
/// // Tile 2 (4x2, all background 0): mask 0, the background carries over.
/// assert_eq!(&out[..], &[2 | 4 | 8, 0, 9, 1, 0x10, 0x11, 0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct HextileEncoder;

impl RectEncoder for HextileEncoder {
    fn encoding(&self) -> Encoding {
        Encoding::HEXTILE
    }

    fn encode(&mut self, pixels: &PixelView<'_>, out: &mut BytesMut) -> Result<(), CodecError> {
        let bpp = pixels.format().bytes_per_pixel();
        let mut state = TileState::default();
        for tile in tiles(pixels.width(), pixels.height()) {
            let view = pixels.sub(tile)?;
            let mut px = std::mem::take(&mut state.px);
            load_into(&view, &mut px);
            encode_tile(&view, &px, bpp, &mut state, out);
            state.px = px;
        }
        Ok(())
    }
}

/// Colours carried between tiles, and scratch buffers reused from tile to tile.
#[derive(Default)]
struct TileState {
    bg: Option<u32>,
    fg: Option<u32>,
    px: Vec<u32>,
    sorted: Vec<u32>,
    covered: Vec<bool>,
    subs: Vec<SubRect>,
}

fn encode_tile(
    view: &PixelView<'_>,
    px: &[u32],
    bpp: usize,
    state: &mut TileState,
    out: &mut BytesMut,
) {
    let TileState {
        bg,
        fg,
        sorted,
        covered,
        subs,
        ..
    } = state;
    let (w, h) = (usize::from(view.width()), usize::from(view.height()));
    let raw_len = 1 + w * h * bpp;
    // Up to three distinct colours tell solid / two-colour / more.
    let mut colours: Vec<u32> = Vec::with_capacity(3);
    for &p in px {
        if !colours.contains(&p) {
            colours.push(p);
            if colours.len() == 3 {
                break;
            }
        }
    }
    let write_raw = |out: &mut BytesMut, bg: &mut Option<u32>, fg: &mut Option<u32>| {
        out.put_u8(RAW);
        for row in view.rows() {
            out.put_slice(row);
        }
        *bg = None;
        *fg = None;
    };
    match colours.len() {
        0 => {}
        1 => {
            let c = colours[0];
            if *bg == Some(c) {
                out.put_u8(0);
            } else {
                out.put_u8(BACKGROUND_SPECIFIED);
                store(c, bpp, out);
                *bg = Some(c);
            }
        }
        n => {
            let two = n == 2;
            let b = if two {
                // The more frequent of the two (the first seen on a tie).
                let first = px.iter().filter(|&&p| p == colours[0]).count();
                if first * 2 >= px.len() {
                    colours[0]
                } else {
                    colours[1]
                }
            } else {
                most_frequent_with(px, sorted).unwrap_or(colours[0])
            };
            if !subrects_into(px, w, h, b, 255, covered, subs) {
                write_raw(out, bg, fg);
                return;
            }
            let bg_new = *bg != Some(b);
            let (mask, len) = if two {
                let f = if colours[0] == b {
                    colours[1]
                } else {
                    colours[0]
                };
                let fg_new = *fg != Some(f);
                let mask = ANY_SUBRECTS
                    | if bg_new { BACKGROUND_SPECIFIED } else { 0 }
                    | if fg_new { FOREGROUND_SPECIFIED } else { 0 };
                let len =
                    2 + usize::from(bg_new) * bpp + usize::from(fg_new) * bpp + 2 * subs.len();
                (mask, len)
            } else {
                let mask = ANY_SUBRECTS
                    | SUBRECTS_COLOURED
                    | if bg_new { BACKGROUND_SPECIFIED } else { 0 };
                (mask, 2 + usize::from(bg_new) * bpp + (bpp + 2) * subs.len())
            };
            if len >= raw_len {
                write_raw(out, bg, fg);
                return;
            }
            out.put_u8(mask);
            if mask & BACKGROUND_SPECIFIED != 0 {
                store(b, bpp, out);
            }
            *bg = Some(b);
            if mask & FOREGROUND_SPECIFIED != 0 {
                store(subs[0].colour, bpp, out);
            }
            if two {
                *fg = Some(subs[0].colour);
            } else {
                *fg = None;
            }
            out.put_u8(subs.len() as u8);
            for s in subs.iter() {
                if !two {
                    store(s.colour, bpp, out);
                }
                out.put_u8((s.x as u8) << 4 | s.y as u8);
                out.put_u8(((s.w - 1) as u8) << 4 | (s.h - 1) as u8);
            }
        }
    }
}
