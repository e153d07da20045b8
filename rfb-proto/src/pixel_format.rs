//! The 16-byte PIXEL_FORMAT structure, its validation and the well-known formats.

use bytes::BufMut;

use crate::error::Malformed;
use crate::wire::{fail, run, Reader, Step};
use crate::{Error, Progress};

/// How pixel values are laid out on the wire.
///
/// Construct one directly or start from a well-known constant; [`PixelFormat::validate`]
/// says whether a peer may use it. Decoding from the wire always validates.
///
/// ```
/// use rfb_proto::PixelFormat;
/// let pf = PixelFormat::RGB888;
/// assert_eq!(pf.bytes_per_pixel(), 4);
/// let mut wire = Vec::new();
/// pf.encode(&mut wire);
/// assert_eq!(wire, [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
/// assert_eq!(PixelFormat::decode(&wire).unwrap().done(), Some((pf, 16)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelFormat {
    /// Bits per pixel on the wire: 8, 16 or 32.
    pub bits_per_pixel: u8,
    /// Useful bits in a pixel value.
    pub depth: u8,
    /// Multi-byte pixels are big-endian (meaningless for 8 bits per pixel).
    pub big_endian: bool,
    /// Pixels hold RGB intensities (true) or colour-map indices (false).
    pub true_colour: bool,
    /// Largest red value (2^n - 1).
    pub red_max: u16,
    /// Largest green value (2^n - 1).
    pub green_max: u16,
    /// Largest blue value (2^n - 1).
    pub blue_max: u16,
    /// Right shift that brings red to the least significant bit.
    pub red_shift: u8,
    /// Right shift that brings green to the least significant bit.
    pub green_shift: u8,
    /// Right shift that brings blue to the least significant bit.
    pub blue_shift: u8,
}

/// Why a pixel format is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PixelFormatError {
    /// Bits per pixel other than 8, 16 or 32.
    #[error("bits-per-pixel {0} (must be 8, 16 or 32)")]
    BitsPerPixel(u8),
    /// Depth 0, or larger than bits per pixel.
    #[error("depth {depth} with {bpp} bits per pixel")]
    Depth {
        /// Depth.
        depth: u8,
        /// Bits per pixel.
        bpp: u8,
    },
    /// A channel maximum that is not 2^n - 1, or is zero.
    #[error("{channel} max {max} is not 2^n-1")]
    ChannelMax {
        /// "red", "green" or "blue".
        channel: &'static str,
        /// The value.
        max: u16,
    },
    /// A channel that does not fit in the pixel (max << shift beyond bits per pixel).
    #[error("{channel} channel (max {max}, shift {shift}) does not fit in {bpp} bits")]
    ChannelRange {
        /// "red", "green" or "blue".
        channel: &'static str,
        /// The channel maximum.
        max: u16,
        /// The channel shift.
        shift: u8,
        /// Bits per pixel.
        bpp: u8,
    },
    /// Two channels share bits.
    #[error("colour channels overlap")]
    ChannelsOverlap,
    /// The channels need more bits than the depth gives.
    #[error("channels need {bits} bits but depth is {depth}")]
    ChannelsExceedDepth {
        /// Bits the channels need.
        bits: u32,
        /// Declared depth.
        depth: u8,
    },
    /// A colour-map format with 32 bits per pixel (indices are at most 16 bits).
    #[error("colour-map pixel format with {0} bits per pixel (8 or 16 allowed)")]
    ColourMapBitsPerPixel(u8),
}

impl PixelFormat {
    /// Length of the structure on the wire.
    pub const LEN: usize = 16;

    /// 32 bpp, depth 24, little-endian, red in bits 16-23, green 8-15, blue 0-7: the
    /// bytes in memory are `B G R 0`. TigerVNC calls it "rgb888"; it is what X servers
    /// use natively and what the corpus recordings hold.
    pub const RGB888: PixelFormat =
        PixelFormat::true_colour(32, 24, false, 255, 255, 255, 16, 8, 0);
    /// 32 bpp, depth 24, little-endian, red in bits 0-7: the bytes in memory are
    /// `R G B 0` (TigerVNC's "bgr888").
    pub const BGR888: PixelFormat =
        PixelFormat::true_colour(32, 24, false, 255, 255, 255, 0, 8, 16);
    /// 16 bpp, depth 16, little-endian 5-6-5 ("More colours" in most viewers).
    pub const RGB565: PixelFormat = PixelFormat::true_colour(16, 16, false, 31, 63, 31, 11, 5, 0);
    /// 16 bpp, depth 15, little-endian 5-5-5.
    pub const RGB555: PixelFormat = PixelFormat::true_colour(16, 15, false, 31, 31, 31, 10, 5, 0);
    /// 8 bpp true colour, red in the top 3 bits, blue in the low 2 ("rgb332").
    pub const RGB332: PixelFormat = PixelFormat::true_colour(8, 8, false, 7, 7, 3, 5, 2, 0);
    /// 8 bpp true colour, red in the low 3 bits, blue in the top 2 ("bgr233", what
    /// TigerVNC's viewer asks for as "Few colours").
    pub const BGR233: PixelFormat = PixelFormat::true_colour(8, 8, false, 7, 7, 3, 0, 3, 6);
    /// 8 bpp, 256-entry colour map (the server chooses the palette).
    pub const COLOUR_MAP8: PixelFormat = PixelFormat {
        bits_per_pixel: 8,
        depth: 8,
        big_endian: false,
        true_colour: false,
        red_max: 0,
        green_max: 0,
        blue_max: 0,
        red_shift: 0,
        green_shift: 0,
        blue_shift: 0,
    };

