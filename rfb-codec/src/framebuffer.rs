//! Owned framebuffers and borrowed strided views.

use rfb_proto::{PixelFormat, Rect};

use crate::CodecError;

/// An owned pixel buffer: `width` x `height` pixels in one [`PixelFormat`], rows packed
/// (stride = width x bytes per pixel).
///
/// ```
/// use rfb_codec::{Framebuffer, PixelFormat, Rect};
/// let mut fb = Framebuffer::new(4, 2, PixelFormat::RGB888);
/// fb.fill(Rect::new(1, 0, 2, 2), &[1, 2, 3, 0]).unwrap();
/// assert_eq!(&fb.row(1)[4..8], &[1, 2, 3, 0]);
/// assert!(fb.fill(Rect::new(3, 0, 2, 1), &[0; 4]).is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Framebuffer {
    width: u16,
    height: u16,
    format: PixelFormat,
    data: Vec<u8>,
}

impl std::fmt::Debug for Framebuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Framebuffer")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Framebuffer {
    /// A zero-filled framebuffer.
    pub fn new(width: u16, height: u16, format: PixelFormat) -> Framebuffer {
        let len = usize::from(width) * usize::from(height) * format.bytes_per_pixel();
        Framebuffer {
            width,
            height,
            format,
            data: vec![0; len],
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u16 {
        self.height
    }

    /// The pixel format of the stored pixels.
    pub fn format(&self) -> &PixelFormat {
        &self.format
    }

    /// Bytes per pixel.
    pub fn bytes_per_pixel(&self) -> usize {
        self.format.bytes_per_pixel()
    }

    /// Bytes per row.
    pub fn stride(&self) -> usize {
        usize::from(self.width) * self.bytes_per_pixel()
    }

    /// All pixel bytes, row after row.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// All pixel bytes, mutable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// A framebuffer holding `data` (packed rows; must be exactly
    /// `width * height * bpp` bytes).
    pub fn from_data(
        width: u16,
        height: u16,
        format: PixelFormat,
        data: Vec<u8>,
    ) -> Result<Framebuffer, CodecError> {
        let len = usize::from(width) * usize::from(height) * format.bytes_per_pixel();
        if data.len() != len {
            return Err(CodecError::Malformed {
                encoding: "framebuffer",
                what: format!("{} bytes for {width}x{height}", data.len()),
            });
        }
        Ok(Framebuffer {
            width,
            height,
            format,
            data,
        })
    }

    /// Row `y` (panics if `y >= height`; callers check rectangles first).
    pub fn row(&self, y: u16) -> &[u8] {
        let s = self.stride();
        &self.data[usize::from(y) * s..(usize::from(y) + 1) * s]
    }

    /// The whole framebuffer as a rectangle.
    pub fn rect(&self) -> Rect {
        Rect::new(0, 0, self.width, self.height)
    }

    /// [`CodecError::OutOfBounds`] unless `rect` lies inside the framebuffer.
    pub fn check(&self, rect: Rect) -> Result<(), CodecError> {
        if rect.fits_in(self.width, self.height) {
            Ok(())
        } else {
            Err(CodecError::OutOfBounds {
                what: "rectangle",
                x: rect.x.into(),
                y: rect.y.into(),
                width: rect.width.into(),
                height: rect.height.into(),
                bound_width: self.width.into(),
                bound_height: self.height.into(),
            })
        }
    }

    /// A borrowed view of `rect` (checked).
    pub fn view(&self, rect: Rect) -> Result<PixelView<'_>, CodecError> {
        self.check(rect)?;
        let bpp = self.bytes_per_pixel();
        let stride = self.stride();
        let data = if rect.is_empty() {
            &self.data[..0]
        } else {
            let start = usize::from(rect.y) * stride + usize::from(rect.x) * bpp;
            &self.data[start
                ..start + (usize::from(rect.height) - 1) * stride + usize::from(rect.width) * bpp]
        };
        Ok(PixelView {
            data,
            stride,
            width: rect.width,
            height: rect.height,
            format: self.format,
        })
    }

    /// Fills `rect` (checked) with one pixel value given in the framebuffer's format.
    pub fn fill(&mut self, rect: Rect, pixel: &[u8]) -> Result<(), CodecError> {
        self.check(rect)?;
        let bpp = self.bytes_per_pixel();
        if pixel.len() != bpp {
            return Err(CodecError::Malformed {
                encoding: "fill",
                what: format!("pixel of {} bytes for {bpp} bytes per pixel", pixel.len()),
            });
        }
        if rect.is_empty() {
            return Ok(());
        }
        let stride = self.stride();
        let row_len = usize::from(rect.width) * bpp;
        let first = usize::from(rect.y) * stride + usize::from(rect.x) * bpp;
        for px in self.data[first..first + row_len].chunks_exact_mut(bpp) {
            px.copy_from_slice(pixel);
        }
        for y in 1..usize::from(rect.height) {
            self.data
                .copy_within(first..first + row_len, first + y * stride);
        }
        Ok(())
    }

    /// Writes `rect` (checked) from packed rows of pixels in the framebuffer's format
    /// (`pixels.len()` must be `width * height * bpp`).
    pub fn put_pixels(&mut self, rect: Rect, pixels: &[u8]) -> Result<(), CodecError> {
        self.check(rect)?;
        let bpp = self.bytes_per_pixel();
        let row_len = usize::from(rect.width) * bpp;
        if pixels.len() != row_len * usize::from(rect.height) {
            return Err(CodecError::Malformed {
                encoding: "pixels",
                what: format!(
                    "{} bytes for a {}x{} rectangle",
                    pixels.len(),
                    rect.width,
                    rect.height
                ),
            });
        }
        if row_len == 0 {
            return Ok(());
        }
        let stride = self.stride();
        for (i, src) in pixels.chunks_exact(row_len).enumerate() {
            let start = (usize::from(rect.y) + i) * stride + usize::from(rect.x) * bpp;
            self.data[start..start + row_len].copy_from_slice(src);
        }
        Ok(())
    }

    /// Copies the `width` x `height` area at `src` to `dst` (both checked; overlapping
    /// areas are handled like `memmove`), as CopyRect does.
    pub fn copy_within(&mut self, src: Rect, dst_x: u16, dst_y: u16) -> Result<(), CodecError> {
        let dst = Rect::new(dst_x, dst_y, src.width, src.height);
        self.check(src)?;
        self.check(dst)?;
        let bpp = self.bytes_per_pixel();
        let stride = self.stride();
        let row_len = usize::from(src.width) * bpp;
        let rows: Box<dyn Iterator<Item = u16>> = if dst_y > src.y {
            Box::new((0..src.height).rev())
        } else {
            Box::new(0..src.height)
        };
        for i in rows {
            let s = usize::from(src.y + i) * stride + usize::from(src.x) * bpp;
            let d = usize::from(dst_y + i) * stride + usize::from(dst_x) * bpp;
            self.data.copy_within(s..s + row_len, d);
        }
        Ok(())
    }
}

