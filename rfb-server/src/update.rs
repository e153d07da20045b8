//! One viewer's update machinery: what it asked for, what it lacks, and the encoder
//! state that turns that into a FramebufferUpdate.

use bytes::{BufMut, BytesMut};
use rfb_codec::cursor::CursorImage;
use rfb_codec::{Framebuffer, Palette, PixelView, RectEncoder, Region, Translator};
use rfb_proto::server::{ExtendedDesktopSize, FramebufferUpdateHeader};
use rfb_proto::{Encoding, PixelFormat, Rect, RectHeader, Screen};

use crate::{CopyMove, PendingUpdate, ServerError};

/// Tallest band a rectangle is cut into (encoders and zlib streams like moderate
/// pieces; a band of a 1920-wide screen is then at most 480 KiB of 32-bit pixels).
const MAX_BAND_HEIGHT: u16 = 64;
/// Largest side of a CoRRE rectangle.
const CORRE_MAX: u16 = 255;
/// Above this many rectangles, the region is sent as its bounding box instead.
const MAX_REGION_RECTS: usize = 512;

/// The pseudo-encodings and extensions a viewer listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Features {
    pub(crate) copy_rect: bool,
    pub(crate) desktop_size: bool,
    pub(crate) extended_desktop_size: bool,
    pub(crate) desktop_name: bool,
    pub(crate) last_rect: bool,
    pub(crate) fence: bool,
    pub(crate) continuous_updates: bool,
    pub(crate) extended_clipboard: bool,
    pub(crate) qemu_key: bool,
    /// The first cursor pseudo-encoding of the list (preference order).
    pub(crate) cursor: Option<Encoding>,
    pub(crate) quality: Option<u8>,
    pub(crate) compress: Option<u8>,
}

impl Features {
    pub(crate) fn from_list(list: &[Encoding]) -> Features {
        let mut f = Features::default();
        for &e in list {
            match e {
                Encoding::COPY_RECT => f.copy_rect = true,
                Encoding::DESKTOP_SIZE => f.desktop_size = true,
                Encoding::EXTENDED_DESKTOP_SIZE => f.extended_desktop_size = true,
                Encoding::DESKTOP_NAME => f.desktop_name = true,
                Encoding::LAST_RECT => f.last_rect = true,
                Encoding::FENCE => f.fence = true,
                Encoding::CONTINUOUS_UPDATES => f.continuous_updates = true,
                Encoding::EXTENDED_CLIPBOARD => f.extended_clipboard = true,
                Encoding::QEMU_EXTENDED_KEY_EVENT => f.qemu_key = true,
                Encoding::CURSOR | Encoding::X_CURSOR | Encoding::CURSOR_WITH_ALPHA => {
                    f.cursor.get_or_insert(e);
                }
                e => {
                    if let Some(q) = e.quality_level() {
                        f.quality.get_or_insert(q);
                    } else if let Some(c) = e.compress_level() {
                        f.compress.get_or_insert(c);
                    }
                }
            }
        }
        f
    }
}

/// The first encoding of the viewer's list that this crate can produce (Raw when none).
fn choose_encoding(list: &[Encoding]) -> Encoding {
    const ENCODABLE: [Encoding; 7] = [
        Encoding::ZRLE,
        Encoding::TRLE,
        Encoding::ZLIB,
        Encoding::HEXTILE,
        Encoding::RRE,
        Encoding::CORRE,
        Encoding::RAW,
    ];
    list.iter()
        .copied()
        .find(|e| ENCODABLE.contains(e))
        .unwrap_or(Encoding::RAW)
}

/// A new encoder for `encoding` (one of [`choose_encoding`]'s answers).
fn new_encoder(encoding: Encoding, compress: Option<u8>) -> Box<dyn RectEncoder + Send> {
    use rfb_codec::{hextile, raw, rre, trle, zlib, zrle};
    // CompressLevel 1..=9 maps onto zlib levels (0, "none", is taken as 1); the default
    // is 1, as fast as zlib gets with real compression.
    let level = compress.map(u32::from).unwrap_or(1).clamp(1, 9);
    match encoding {
        Encoding::ZRLE => Box::new(zrle::ZrleEncoder::new(level)),
        Encoding::TRLE => Box::new(trle::TrleEncoder::default()),
        Encoding::ZLIB => Box::new(zlib::ZlibEncoder::new(level)),
        Encoding::HEXTILE => Box::new(hextile::HextileEncoder),
        Encoding::RRE => Box::new(rre::RreEncoder),
        Encoding::CORRE => Box::new(rre::CorreEncoder),
        _ => Box::new(raw::RawEncoder),
    }
}