    /// A true-colour format.
    #[allow(clippy::too_many_arguments)]
    pub const fn true_colour(
        bits_per_pixel: u8,
        depth: u8,
        big_endian: bool,
        red_max: u16,
        green_max: u16,
        blue_max: u16,
        red_shift: u8,
        green_shift: u8,
        blue_shift: u8,
    ) -> PixelFormat {
        PixelFormat {
            bits_per_pixel,
            depth,
            big_endian,
            true_colour: true,
            red_max,
            green_max,
            blue_max,
            red_shift,
            green_shift,
            blue_shift,
        }
    }

    /// Bytes per pixel on the wire (1, 2 or 4 for a valid format).
    pub const fn bytes_per_pixel(&self) -> usize {
        (self.bits_per_pixel as usize).div_ceil(8)
    }

    /// Checks the rules a usable format must follow:
    ///
    /// - bits per pixel is 8, 16 or 32, and 1 ≤ depth ≤ bits per pixel;
    /// - true colour: each max is 2^n - 1 with n ≥ 1, each channel fits inside bits per
    ///   pixel at its shift, channels do not overlap, and their bits add up to at most
    ///   the depth — except that depth equal to bits per pixel is always accepted, as some
    ///   servers report depth = bpp for historical reasons;
    /// - colour map: 8 or 16 bits per pixel (shifts and maxima are ignored).
    pub fn validate(&self) -> Result<(), PixelFormatError> {
        let bpp = self.bits_per_pixel;
        if !matches!(bpp, 8 | 16 | 32) {
            return Err(PixelFormatError::BitsPerPixel(bpp));
        }
        if self.depth == 0 || self.depth > bpp {
            return Err(PixelFormatError::Depth {
                depth: self.depth,
                bpp,
            });
        }
        if !self.true_colour {
            return if bpp == 32 {
                Err(PixelFormatError::ColourMapBitsPerPixel(bpp))
            } else {
                Ok(())
            };
        }
        let mut used: u64 = 0;
        let mut bits = 0;
        for (channel, max, shift) in [
            ("red", self.red_max, self.red_shift),
            ("green", self.green_max, self.green_shift),
            ("blue", self.blue_max, self.blue_shift),
        ] {
            if max == 0 || (max & max.wrapping_add(1)) != 0 {
                return Err(PixelFormatError::ChannelMax { channel, max });
            }
            let n = 16 - max.leading_zeros();
            if u32::from(shift) + n > u32::from(bpp) {
                return Err(PixelFormatError::ChannelRange {
                    channel,
                    max,
                    shift,
                    bpp,
                });
            }
            let mask = u64::from(max) << shift;
            if used & mask != 0 {
                return Err(PixelFormatError::ChannelsOverlap);
            }
            used |= mask;
            bits += n;
        }
        if bits > u32::from(self.depth) && self.depth != bpp {
            return Err(PixelFormatError::ChannelsExceedDepth {
                bits,
                depth: self.depth,
            });
        }
        Ok(())
    }

    /// Parses and validates the 16-byte structure (padding is ignored).
    pub fn decode(buf: &[u8]) -> Result<Progress<PixelFormat>, Error> {
        run(buf, Self::read)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Step<PixelFormat> {
        let pf = PixelFormat {
            bits_per_pixel: r.u8()?,
            depth: r.u8()?,
            big_endian: r.u8()? != 0,
            true_colour: r.u8()? != 0,
            red_max: r.u16()?,
            green_max: r.u16()?,
            blue_max: r.u16()?,
            red_shift: r.u8()?,
            green_shift: r.u8()?,
            blue_shift: r.u8()?,
        };
        r.skip(3)?;
        match pf.validate() {
            Ok(()) => Ok(pf),
            Err(e) => fail(Malformed::PixelFormat(e)),
        }
    }

    /// Appends the 16-byte structure.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(self.bits_per_pixel);
        out.put_u8(self.depth);
        out.put_u8(u8::from(self.big_endian));
        out.put_u8(u8::from(self.true_colour));
        out.put_u16(self.red_max);
        out.put_u16(self.green_max);
        out.put_u16(self.blue_max);
        out.put_u8(self.red_shift);
        out.put_u8(self.green_shift);
        out.put_u8(self.blue_shift);
        out.put_slice(&[0, 0, 0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_formats_are_valid() {
        for pf in [
            PixelFormat::RGB888,
            PixelFormat::BGR888,
            PixelFormat::RGB565,
            PixelFormat::RGB555,
            PixelFormat::RGB332,
            PixelFormat::BGR233,
            PixelFormat::COLOUR_MAP8,
        ] {
            pf.validate().unwrap();
            let mut w = Vec::new();
            pf.encode(&mut w);
            assert_eq!(PixelFormat::decode(&w).unwrap().done(), Some((pf, 16)));
        }
    }

    #[test]
    fn invalid_formats() {
        let base = PixelFormat::RGB888;
        let cases = [
            PixelFormat {
                bits_per_pixel: 24,
                ..base
            },
            PixelFormat { depth: 0, ..base },
            PixelFormat { depth: 33, ..base },
            PixelFormat {
                red_max: 254,
                ..base
            },
            PixelFormat { red_max: 0, ..base },
            PixelFormat {
                red_shift: 25,
                ..base
            },
            PixelFormat {
                green_shift: 12,
                ..base
            },
            PixelFormat { depth: 16, ..base },
            PixelFormat {
                true_colour: false,
                ..base
            },
        ];
        for pf in cases {
            assert!(pf.validate().is_err(), "{pf:?}");
            let mut w = Vec::new();
            pf.encode(&mut w);
            assert!(matches!(
                PixelFormat::decode(&w),
                Err(Error::Malformed(Malformed::PixelFormat(_)))
            ));
        }
        // Depth equal to bits per pixel is tolerated (historical servers).
        PixelFormat { depth: 32, ..base }.validate().unwrap();
    }
}