/// A borrowed, strided view of a rectangle of pixels in one format.
///
/// ```
/// use rfb_codec::{Framebuffer, PixelFormat, Rect};
/// let fb = Framebuffer::new(8, 8, PixelFormat::RGB565);
/// let v = fb.view(Rect::new(2, 2, 3, 4)).unwrap();
/// assert_eq!((v.width(), v.height(), v.row(0).len()), (3, 4, 6));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PixelView<'a> {
    data: &'a [u8],
    stride: usize,
    width: u16,
    height: u16,
    format: PixelFormat,
}

impl<'a> PixelView<'a> {
    /// A view over packed or strided pixel bytes. `data` must hold `height` rows of
    /// `stride` bytes (the last row may be just `width * bpp` long).
    pub fn new(
        data: &'a [u8],
        stride: usize,
        width: u16,
        height: u16,
        format: PixelFormat,
    ) -> Result<PixelView<'a>, CodecError> {
        let row_len = usize::from(width) * format.bytes_per_pixel();
        let needed = if height == 0 || width == 0 {
            Some(0)
        } else {
            (usize::from(height) - 1)
                .checked_mul(stride)
                .and_then(|n| n.checked_add(row_len))
        };
        if stride < row_len || needed.is_none_or(|n| data.len() < n) {
            return Err(CodecError::Malformed {
                encoding: "view",
                what: format!(
                    "{} bytes with stride {stride} for {width}x{height}",
                    data.len()
                ),
            });
        }
        Ok(PixelView {
            data,
            stride,
            width,
            height,
            format,
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

    /// The pixel format.
    pub fn format(&self) -> &PixelFormat {
        &self.format
    }

    /// Bytes between the starts of two rows.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Row `y` (exactly `width * bpp` bytes). Panics if `y >= height`.
    pub fn row(&self, y: u16) -> &'a [u8] {
        assert!(
            y < self.height,
            "row {y} of a view {} rows high",
            self.height
        );
        let len = usize::from(self.width) * self.format.bytes_per_pixel();
        if len == 0 {
            return &self.data[..0];
        }
        let start = usize::from(y) * self.stride;
        &self.data[start..start + len]
    }

    /// Iterates over the rows, top to bottom.
    pub fn rows(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.height).map(move |y| self.row(y))
    }

