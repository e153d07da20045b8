//! JPEG for Tight: our own encoder ([`crate::jpeg`]) to encode, `zune-jpeg` to decode,
//! both pure Rust.

use rfb_proto::PixelFormat;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use crate::jpeg::{JpegEncoder, JpegSampling};
use crate::pixel::{from_rgb8, put_pixel_value};
use crate::{CodecError, PixelView};

use super::{malformed, JpegSettings, Subsampling, TpixelFormat};

/// Encodes `pixels` (a true-colour format) as a baseline JFIF stream into `out`
/// (cleared first) with `encoder` (ours, [`crate::jpeg`], which reads the pixels in
/// place).
pub(crate) fn encode(
    encoder: &mut JpegEncoder,
    pixels: &PixelView<'_>,
    settings: &JpegSettings,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let sampling = match settings.subsampling {
        Subsampling::None => JpegSampling::Yuv444,
        Subsampling::Gray => JpegSampling::Gray,
        Subsampling::Chroma2x => JpegSampling::Yuv422,
        // 8X and 16X as 4:2:0: baseline JPEG decoders commonly handle at most 2x2.
        Subsampling::Chroma4x | Subsampling::Chroma8x | Subsampling::Chroma16x => {
            JpegSampling::Yuv420
        }
    };
    out.clear();
    encoder.encode(pixels, settings.quality.clamp(1, 100), sampling, out)
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
