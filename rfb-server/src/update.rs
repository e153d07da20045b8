//! One viewer's update machinery: what it asked for, what it lacks, and the encoder
//! state that turns that into a FramebufferUpdate.

use bytes::{BufMut, BytesMut};
use rfb_codec::cursor::CursorImage;
use rfb_codec::planner::{UpdatePlanner, WireEncoding};
use rfb_codec::{Framebuffer, Palette, Region};
use rfb_proto::server::{ExtendedDesktopSize, FramebufferUpdateHeader};
use rfb_proto::{Encoding, PixelFormat, Rect, RectHeader, Screen};

use crate::{CopyMove, PendingUpdate, ServerError};

/// zlib level of ZRLE and Zlib streams for a viewer that sends no compress level: 1,
/// as fast as zlib gets with real compression (a server encodes for many viewers).
const DEFAULT_COMPRESS_LEVEL: u8 = 1;
/// Grid (pixels) the pending region is widened to before encoding
/// ([`Region::align_to`]); measured on the corpus with `rfb-loadtest fanout` (ZRLE,
/// bytes per frame, web / office): exact 23,006 / 18,255, grid 16 21,894 / 17,822,
/// grid 32 21,553 / 17,268, grid 64 22,963 / 19,281.
const UPDATE_GRID: u16 = 32;
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
    /// PointerPos (-232): the viewer shows where the server's pointer is.
    pub(crate) pointer_pos: bool,
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
                Encoding::POINTER_POS => f.pointer_pos = true,
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

/// What a viewer asked for and lacks, and how to encode for it.
pub(crate) struct Updater {
    pub(crate) pending: PendingUpdate,
    /// Area of the outstanding update request(s), cleared when an update is sent.
    pub(crate) requested: Region,
    /// Continuous updates: the area, while enabled.
    pub(crate) continuous: Option<Rect>,
    /// The viewer's last SetEncodings list.
    encodings: Vec<Encoding>,
    /// Plans and encodes the pixel rectangles (solid areas, sub-rectangles, the
    /// viewer's encoding with its zlib streams, translation to its pixel format).
    /// Created with the updater (`None` only if the native format is one the planner
    /// refuses; then it is tried again with the first update).
    planner: Option<UpdatePlanner>,
    /// Pseudo-rectangles waiting for the next update.
    pub(crate) send_size: bool,
    pub(crate) layout_reply: Option<(u16, u16)>,
    pub(crate) name: Option<String>,
    pub(crate) cursor: Option<CursorImage>,
    /// Confirms the QEMU Extended Key Event extension (an empty pseudo-rectangle).
    pub(crate) qemu_key_ack: bool,
    /// The server's pointer position, for a viewer that lists PointerPos.
    pub(crate) pointer_pos: Option<(u16, u16)>,
    /// Confirms the ExtendedMouseButtons extension (an empty pseudo-rectangle).
    pub(crate) ext_mouse_ack: bool,
}

impl Updater {
    /// An updater for a viewer of a server whose frames are in `native` (the viewer
    /// starts in that format too).
    pub(crate) fn new(native: &PixelFormat) -> Updater {
        let mut planner = UpdatePlanner::new(*native, *native, None, &[]).ok();
        if let Some(p) = &mut planner {
            p.set_default_compress_level(DEFAULT_COMPRESS_LEVEL);
        }
        Updater {
            pending: PendingUpdate::default(),
            requested: Region::new(),
            continuous: None,
            encodings: Vec::new(),
            planner,
            send_size: false,
            layout_reply: None,
            name: None,
            cursor: None,
            qemu_key_ack: false,
            pointer_pos: None,
            ext_mouse_ack: false,
        }
    }

    pub(crate) fn set_encodings(&mut self, list: &[Encoding], _features: &Features) {
        self.encodings = list.to_vec();
        if let Some(p) = &mut self.planner {
            p.set_encodings(list);
        }
    }

    /// The encoding pixel rectangles are written in (the first of the viewer's list the
    /// planner can encode; Raw when none).
    pub(crate) fn encoding(&self) -> Encoding {
        match &self.planner {
            Some(p) => p.wire_encoding().encoding(),
            None => WireEncoding::choose(&self.encodings).encoding(),
        }
    }

    /// Prepares translation from `native` to `client` (with `palette` for colour-map
    /// clients). The encoders keep their zlib streams (each rectangle carries its own
    /// pixels, so a format change mid-stream is fine for them).
    pub(crate) fn set_formats(
        &mut self,
        native: &PixelFormat,
        client: &PixelFormat,
        palette: Option<&Palette>,
    ) -> Result<(), ServerError> {
        let codec = |e: rfb_codec::CodecError| ServerError::Encoding(e.to_string());
        match &mut self.planner {
            Some(p) => p.set_pixel_format(*client, palette).map_err(codec),
            None => {
                self.planner = Some(self.new_planner(native, client, palette)?);
                Ok(())
            }
        }
    }