    /// The pixels packed row after row (`width * height * bpp` bytes).
    pub fn to_packed(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            usize::from(self.width) * usize::from(self.height) * self.format.bytes_per_pixel(),
        );
        for row in self.rows() {
            out.extend_from_slice(row);
        }
        out
    }

    /// A sub-view (checked against this view).
    pub fn sub(&self, rect: Rect) -> Result<PixelView<'a>, CodecError> {
        if !rect.fits_in(self.width, self.height) {
            return Err(CodecError::OutOfBounds {
                what: "sub-rectangle",
                x: rect.x.into(),
                y: rect.y.into(),
                width: rect.width.into(),
                height: rect.height.into(),
                bound_width: self.width.into(),
                bound_height: self.height.into(),
            });
        }
        let bpp = self.format.bytes_per_pixel();
        let start = usize::from(rect.y) * self.stride + usize::from(rect.x) * bpp;
        let data = if rect.is_empty() {
            &self.data[..0]
        } else {
            &self.data[start..]
        };
        PixelView::new(data, self.stride, rect.width, rect.height, self.format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_views_anywhere_inside() {
        let fb = Framebuffer::new(3, 2, PixelFormat::RGB888);
        for r in [
            Rect::new(3, 2, 0, 0),
            Rect::new(3, 0, 0, 2),
            Rect::new(0, 2, 3, 0),
        ] {
            let v = fb.view(r).unwrap();
            assert_eq!(v.rows().count(), usize::from(r.height));
            assert!(v.to_packed().is_empty());
        }
        assert!(fb.view(Rect::new(4, 0, 0, 0)).is_err());
        let v = PixelView::new(&[], 12, 0, 3, PixelFormat::RGB888).unwrap();
        assert_eq!(v.row(2), &[] as &[u8]);
    }

    #[test]
    fn fill_and_copy() {
        let mut fb = Framebuffer::new(4, 3, PixelFormat::RGB565);
        fb.fill(Rect::new(1, 1, 2, 2), &[1, 2]).unwrap();
        assert_eq!(fb.row(0), &[0; 8]);
        assert_eq!(fb.row(1), &[0, 0, 1, 2, 1, 2, 0, 0]);
        assert_eq!(fb.row(2), &[0, 0, 1, 2, 1, 2, 0, 0]);
        fb.copy_within(Rect::new(1, 1, 2, 2), 2, 0).unwrap();
        assert_eq!(fb.row(0), &[0, 0, 0, 0, 1, 2, 1, 2]);
        assert!(fb.copy_within(Rect::new(1, 1, 2, 2), 3, 0).is_err());
        assert!(fb.fill(Rect::new(0, 0, 1, 1), &[1]).is_err());
        assert!(Framebuffer::from_data(2, 2, PixelFormat::RGB332, vec![0; 3]).is_err());
    }
}
