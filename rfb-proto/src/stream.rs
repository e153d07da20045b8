//! Walking the server-to-client byte stream: messages, updates and rectangles.

use bytes::{BufMut, Bytes};

use crate::error::{Incompatible, LimitExceeded, Malformed};
use crate::limits::Limit;
use crate::server::{FramebufferUpdateHeader, ServerMessage};
use crate::{Encoding, Error, Limits, PixelFormat, Progress, RectHeader};

/// Finds where a rectangle's payload ends.
///
/// Given the rectangle's header, the current pixel format and the bytes after the
/// header, [`frame`](PayloadFramer::frame) returns `Done { consumed, .. }` with the
/// payload's length once all of it is in `buf`, or `NeedMore` with the total payload
/// length known so far to be needed. It must not return more than `buf.len()` bytes
/// consumed, must bound what it asks for by `limits`, and returns
/// [`Incompatible::Encoding`] for encodings it cannot frame.
///
/// A framer for compressed encodings (as `rfb-codec` provides) handles its own
/// encodings and delegates everything else to [`BasicFramer`]:
///
/// ```
/// use rfb_proto::stream::{BasicFramer, PayloadFramer};
/// use rfb_proto::{Encoding, Error, Limits, PixelFormat, Progress, RectHeader};
///
/// struct WithRre;
/// impl PayloadFramer for WithRre {
///     fn frame(&mut self, h: &RectHeader, pf: &PixelFormat, buf: &[u8], limits: &Limits)
///         -> Result<Progress<()>, Error> {
///         if h.encoding != Encoding::RRE {
///             return BasicFramer.frame(h, pf, buf, limits);
///         }
///         // ... frame RRE here (bounded by limits) ...
///         # Ok(Progress::NeedMore { at_least: 4 })
///     }
/// }
/// ```
pub trait PayloadFramer {
    /// The length of the payload at the start of `buf`, or how much is needed.
    fn frame(
        &mut self,
        header: &RectHeader,
        pf: &PixelFormat,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Progress<()>, Error>;
}

impl<F: PayloadFramer + ?Sized> PayloadFramer for &mut F {
    fn frame(
        &mut self,
        h: &RectHeader,
        pf: &PixelFormat,
        buf: &[u8],
        l: &Limits,
    ) -> Result<Progress<()>, Error> {
        (**self).frame(h, pf, buf, l)
    }
}

impl<F: PayloadFramer + ?Sized> PayloadFramer for Box<F> {
    fn frame(
        &mut self,
        h: &RectHeader,
        pf: &PixelFormat,
        buf: &[u8],
        l: &Limits,
    ) -> Result<Progress<()>, Error> {
        (**self).frame(h, pf, buf, l)
    }
}

/// Frames the encodings whose payload length follows from the header alone (or from a
/// fixed-size field at its start): Raw, CopyRect and the pseudo-encodings with fixed
/// layouts.
///
/// | encoding | payload |
/// |---|---|
/// | Raw | width × height × bytes-per-pixel |
/// | CopyRect | 4 |
/// | DesktopSize, LastRect, PointerPos, ExtendedMouseButtons, QEMU pointer motion change, QEMU extended key event, QEMU audio, VMware cursor position | 0 |
/// | ExtendedDesktopSize | 4 + 16 × number-of-screens |
/// | DesktopName | 4 + name-length |
/// | Cursor | width × height × bytes-per-pixel + ⌈width / 8⌉ × height |
/// | X Cursor | 0 if empty, else 6 + 2 × ⌈width / 8⌉ × height |
/// | Cursor With Alpha | 4 + width × height × 4, when its inner encoding is Raw |
/// | QEMU LED state | 1 |
/// | VMware cursor | 2 + 2 × width × height × bytes-per-pixel (classic) or width × height × 4 (alpha) |
/// | VMware cursor state, VM state | 2 |
/// | VMware key repeat | 10 |
/// | VMware LED state | 4 |
/// | VMware display mode change | 16 (a PIXEL_FORMAT) |
///
/// Rectangles wider or taller than [`Limits::max_framebuffer_width`] /
/// [`Limits::max_framebuffer_height`], and pixel payloads (Raw, the cursors) longer
/// than a whole framebuffer of that size at 4 bytes per pixel, are refused with
/// [`Error::LimitExceeded`] before their payload is waited for; every product is
/// computed in checked `u64`. Any other
/// encoding (and Cursor With Alpha with a non-Raw inner encoding) is
/// [`Incompatible::Encoding`].
///
/// ```
/// use rfb_proto::stream::{BasicFramer, PayloadFramer};
/// use rfb_proto::{Encoding, Limits, PixelFormat, Progress, Rect, RectHeader};
/// let h = RectHeader { rect: Rect::new(0, 0, 2, 2), encoding: Encoding::RAW };
/// let pf = PixelFormat::RGB565;
/// let l = Limits::default();
/// assert_eq!(BasicFramer.frame(&h, &pf, &[0; 3], &l), Ok(Progress::NeedMore { at_least: 8 }));
/// assert_eq!(BasicFramer.frame(&h, &pf, &[0; 9], &l), Ok(Progress::Done { item: (), consumed: 8 }));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BasicFramer;

/// `Done` if `buf` holds `n` bytes, else `NeedMore`.
fn fixed(n: u64, buf: &[u8]) -> Result<Progress<()>, Error> {
    let n = usize::try_from(n).map_err(|_| too_big(n))?;
    Ok(if buf.len() >= n {
        Progress::Done {
            item: (),
            consumed: n,
        }
    } else {
        Progress::NeedMore { at_least: n }
    })
}

/// `fixed` for payloads made of pixels: also refuses more than a full framebuffer of
/// 32-bit pixels at the configured maximum size.
fn pixel_payload(n: u64, buf: &[u8], limits: &Limits) -> Result<Progress<()>, Error> {
    let allowed =
        u64::from(limits.max_framebuffer_width) * u64::from(limits.max_framebuffer_height) * 4;
    LimitExceeded::check(Limit::Other("rectangle payload size"), n, allowed)?;
    fixed(n, buf)
}

fn too_big(n: u64) -> Error {
    LimitExceeded {
        limit: Limit::Other("rectangle payload size"),
        requested: n,
        allowed: usize::MAX as u64,
    }
    .into()
}

/// Checks the rectangle's size against the framebuffer limits.
fn check_size(h: &RectHeader, limits: &Limits) -> Result<(u64, u64), Error> {
    let (w, hh) = (h.rect.width, h.rect.height);
    LimitExceeded::check(
        Limit::FramebufferWidth,
        w.into(),
        limits.max_framebuffer_width.into(),
    )?;
    LimitExceeded::check(
        Limit::FramebufferHeight,
        hh.into(),
        limits.max_framebuffer_height.into(),
    )?;
    Ok((w.into(), hh.into()))
}

/// width × height × `bytes` in checked arithmetic.
fn pixels(w: u64, h: u64, bytes: u64) -> Result<u64, Error> {
    w.checked_mul(h)
        .and_then(|p| p.checked_mul(bytes))
        .ok_or_else(|| too_big(u64::MAX))
}

/// ⌈width / 8⌉ × height: a 1-bit mask with byte-padded rows.
fn mask_len(w: u64, h: u64) -> Result<u64, Error> {
    w.div_ceil(8)
        .checked_mul(h)
        .ok_or_else(|| too_big(u64::MAX))
}

fn sum(a: u64, b: u64) -> Result<u64, Error> {
    a.checked_add(b).ok_or_else(|| too_big(u64::MAX))
}

impl PayloadFramer for BasicFramer {
    fn frame(
        &mut self,
        header: &RectHeader,
        pf: &PixelFormat,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Progress<()>, Error> {
        let bpp = pf.bytes_per_pixel() as u64;
        let e = header.encoding;
        match e {
            Encoding::RAW => {
                let (w, h) = check_size(header, limits)?;
                pixel_payload(pixels(w, h, bpp)?, buf, limits)
            }
            Encoding::COPY_RECT => fixed(4, buf),
            Encoding::DESKTOP_SIZE
            | Encoding::LAST_RECT
            | Encoding::POINTER_POS
            | Encoding::EXTENDED_MOUSE_BUTTONS
            | Encoding::QEMU_POINTER_MOTION_CHANGE
            | Encoding::QEMU_EXTENDED_KEY_EVENT
            | Encoding::QEMU_AUDIO
            | Encoding::VMWARE_CURSOR_POSITION => fixed(0, buf),
            Encoding::EXTENDED_DESKTOP_SIZE => {
                let Some(&n) = buf.first() else {
                    return fixed(4, buf);
                };
                LimitExceeded::check(Limit::Screens, n.into(), limits.max_screens.into())?;
                fixed(4 + 16 * u64::from(n), buf)
            }
            Encoding::DESKTOP_NAME => {
                if buf.len() < 4 {
                    return fixed(4, buf);
                }
                let n = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
                LimitExceeded::check(Limit::DesktopName, n.into(), limits.max_desktop_name.into())?;
                fixed(4 + u64::from(n), buf)
            }
            Encoding::CURSOR => {
                let (w, h) = check_size(header, limits)?;
                pixel_payload(sum(pixels(w, h, bpp)?, mask_len(w, h)?)?, buf, limits)
            }
            Encoding::X_CURSOR => {
                let (w, h) = check_size(header, limits)?;
                if w == 0 || h == 0 {
                    return fixed(0, buf);
                }
                pixel_payload(sum(6, 2 * mask_len(w, h)?)?, buf, limits)
            }
            Encoding::CURSOR_WITH_ALPHA => {
                let (w, h) = check_size(header, limits)?;
                if buf.len() < 4 {
                    return fixed(4, buf);
                }
                let inner = Encoding(i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]));
                if inner != Encoding::RAW {
                    return Err(Incompatible::Encoding(inner.0).into());
                }
                pixel_payload(sum(4, pixels(w, h, 4)?)?, buf, limits)
            }
            Encoding::QEMU_LED_STATE => fixed(1, buf),
            Encoding::VMWARE_CURSOR => {
                let (w, h) = check_size(header, limits)?;
                let Some(&kind) = buf.first() else {
                    return fixed(2, buf);
                };
                let body = match kind {
                    0 => pixels(w, h, sum(bpp, bpp)?)?,
                    1 => pixels(w, h, 4)?,
                    k => {
                        return Err(Malformed::InvalidValue {
                            field: "VMware cursor type",
                            value: k.into(),
                        }
                        .into())
                    }
                };
                pixel_payload(sum(2, body)?, buf, limits)
            }
            Encoding::VMWARE_CURSOR_STATE | Encoding::VMWARE_VM_STATE => fixed(2, buf),
            Encoding::VMWARE_KEY_REPEAT => fixed(10, buf),
            Encoding::VMWARE_LED_STATE => fixed(4, buf),
            Encoding::VMWARE_DISPLAY_MODE_CHANGE => fixed(PixelFormat::LEN as u64, buf),
            other => Err(Incompatible::Encoding(other.0).into()),
        }
    }
}