/// What a viewer asked for and lacks, and how to encode for it.
pub(crate) struct Updater {
    pub(crate) pending: PendingUpdate,
    /// Area of the outstanding update request(s), cleared when an update is sent.
    pub(crate) requested: Region,
    /// Continuous updates: the area, while enabled.
    pub(crate) continuous: Option<Rect>,
    /// The encoding updates are written in.
    encoding: Encoding,
    /// Every encoder used so far, kept for the connection's lifetime: the zlib-based
    /// ones own a stream the viewer's decoder continues, so a second SetEncodings (or a
    /// switch back) must find the same stream. Their compression level is fixed when
    /// created (a running zlib stream cannot change level). At most 7 entries.
    encoders: Vec<Box<dyn RectEncoder + Send>>,
    /// Translator from the native format to the viewer's, when they differ.
    translator: Option<Translator>,
    scratch: Vec<u8>,
    /// Pseudo-rectangles waiting for the next update.
    pub(crate) send_size: bool,
    pub(crate) layout_reply: Option<(u16, u16)>,
    pub(crate) name: Option<String>,
    pub(crate) cursor: Option<CursorImage>,
    /// Confirms the QEMU Extended Key Event extension (an empty pseudo-rectangle).
    pub(crate) qemu_key_ack: bool,
}

impl Updater {
    pub(crate) fn new() -> Updater {
        Updater {
            pending: PendingUpdate::default(),
            requested: Region::new(),
            continuous: None,
            encoding: Encoding::RAW,
            encoders: Vec::new(),
            translator: None,
            scratch: Vec::new(),
            send_size: false,
            layout_reply: None,
            name: None,
            cursor: None,
            qemu_key_ack: false,
        }
    }

    pub(crate) fn set_encodings(&mut self, list: &[Encoding], features: &Features) {
        self.encoding = choose_encoding(list);
        if !self.encoders.iter().any(|e| e.encoding() == self.encoding) {
            self.encoders
                .push(new_encoder(self.encoding, features.compress));
        }
    }

    pub(crate) fn encoding(&self) -> Encoding {
        self.encoding
    }

    fn encoder(&mut self) -> &mut (dyn RectEncoder + Send) {
        let i = match self
            .encoders
            .iter()
            .position(|e| e.encoding() == self.encoding)
        {
            Some(i) => i,
            None => {
                self.encoders.push(new_encoder(self.encoding, None));
                self.encoders.len() - 1
            }
        };
        &mut *self.encoders[i]
    }

    /// Prepares translation from `native` to `client` (with `palette` for colour-map
    /// clients).
    pub(crate) fn set_formats(
        &mut self,
        native: &PixelFormat,
        client: &PixelFormat,
        palette: Option<&Palette>,
    ) -> Result<(), ServerError> {
        self.translator = if native == client {
            None
        } else {
            Some(
                Translator::new(native, None, client, palette)
                    .map_err(|e| ServerError::Encoding(e.to_string()))?,
            )
        };
        // Zlib-stateful encoders keep their stream; the pixel size change is fine for
        // them (each rectangle carries its own pixels).
        Ok(())
    }

    /// True if there is something to send.
    pub(crate) fn has_content(&self) -> bool {
        let area = self.area();
        !self.pending.region.intersect(&area).is_empty()
            || self.pending.copy.is_some()
            || self.pending.resized
            || self.send_size
            || self.layout_reply.is_some()
            || self.name.is_some()
            || self.cursor.is_some()
            || self.qemu_key_ack
    }

    /// Whether the viewer may receive an update now (it asked, or has continuous updates).
    pub(crate) fn may_send(&self) -> bool {
        !self.requested.is_empty() || self.continuous.is_some()
    }

    fn area(&self) -> Region {
        match self.continuous {
            Some(r) => self.requested.union(&Region::from(r)),
            None => self.requested.clone(),
        }
    }

