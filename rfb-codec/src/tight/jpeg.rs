//! JPEG for Tight: `jpeg-encoder` to encode, `zune-jpeg` to decode, both pure Rust.

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use rfb_proto::PixelFormat;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use crate::pixel::{from_rgb8, pixel_value, put_pixel_value, rgb8};
use crate::{CodecError, PixelView};

use super::{malformed, JpegSettings, Subsampling, TpixelFormat};

/// Encodes `pixels` (a true-colour format) as a baseline JFIF stream into `out`
/// (cleared first). `rgb` is scratch space.
pub(crate) fn encode(
    pixels: &PixelView<'_>,
    settings: &JpegSettings,
    rgb: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let f = pixels.format();
    let (w, h) = (pixels.width(), pixels.height());
    rgb.clear();
    let tf = TpixelFormat::new(f);
    let gray = settings.subsampling == Subsampling::Gray;
    let bpp = f.bytes_per_pixel();
    // Fast path: 32-bit pixels with whole-byte channels go to the JPEG encoder as they
    // are (it reads RGBA/BGRA itself and ignores the fourth byte).
    let direct = match (gray, tf.offsets()) {
        (false, Some([0, 1, 2])) => Some(ColorType::Rgba),
        (false, Some([2, 1, 0])) => Some(ColorType::Bgra),
        _ => None,
    };
    let colour = if let Some(c) = direct {
        for row in pixels.rows() {
            rgb.extend_from_slice(row);
        }
        c
    } else {
        let mut t = [0u8; 4];
        for row in pixels.rows() {
            for px in row.chunks_exact(bpp) {
                let c = if tf.bytes() == 3 {
                    tf.to_tpixel(px, &mut t);
                    [t[0], t[1], t[2]]
                } else {
                    rgb8(pixel_value(px, f), f, None)
                };
                if gray {
                    // ITU-R BT.601 luma, as JPEG's YCbCr uses.
                    let y = (19595 * u32::from(c[0])
                        + 38470 * u32::from(c[1])
                        + 7471 * u32::from(c[2])
                        + 32768)
                        >> 16;
                    rgb.push(y as u8);
                } else {
                    rgb.extend_from_slice(&c);
                }
            }
        }
        if gray {
            ColorType::Luma
        } else {
            ColorType::Rgb
        }
    };
    out.clear();
    let mut enc = Encoder::new(&mut *out, settings.quality.clamp(1, 100));
    enc.set_sampling_factor(match settings.subsampling {
        Subsampling::None | Subsampling::Gray => SamplingFactor::R_4_4_4,
        Subsampling::Chroma2x => SamplingFactor::R_4_2_2,
        // 8X and 16X as 4:2:0 too: jpeg-encoder's 4x2 factor did not round-trip through
        // zune-jpeg (12 dB in our test) and it has no 4x4 factor.
        Subsampling::Chroma4x | Subsampling::Chroma8x | Subsampling::Chroma16x => {
            SamplingFactor::R_4_2_0
        }
    });
    enc.encode(rgb, w, h, colour)
        .map_err(|e| CodecError::ApiMisuse {
            what: format!("JPEG encoder failed: {e}"),
        })
}

/// Decodes the JFIF stream `data`, which must be exactly `width` x `height`, into packed
/// pixels of `format` (true colour) in `out` (resized).
pub(crate) fn decode(
    data: &[u8],
    width: u16,
    height: u16,
    format: &PixelFormat,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    if width == 0 || height == 0 {
        return Err(malformed("JPEG rectangle with no pixels"));
    }
    let opts = DecoderOptions::default()
        .set_max_width(width.into())
        .set_max_height(height.into())
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut d = JpegDecoder::new_with_options(ZCursor::new(data), opts);
    d.decode_headers()
        .map_err(|e| malformed(format!("JPEG headers: {e:?}")))?;
    let info = d
        .info()
        .ok_or_else(|| malformed("JPEG without a frame header"))?;
    if info.width != width || info.height != height {
        return Err(malformed(format!(
            "JPEG of {}x{} for a {width}x{height} rectangle",
            info.width, info.height
        )));
    }
    let comps = match d.output_colorspace() {
        Some(ColorSpace::RGB) => 3,
        Some(ColorSpace::Luma) => 1,
        other => return Err(malformed(format!("JPEG decodes to {other:?}"))),
    };
    let n = usize::from(width) * usize::from(height);
    if d.output_buffer_size() != Some(n * comps) {
        return Err(malformed("JPEG output size does not match the rectangle"));
    }
    let mut rgb = vec![0u8; n * comps];
    d.decode_into(&mut rgb)
        .map_err(|e| malformed(format!("JPEG data: {e:?}")))?;
    let bpp = format.bytes_per_pixel();
    out.clear();
    out.resize(n * bpp, 0);
    let tf = TpixelFormat::new(format);
    for (i, px) in out.chunks_exact_mut(bpp).enumerate() {
        let c = if comps == 3 {
            [rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]]
        } else {
            [rgb[i]; 3]
        };
        if tf.bytes() == 3 {
            tf.from_tpixel(&c, px);
        } else {
            put_pixel_value(from_rgb8(c, format, None), format, px);
        }
    }
    Ok(())
}