/// One step of the server's stream, borrowing rectangle payloads from the input.
///
/// ```
/// use rfb_proto::stream::{BasicFramer, ServerItem, ServerStream};
/// use rfb_proto::{Encoding, PixelFormat, Progress};
/// let mut s = ServerStream::new(PixelFormat::RGB888, Default::default());
/// let wire = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 7, 0, 8];
/// s.next(&wire, &mut BasicFramer).unwrap();
/// let Progress::Done { item: ServerItem::Rect { header, payload }, consumed } =
///     s.next(&wire[4..], &mut BasicFramer).unwrap() else { panic!() };
/// assert_eq!((header.encoding, payload, consumed), (Encoding::COPY_RECT, &[0, 7, 0, 8][..], 16));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerItem<'a> {
    /// A message other than FramebufferUpdate.
    Message(ServerMessage),
    /// A FramebufferUpdate begins; `rects` is the announced count (65535 may mean
    /// "until LastRect").
    UpdateStart {
        /// The announced number of rectangles.
        rects: u16,
    },
    /// One rectangle with its whole payload (LastRect is never yielded: it ends the
    /// update instead).
    Rect {
        /// The rectangle header.
        header: RectHeader,
        /// The payload bytes, as long as the framer said.
        payload: &'a [u8],
    },
    /// The update is complete (its count reached, or a LastRect seen).
    UpdateEnd,
}

