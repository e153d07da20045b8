//! Cursor shapes: the Cursor (-239), X Cursor (-240) and Cursor With Alpha (-314)
//! pseudo-encodings.
//!
//! The pseudo-rectangle's x and y are the hotspot, its width and height the cursor size.
//! Every decoder turns its payload into a [`CursorImage`] (premultiplied RGBA, 8 bits
//! per channel); every encoder takes one.
//!
//! - **Cursor**: `width * height` pixels in the connection's pixel format, then a
//!   bitmask of `ceil(width / 8) * height` bytes (most significant bit = leftmost pixel,
//!   1 = opaque).
//! - **X Cursor**: nothing when the size is empty; otherwise primary and secondary
//!   colours (3 bytes each, RGB), a bitmap (1 = primary) and a bitmask, both
//!   `ceil(width / 8) * height` bytes.
//! - **Cursor With Alpha**: an `S32` encoding, then the pixels in that encoding, in a
//!   fixed 32-bit format whose bytes are red, green, blue, alpha with alpha
//!   premultiplied. Only the Raw inner encoding is supported here for now (what
//!   TigerVNC's server sends); others give [`CodecError::UnsupportedFormat`].
//!
//! Cursors larger than [`MAX_CURSOR_SIDE`] in either direction are refused.

use bytes::{BufMut, BytesMut};
use rfb_proto::{Encoding, PixelFormat, Progress, Rect};

use crate::pixel::{from_rgb8, pixel_value, put_pixel_value, rgb8};
use crate::raw::{check_payload, exact_len, malformed, need};
use crate::{CodecError, CodecLimits, Palette};

/// Widest and tallest cursor accepted (TigerVNC refuses more than 256).
pub const MAX_CURSOR_SIDE: u16 = 1024;

/// A cursor shape: `width * height` premultiplied RGBA pixels, row after row, and the
/// hotspot (the pixel that points).
///
/// ```
/// use rfb_codec::cursor::CursorImage;
/// let c = CursorImage::new(2, 1, 0, 0, vec![255, 0, 0, 255, 0, 0, 0, 0]).unwrap();
/// assert_eq!(c.pixel(0, 0), [255, 0, 0, 255]);
/// assert!(CursorImage::new(2, 1, 0, 0, vec![0; 4]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorImage {
    width: u16,
    height: u16,
    hotspot_x: u16,
    hotspot_y: u16,
    rgba: Vec<u8>,
}