    /// Encodes one FramebufferUpdate from `frame` into `out`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_update(
        &mut self,
        frame: &Framebuffer,
        client: &PixelFormat,
        palette: Option<&Palette>,
        features: &Features,
        screens: &[Screen],
        out: &mut BytesMut,
    ) -> Result<(), ServerError> {
        let fb_rect = frame.rect();
        let (w, h) = (frame.width(), frame.height());
        let area = self.area().clip(fb_rect);
        let resized = std::mem::take(&mut self.pending.resized) || self.send_size;
        self.send_size = false;
        let mut copy = self.pending.copy.take();
        if resized {
            copy = None;
        }
        if let Some(mv) = copy {
            if !features.copy_rect || !mv.fits_in(w, h) {
                self.pending.region.add_rect(mv.dst());
                copy = None;
            }
        }
        let mut region = if resized {
            Region::from(fb_rect)
        } else {
            self.pending.region.intersect(&area)
        };
        if region.rect_count() > MAX_REGION_RECTS {
            if let Some(b) = region.bounding_box() {
                region = Region::from(b);
            }
        }
        self.pending.region = self.pending.region.subtract(&region);
        if resized {
            self.pending.region = Region::new();
            if !features.desktop_size && !features.extended_desktop_size {
                return Err(ServerError::ClosedByServer(
                    "the desktop was resized and this viewer cannot follow".into(),
                ));
            }
        }

        // Collect the pieces first, to write an exact count.
        let mut pieces: Vec<Piece> = Vec::new();
        if resized {
            if features.extended_desktop_size {
                let (reason, status) = self
                    .layout_reply
                    .take()
                    .unwrap_or((ExtendedDesktopSize::REASON_SERVER, 0));
                pieces.push(Piece::Layout(ExtendedDesktopSize {
                    reason,
                    status,
                    width: w,
                    height: h,
                    screens: screens.to_vec(),
                }));
            } else {
                pieces.push(Piece::Size(w, h));
            }
        } else if let Some((reason, status)) = self.layout_reply.take() {
            if features.extended_desktop_size {
                pieces.push(Piece::Layout(ExtendedDesktopSize {
                    reason,
                    status,
                    width: w,
                    height: h,
                    screens: screens.to_vec(),
                }));
            }
        }
        if let Some(name) = self.name.take() {
            if features.desktop_name {
                pieces.push(Piece::Name(name));
            }
        }
        if let Some(c) = self.cursor.take() {
            if let Some(kind) = features.cursor {
                pieces.push(Piece::Cursor(kind, c));
            }
        }
        if std::mem::take(&mut self.qemu_key_ack) {
            pieces.push(Piece::Empty(Encoding::QEMU_EXTENDED_KEY_EVENT));
        }
        if let Some(mv) = copy {
            pieces.push(Piece::Copy(mv));
        }
        let corre = self.encoding == Encoding::CORRE;
        for r in region.rects() {
            split(r, corre, |piece| pieces.push(Piece::Pixels(piece)));
        }
        if pieces.is_empty() {
            return Ok(());
        }
        let use_last_rect = pieces.len() >= usize::from(FramebufferUpdateHeader::UNKNOWN_COUNT);
        if use_last_rect && !features.last_rect {
            // Cannot be reached with MAX_REGION_RECTS bands of a u16-sized screen... but
            // a huge screen cut into 64-row bands could: send the bounding box instead.
            return Err(ServerError::Encoding(
                "too many rectangles for one update".into(),
            ));
        }
        let count = if use_last_rect {
            FramebufferUpdateHeader::UNKNOWN_COUNT
        } else {
            pieces.len() as u16 // < 65535, checked above
        };
        FramebufferUpdateHeader { rects: count }.encode(out);
        for piece in pieces {
            self.write_piece(piece, frame, client, palette, out)?;
        }
        if use_last_rect {
            RectHeader {
                rect: Rect::new(0, 0, 0, 0),
                encoding: Encoding::LAST_RECT,
            }
            .encode(out);
        }
        self.requested = Region::new();
        Ok(())
    }

    fn write_piece(
        &mut self,
        piece: Piece,
        frame: &Framebuffer,
        client: &PixelFormat,
        palette: Option<&Palette>,
        out: &mut BytesMut,
    ) -> Result<(), ServerError> {
        let codec = |e: rfb_codec::CodecError| ServerError::Encoding(e.to_string());
        match piece {
            Piece::Size(w, h) => RectHeader {
                rect: Rect::new(0, 0, w, h),
                encoding: Encoding::DESKTOP_SIZE,
            }
            .encode(out),
            Piece::Layout(eds) => eds.encode(out),
            Piece::Empty(encoding) => RectHeader {
                rect: Rect::new(0, 0, 0, 0),
                encoding,
            }
            .encode(out),
            Piece::Name(name) => {
                RectHeader {
                    rect: Rect::new(0, 0, 0, 0),
                    encoding: Encoding::DESKTOP_NAME,
                }
                .encode(out);
                let bytes = name.as_bytes();
                out.put_u32(bytes.len() as u32);
                out.put_slice(bytes);
            }
            Piece::Cursor(kind, image) => {
                RectHeader {
                    rect: image.rect(),
                    encoding: kind,
                }
                .encode(out);
                match kind {
                    Encoding::CURSOR_WITH_ALPHA => {
                        rfb_codec::cursor::encode_alpha_cursor(&image, out)
                    }
                    Encoding::X_CURSOR => rfb_codec::cursor::encode_x_cursor(&image, out),
                    _ => rfb_codec::cursor::encode_cursor(&image, client, palette, out)
                        .map_err(codec)?,
                }
            }
            Piece::Copy(mv) => {
                RectHeader {
                    rect: mv.dst(),
                    encoding: Encoding::COPY_RECT,
                }
                .encode(out);
                rfb_codec::copy_rect::encode_copy_rect(mv.src.x, mv.src.y, out);
            }
            Piece::Pixels(r) => {
                RectHeader {
                    rect: r,
                    encoding: self.encoding,
                }
                .encode(out);
                let view = frame.view(r).map_err(codec)?;
                match &self.translator {
                    None => self.encoder().encode(&view, out).map_err(codec)?,
                    Some(t) => {
                        let bpp = client.bytes_per_pixel();
                        let len = usize::from(r.width) * usize::from(r.height) * bpp;
                        let mut scratch = std::mem::take(&mut self.scratch);
                        scratch.resize(len, 0);
                        let result = t.translate_into(&view, &mut scratch).and_then(|()| {
                            let translated = PixelView::new(
                                &scratch,
                                usize::from(r.width) * bpp,
                                r.width,
                                r.height,
                                *client,
                            )?;
                            self.encoder().encode(&translated, out)
                        });
                        self.scratch = scratch;
                        result.map_err(codec)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Bytes held by this viewer's scratch buffer (for the memory bound).
    pub(crate) fn scratch_capacity(&self) -> usize {
        self.scratch.capacity()
    }
}

enum Piece {
    Size(u16, u16),
    Empty(Encoding),
    Layout(ExtendedDesktopSize),
    Name(String),
    Cursor(Encoding, CursorImage),
    Copy(CopyMove),
    Pixels(Rect),
}

/// Cuts `r` into pieces the encoder takes: CoRRE at most 255x255, others full-width
/// bands of at most [`MAX_BAND_HEIGHT`] rows.
fn split(r: Rect, corre: bool, mut f: impl FnMut(Rect)) {
    let (tw, th) = if corre {
        (CORRE_MAX, CORRE_MAX)
    } else {
        (r.width.max(1), MAX_BAND_HEIGHT)
    };
    let mut y = r.y;
    while u32::from(y) < r.bottom() {
        let hh = th.min((r.bottom() - u32::from(y)) as u16);
        let mut x = r.x;
        while u32::from(x) < r.right() {
            let ww = tw.min((r.right() - u32::from(x)) as u16);
            f(Rect::new(x, y, ww, hh));
            x = match x.checked_add(ww) {
                Some(v) => v,
                None => break,
            };
        }
        y = match y.checked_add(hh) {
            Some(v) => v,
            None => break,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_exactly() {
        for corre in [false, true] {
            let r = Rect::new(3, 5, 600, 300);
            let mut area = 0u64;
            let mut region = Region::new();
            split(r, corre, |p| {
                if corre {
                    assert!(p.width <= 255 && p.height <= 255);
                } else {
                    assert!(p.height <= MAX_BAND_HEIGHT);
                }
                area += p.area();
                region.add_rect(p);
            });
            assert_eq!(area, r.area());
            assert_eq!(region, Region::from(r));
        }
    }

    #[test]
    fn features_take_first_levels() {
        let f = Features::from_list(&[
            Encoding::ZRLE,
            Encoding::for_compress_level(3),
            Encoding::for_compress_level(9),
            Encoding::CURSOR,
            Encoding::CURSOR_WITH_ALPHA,
        ]);
        assert_eq!(f.compress, Some(3));
        assert_eq!(f.cursor, Some(Encoding::CURSOR));
    }
}