impl ServerItem<'_> {
    /// Copies the payload into an [`OwnedServerItem`].
    pub fn to_owned_item(&self) -> OwnedServerItem {
        match self {
            ServerItem::Message(m) => OwnedServerItem::Message(m.clone()),
            ServerItem::UpdateStart { rects } => OwnedServerItem::UpdateStart { rects: *rects },
            ServerItem::Rect { header, payload } => OwnedServerItem::Rect {
                header: *header,
                payload: Bytes::copy_from_slice(payload),
            },
            ServerItem::UpdateEnd => OwnedServerItem::UpdateEnd,
        }
    }
}

/// A [`ServerItem`] that owns its payload.
///
/// ```
/// use rfb_proto::stream::OwnedServerItem;
/// use rfb_proto::{Encoding, Rect, RectHeader};
/// let mut w = Vec::new();
/// OwnedServerItem::UpdateStart { rects: 1 }.encode(&mut w);
/// OwnedServerItem::Rect {
///     header: RectHeader { rect: Rect::new(0, 0, 0, 0), encoding: Encoding::COPY_RECT },
///     payload: bytes::Bytes::from_static(&[0, 1, 0, 2]),
/// }.encode(&mut w);
/// OwnedServerItem::UpdateEnd.encode(&mut w);
/// assert_eq!(w, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 2]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedServerItem {
    /// A message other than FramebufferUpdate.
    Message(ServerMessage),
    /// A FramebufferUpdate begins.
    UpdateStart {
        /// The announced number of rectangles.
        rects: u16,
    },
    /// One rectangle with its whole payload.
    Rect {
        /// The rectangle header.
        header: RectHeader,
        /// The payload bytes.
        payload: Bytes,
    },
    /// The update is complete.
    UpdateEnd,
}