impl CursorImage {
    /// A cursor from premultiplied RGBA bytes (`width * height * 4` of them).
    pub fn new(
        width: u16,
        height: u16,
        hotspot_x: u16,
        hotspot_y: u16,
        rgba: Vec<u8>,
    ) -> Result<CursorImage, CodecError> {
        if rgba.len() != usize::from(width) * usize::from(height) * 4 {
            return Err(CodecError::ApiMisuse {
                what: format!("{} RGBA bytes for a {width}x{height} cursor", rgba.len()),
            });
        }
        Ok(CursorImage {
            width,
            height,
            hotspot_x,
            hotspot_y,
            rgba,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u16 {
        self.height
    }

    /// The hotspot `(x, y)`.
    pub fn hotspot(&self) -> (u16, u16) {
        (self.hotspot_x, self.hotspot_y)
    }

    /// The premultiplied RGBA bytes.
    pub fn rgba(&self) -> &[u8] {
        &self.rgba
    }

    /// The premultiplied RGBA of pixel `(x, y)` (panics outside the image).
    pub fn pixel(&self, x: u16, y: u16) -> [u8; 4] {
        assert!(
            x < self.width && y < self.height,
            "pixel outside the cursor"
        );
        let i = (usize::from(y) * usize::from(self.width) + usize::from(x)) * 4;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }

    /// The pseudo-rectangle header fields: hotspot as position, size.
    pub fn rect(&self) -> Rect {
        Rect::new(self.hotspot_x, self.hotspot_y, self.width, self.height)
    }
}

/// Bytes of a bitmap or bitmask: `ceil(width / 8) * height`.
pub fn mask_len(width: u16, height: u16) -> usize {
    usize::from(width).div_ceil(8) * usize::from(height)
}

fn check_size(rect: Rect) -> Result<(), CodecError> {
    let side = rect.width.max(rect.height);
    if side > MAX_CURSOR_SIDE {
        return Err(CodecError::LimitExceeded {
            what: "cursor side",
            requested: side.into(),
            allowed: MAX_CURSOR_SIDE.into(),
        });
    }
    Ok(())
}

fn bit(mask: &[u8], width: u16, x: u16, y: u16) -> bool {
    let row = usize::from(width).div_ceil(8);
    mask[usize::from(y) * row + usize::from(x) / 8] & (0x80 >> (x % 8)) != 0
}

fn set_bit(mask: &mut [u8], width: u16, x: u16, y: u16) {
    let row = usize::from(width).div_ceil(8);
    mask[usize::from(y) * row + usize::from(x) / 8] |= 0x80 >> (x % 8);
}

/// Straight (not premultiplied) colour of a premultiplied pixel, rounded.
fn unpremultiply(p: [u8; 4]) -> [u8; 3] {
    let a = u32::from(p[3]);
    if a == 0 {
        return [0; 3];
    }
    [0, 1, 2].map(|c| ((u32::from(p[c]).min(a) * 255 + a / 2) / a) as u8)
}

/// Payload length of a Cursor pseudo-rectangle.
fn cursor_len(rect: Rect, format: &PixelFormat) -> usize {
    rect.area() as usize * format.bytes_per_pixel() + mask_len(rect.width, rect.height)
}

/// Frames a Cursor (-239) payload.
pub fn frame_cursor(
    rect: Rect,
    format: &PixelFormat,
    buf: &[u8],
    limits: &CodecLimits,
) -> Result<Progress<()>, CodecError> {
    check_size(rect)?;
    let len = cursor_len(rect, format);
    check_payload(len as u64, limits)?;
    Ok(need(buf.len(), len))
}

/// Decodes a Cursor (-239) payload. Colour-map formats need the palette.
///
/// ```
/// use rfb_codec::{cursor::decode_cursor, CodecLimits, PixelFormat, Rect};
/// // 2x1 RGB332 cursor, hotspot (1, 0): red then blue, only the first pixel opaque.
/// let img = decode_cursor(Rect::new(1, 0, 2, 1), &PixelFormat::RGB332, None, &[0xe0, 0x03, 0b1000_0000], &CodecLimits::default()).unwrap();
/// assert_eq!(img.rgba(), &[255, 0, 0, 255, 0, 0, 0, 0]);
/// assert_eq!(img.hotspot(), (1, 0));
/// ```
pub fn decode_cursor(
    rect: Rect,
    format: &PixelFormat,
    palette: Option<&Palette>,
    payload: &[u8],
    limits: &CodecLimits,
) -> Result<CursorImage, CodecError> {
    check_size(rect)?;
    if !format.true_colour && palette.is_none() {
        return Err(CodecError::UnsupportedFormat {
            encoding: "Cursor",
            why: "a colour-map format needs the palette",
        });
    }
    let len = cursor_len(rect, format);
    check_payload(len as u64, limits)?;
    exact_len("Cursor", payload, len)?;
    let bpp = format.bytes_per_pixel();
    let (pixels, mask) = payload.split_at(rect.area() as usize * bpp);
    let mut rgba = Vec::with_capacity(rect.area() as usize * 4);
    for y in 0..rect.height {
        for x in 0..rect.width {
            if bit(mask, rect.width, x, y) {
                let i = (usize::from(y) * usize::from(rect.width) + usize::from(x)) * bpp;
                let [r, g, b] = rgb8(pixel_value(&pixels[i..i + bpp], format), format, palette);
                rgba.extend_from_slice(&[r, g, b, 255]);
            } else {
                rgba.extend_from_slice(&[0; 4]);
            }
        }
    }
    CursorImage::new(rect.width, rect.height, rect.x, rect.y, rgba)
}

/// Appends a Cursor (-239) payload for `image` in `format`: pixels with alpha of 128
/// or more are opaque (their colour un-premultiplied), the others transparent (sent as
/// pixel value 0). Colour-map formats need the palette. The rectangle header is
/// [`CursorImage::rect`] with [`Encoding::CURSOR`].
///
/// ```
/// use rfb_codec::{cursor::{encode_cursor, CursorImage}, PixelFormat};
/// let img = CursorImage::new(2, 1, 0, 0, vec![255, 0, 0, 255, 0, 0, 0, 0]).unwrap();
/// let mut out = bytes::BytesMut::new();
/// encode_cursor(&img, &PixelFormat::RGB332, None, &mut out).unwrap();
/// assert_eq!(&out[..], &[0xe0, 0x00, 0b1000_0000]);
/// ```
pub fn encode_cursor(
    image: &CursorImage,
    format: &PixelFormat,
    palette: Option<&Palette>,
    out: &mut BytesMut,
) -> Result<(), CodecError> {
    if !format.true_colour && palette.is_none() {
        return Err(CodecError::UnsupportedFormat {
            encoding: "Cursor",
            why: "a colour-map format needs the palette",
        });
    }
    let bpp = format.bytes_per_pixel();
    let mut mask = vec![0u8; mask_len(image.width, image.height)];
    let mut px = [0u8; 4];
    for y in 0..image.height {
        for x in 0..image.width {
            let p = image.pixel(x, y);
            let v = if p[3] >= 128 {
                set_bit(&mut mask, image.width, x, y);
                from_rgb8(unpremultiply(p), format, palette)
            } else {
                0
            };
            put_pixel_value(v, format, &mut px);
            out.put_slice(&px[..bpp]);
        }
    }
    out.put_slice(&mask);
    Ok(())
}

/// Frames an X Cursor (-240) payload.
pub fn frame_x_cursor(
    rect: Rect,
    buf: &[u8],
    limits: &CodecLimits,
) -> Result<Progress<()>, CodecError> {
    check_size(rect)?;
    let len = x_cursor_len(rect);
    check_payload(len as u64, limits)?;
    Ok(need(buf.len(), len))
}

fn x_cursor_len(rect: Rect) -> usize {
    if rect.is_empty() {
        0
    } else {
        6 + 2 * mask_len(rect.width, rect.height)
    }
}

/// Decodes an X Cursor (-240) payload. An empty size gives an empty image.
///
/// ```
/// use rfb_codec::{cursor::decode_x_cursor, CodecLimits, Rect};
/// // 3x1: primary black, secondary white; bitmap 1,0,x; mask 1,1,0.
/// let payload = [0, 0, 0, 255, 255, 255, 0b1000_0000, 0b1100_0000];
/// let img = decode_x_cursor(Rect::new(0, 0, 3, 1), &payload, &CodecLimits::default()).unwrap();
/// assert_eq!(img.rgba(), &[0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 0]);
/// ```
pub fn decode_x_cursor(
    rect: Rect,
    payload: &[u8],
    limits: &CodecLimits,
) -> Result<CursorImage, CodecError> {
    check_size(rect)?;
    let len = x_cursor_len(rect);
    check_payload(len as u64, limits)?;
    exact_len("XCursor", payload, len)?;
    if rect.is_empty() {
        return CursorImage::new(rect.width, rect.height, rect.x, rect.y, Vec::new());
    }
    let primary = [payload[0], payload[1], payload[2]];
    let secondary = [payload[3], payload[4], payload[5]];
    let (bitmap, mask) = payload[6..].split_at(mask_len(rect.width, rect.height));
    let mut rgba = Vec::with_capacity(rect.area() as usize * 4);
    for y in 0..rect.height {
        for x in 0..rect.width {
            if bit(mask, rect.width, x, y) {
                let c = if bit(bitmap, rect.width, x, y) {
                    primary
                } else {
                    secondary
                };
                rgba.extend_from_slice(&[c[0], c[1], c[2], 255]);
            } else {
                rgba.extend_from_slice(&[0; 4]);
            }
        }
    }
    CursorImage::new(rect.width, rect.height, rect.x, rect.y, rgba)
}

fn luminance(c: [u8; 3]) -> u32 {
    (u32::from(c[0]) * 77 + u32::from(c[1]) * 150 + u32::from(c[2]) * 29 + 128) >> 8
}

/// Appends an X Cursor (-240) payload for `image`, reduced to two colours: opaque
/// pixels (alpha 128 or more) darker than mid-grey use the primary colour (the first
/// such pixel's colour, or black), the others the secondary (the first light pixel's
/// colour, or white). An image of one dark and one light colour survives exactly.
///
/// ```
/// use rfb_codec::cursor::{encode_x_cursor, CursorImage};
/// let img = CursorImage::new(3, 1, 0, 0, vec![0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 0]).unwrap();
/// let mut out = bytes::BytesMut::new();
/// encode_x_cursor(&img, &mut out);
/// assert_eq!(&out[..], &[0, 0, 0, 255, 255, 255, 0b1000_0000, 0b1100_0000]);
/// ```
pub fn encode_x_cursor(image: &CursorImage, out: &mut BytesMut) {
    if image.width == 0 || image.height == 0 {
        return;
    }
    let (mut primary, mut secondary) = (None, None);
    let n = mask_len(image.width, image.height);
    let (mut bitmap, mut mask) = (vec![0u8; n], vec![0u8; n]);
    for y in 0..image.height {
        for x in 0..image.width {
            let p = image.pixel(x, y);
            if p[3] < 128 {
                continue;
            }
            set_bit(&mut mask, image.width, x, y);
            let c = unpremultiply(p);
            if luminance(c) < 128 {
                primary.get_or_insert(c);
                set_bit(&mut bitmap, image.width, x, y);
            } else {
                secondary.get_or_insert(c);
            }
        }
    }
    out.put_slice(&primary.unwrap_or([0; 3]));
    out.put_slice(&secondary.unwrap_or([255; 3]));
    out.put_slice(&bitmap);
    out.put_slice(&mask);
}

/// Frames a Cursor With Alpha (-314) payload (Raw inner encoding only).
pub fn frame_alpha_cursor(
    rect: Rect,
    buf: &[u8],
    limits: &CodecLimits,
) -> Result<Progress<()>, CodecError> {
    check_size(rect)?;
    if buf.len() < 4 {
        return Ok(Progress::NeedMore { at_least: 4 });
    }
    let encoding = Encoding(i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]));
    if encoding != Encoding::RAW {
        return Err(CodecError::UnsupportedFormat {
            encoding: "CursorWithAlpha",
            why: "only the Raw inner encoding is supported",
        });
    }
    let len = 4 + rect.area() as usize * 4;
    check_payload(len as u64, limits)?;
    Ok(need(buf.len(), len))
}

/// Decodes a Cursor With Alpha (-314) payload (Raw inner encoding only). Colour bytes
/// above their alpha (impossible when premultiplied) are clamped to it.
///
/// ```
/// use rfb_codec::{cursor::decode_alpha_cursor, CodecLimits, Rect};
/// let payload = [0, 0, 0, 0, 128, 0, 0, 128];
/// let img = decode_alpha_cursor(Rect::new(0, 0, 1, 1), &payload, &CodecLimits::default()).unwrap();
/// assert_eq!(img.rgba(), &[128, 0, 0, 128]);
/// ```
pub fn decode_alpha_cursor(
    rect: Rect,
    payload: &[u8],
    limits: &CodecLimits,
) -> Result<CursorImage, CodecError> {
    let len = match frame_alpha_cursor(rect, payload, limits)? {
        Progress::Done { consumed, .. } => consumed,
        Progress::NeedMore { at_least } => {
            return Err(malformed(
                "CursorWithAlpha",
                format!("payload of {} bytes, {at_least} needed", payload.len()),
            ))
        }
    };
    exact_len("CursorWithAlpha", payload, len)?;
    let mut rgba = payload[4..].to_vec();
    for p in rgba.chunks_exact_mut(4) {
        let a = p[3];
        for c in &mut p[..3] {
            *c = (*c).min(a);
        }
    }
    CursorImage::new(rect.width, rect.height, rect.x, rect.y, rgba)
}

/// Appends a Cursor With Alpha (-314) payload: inner encoding Raw, then the
/// premultiplied RGBA bytes.
///
/// ```
/// use rfb_codec::cursor::{encode_alpha_cursor, CursorImage};
/// let img = CursorImage::new(1, 1, 0, 0, vec![128, 0, 0, 128]).unwrap();
/// let mut out = bytes::BytesMut::new();
/// encode_alpha_cursor(&img, &mut out);
/// assert_eq!(&out[..], &[0, 0, 0, 0, 128, 0, 0, 128]);
/// ```
pub fn encode_alpha_cursor(image: &CursorImage, out: &mut BytesMut) {
    out.put_i32(Encoding::RAW.0);
    out.put_slice(&image.rgba);
}