    fn new_planner(
        &self,
        native: &PixelFormat,
        client: &PixelFormat,
        palette: Option<&Palette>,
    ) -> Result<UpdatePlanner, ServerError> {
        let codec = |e: rfb_codec::CodecError| ServerError::Encoding(e.to_string());
        let mut p = UpdatePlanner::new(*native, *client, palette, &[]).map_err(codec)?;
        p.set_default_compress_level(DEFAULT_COMPRESS_LEVEL);
        p.set_encodings(&self.encodings);
        Ok(p)
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
            || self.pointer_pos.is_some()
            || self.ext_mouse_ack
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
            // Exact damage is many small rectangles; widened to the grid they merge
            // (fewer headers and zlib flushes: 5-6 % fewer ZRLE bytes on the corpus).
            self.pending
                .region
                .intersect(&area)
                .align_to(UPDATE_GRID)
                .intersect(&area)
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
        if let Some((x, y)) = self.pointer_pos.take() {
            if features.pointer_pos && x < w && y < h {
                pieces.push(Piece::PointerPos(x, y));
            }
        }
        if std::mem::take(&mut self.qemu_key_ack) {
            pieces.push(Piece::Empty(Encoding::QEMU_EXTENDED_KEY_EVENT));
        }
        if std::mem::take(&mut self.ext_mouse_ack) {
            pieces.push(Piece::Empty(Encoding::EXTENDED_MOUSE_BUTTONS));
        }
        if let Some(mv) = copy {
            pieces.push(Piece::Copy(mv));
        }
        if pieces.is_empty() && region.is_empty() {
            return Ok(());
        }
        if self.planner.is_none() {
            self.planner = Some(self.new_planner(frame.format(), client, palette)?);
        }
        let start = out.len();
        FramebufferUpdateHeader { rects: 0 }.encode(out);
        let count_at = start + 2;
        let mut count = pieces.len();
        for piece in pieces {
            self.write_piece(piece, client, palette, out)?;
        }
        if !region.is_empty() {
            let planner = self
                .planner
                .as_mut()
                .ok_or(ServerError::ApiMisuse("no planner after creating one"))?;
            let sum = planner
                .encode_rects(frame, &region, &[], out)
                .map_err(|e| ServerError::Encoding(e.to_string()))?;
            count += sum.rects;
        }
        match u16::try_from(count) {
            Ok(n) if n < FramebufferUpdateHeader::UNKNOWN_COUNT => {
                out[count_at..count_at + 2].copy_from_slice(&n.to_be_bytes());
            }
            _ if features.last_rect => {
                out[count_at..count_at + 2]
                    .copy_from_slice(&FramebufferUpdateHeader::UNKNOWN_COUNT.to_be_bytes());
                RectHeader {
                    rect: Rect::new(0, 0, 0, 0),
                    encoding: Encoding::LAST_RECT,
                }
                .encode(out);
            }
            _ => {
                return Err(ServerError::Encoding(format!(
                    "{count} rectangles in one update and the viewer has no LastRect"
                )));
            }
        }
        self.requested = Region::new();
        Ok(())
    }

    fn write_piece(
        &mut self,
        piece: Piece,
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
            // PointerPos: the position in the rectangle's x and y, no size, no data.
            Piece::PointerPos(x, y) => RectHeader {
                rect: Rect::new(x, y, 0, 0),
                encoding: Encoding::POINTER_POS,
            }
            .encode(out),
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
        }
        Ok(())
    }

    /// Bytes held by this viewer's scratch buffer (for the memory bound).
    pub(crate) fn scratch_capacity(&self) -> usize {
        self.planner
            .as_ref()
            .map_or(0, UpdatePlanner::scratch_capacity)
    }

    /// Releases scratch memory beyond `keep` bytes (the viewer is idle).
    pub(crate) fn shrink_scratch(&mut self, keep: usize) {
        if let Some(p) = &mut self.planner {
            p.shrink_scratch(keep);
        }
    }
}

enum Piece {
    Size(u16, u16),
    Empty(Encoding),
    Layout(ExtendedDesktopSize),
    Name(String),
    Cursor(Encoding, CursorImage),
    PointerPos(u16, u16),
    Copy(CopyMove),
}

#[cfg(test)]
mod tests {
    use super::*;

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