impl OwnedServerItem {
    /// Appends the item's bytes: a message, an update header, a rectangle header and
    /// payload. `UpdateEnd` writes nothing (the count in the header ends the update; a
    /// sender that announced 65535 rectangles writes a LastRect header itself).
    pub fn encode(&self, out: &mut impl BufMut) {
        match self {
            OwnedServerItem::Message(m) => m.encode(out),
            OwnedServerItem::UpdateStart { rects } => {
                FramebufferUpdateHeader { rects: *rects }.encode(out)
            }
            OwnedServerItem::Rect { header, payload } => {
                header.encode(out);
                out.put_slice(payload);
            }
            OwnedServerItem::UpdateEnd => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Messages,
    Update { remaining: u16, seen: u32 },
}

/// A walker over the server-to-client byte stream after ServerInit.
///
/// Call [`next`](ServerStream::next) with the unconsumed bytes; it yields one
/// [`ServerItem`] and how many bytes it used, or `NeedMore`. It never consumes part of
/// an item: a rectangle is yielded only when its header and its whole payload (as the
/// [`PayloadFramer`] measures it) are in the buffer. An update's end is an item of its
/// own, with zero bytes consumed when the count runs out, or the 12 bytes of a LastRect
/// header. The number of rectangles per update is checked against
/// [`Limits::max_rects_per_update`].
///
/// The stream keeps the pixel format framers need: set it when the client sends
/// SetPixelFormat (the spec has the client do that with no update outstanding). A
/// VMware Display Mode Change rectangle switches it by itself. After an error nothing
/// has been consumed; the connection should be closed.
///
/// ```
/// use rfb_proto::stream::{BasicFramer, ServerItem, ServerStream};
/// use rfb_proto::{Encoding, Limits, PixelFormat, Progress, Rect, RectHeader};
/// let mut s = ServerStream::new(PixelFormat::RGB888, Limits::default());
/// // One update with one CopyRect, then a Bell.
/// let wire = [0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 1, 0, 9, 0, 9, 2];
/// let mut pos = 0;
/// let mut items = Vec::new();
/// while let Progress::Done { item, consumed } = s.next(&wire[pos..], &mut BasicFramer).unwrap() {
///     items.push(item.to_owned_item());
///     pos += consumed;
/// }
/// assert_eq!(pos, wire.len());
/// assert_eq!(items.len(), 4); // UpdateStart, Rect, UpdateEnd, Message(Bell)
/// ```
#[derive(Debug, Clone)]
pub struct ServerStream {
    pixel_format: PixelFormat,
    limits: Limits,
    state: State,
}

impl ServerStream {
    /// A stream at a message boundary, with the ServerInit's pixel format.
    pub fn new(pixel_format: PixelFormat, limits: Limits) -> ServerStream {
        ServerStream {
            pixel_format,
            limits,
            state: State::Messages,
        }
    }

    /// The pixel format rectangles are framed with.
    pub fn pixel_format(&self) -> &PixelFormat {
        &self.pixel_format
    }

    /// Sets the pixel format (after the client sent SetPixelFormat).
    pub fn set_pixel_format(&mut self, pf: PixelFormat) {
        self.pixel_format = pf;
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Replaces the limits.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// True between an `UpdateStart` and its `UpdateEnd`.
    pub fn in_update(&self) -> bool {
        matches!(self.state, State::Update { .. })
    }

    /// Parses the next item from the start of `buf`.
    #[allow(clippy::should_implement_trait)]
    pub fn next<'a>(
        &mut self,
        buf: &'a [u8],
        framer: &mut dyn PayloadFramer,
    ) -> Result<Progress<ServerItem<'a>>, Error> {
        match self.state {
            State::Messages => Ok(match ServerMessage::decode(buf, &self.limits)? {
                Progress::NeedMore { at_least } => Progress::NeedMore { at_least },
                Progress::Done {
                    item: ServerMessage::FramebufferUpdate(h),
                    consumed,
                } => {
                    self.state = State::Update {
                        remaining: h.rects,
                        seen: 0,
                    };
                    Progress::Done {
                        item: ServerItem::UpdateStart { rects: h.rects },
                        consumed,
                    }
                }
                Progress::Done { item, consumed } => Progress::Done {
                    item: ServerItem::Message(item),
                    consumed,
                },
            }),
            State::Update { remaining: 0, .. } => {
                self.state = State::Messages;
                Ok(Progress::Done {
                    item: ServerItem::UpdateEnd,
                    consumed: 0,
                })
            }
            State::Update { remaining, seen } => {
                let header = match RectHeader::decode(buf)? {
                    Progress::Done { item, .. } => item,
                    Progress::NeedMore { at_least } => return Ok(Progress::NeedMore { at_least }),
                };
                if header.encoding == Encoding::LAST_RECT {
                    self.state = State::Messages;
                    return Ok(Progress::Done {
                        item: ServerItem::UpdateEnd,
                        consumed: RectHeader::LEN,
                    });
                }
                let seen = seen.saturating_add(1);
                LimitExceeded::check(
                    Limit::RectsPerUpdate,
                    seen.into(),
                    self.limits.max_rects_per_update.into(),
                )?;
                let body = &buf[RectHeader::LEN..];
                let n = match framer.frame(&header, &self.pixel_format, body, &self.limits)? {
                    Progress::NeedMore { at_least } => {
                        return Ok(Progress::NeedMore {
                            at_least: at_least.saturating_add(RectHeader::LEN),
                        })
                    }
                    Progress::Done { consumed, .. } => consumed,
                };
                let Some(payload) = body.get(..n) else {
                    // A framer that claims more than it was given: wait for it.
                    return Ok(Progress::NeedMore {
                        at_least: n.saturating_add(RectHeader::LEN),
                    });
                };
                if header.encoding == Encoding::VMWARE_DISPLAY_MODE_CHANGE {
                    match PixelFormat::decode(payload)? {
                        Progress::Done { item, .. } => self.pixel_format = item,
                        Progress::NeedMore { .. } => {
                            return Err(Malformed::InvalidValue {
                                field: "VMware display mode change payload length",
                                value: n as i64,
                            }
                            .into())
                        }
                    }
                }
                self.state = State::Update {
                    remaining: remaining - 1,
                    seen,
                };
                Ok(Progress::Done {
                    item: ServerItem::Rect { header, payload },
                    consumed: RectHeader::LEN + n,
                })
            }
        }
    }
}
