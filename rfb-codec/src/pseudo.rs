//! Payloads of the pseudo-encodings that carry no pixels.
//!
//! | Pseudo-encoding | Header fields | Payload |
//! |---|---|---|
//! | DesktopSize (-223) | width, height = new size | none |
//! | LastRect (-224) | ignored | none |
//! | PointerPos (-232) | x, y = pointer position | none |
//! | DesktopName (-307) | all zero | `U32` length, UTF-8 name |
//! | ExtendedDesktopSize (-308) | x = reason, y = status, width, height = size | `U8` screen count, 3 padding, `SCREEN`s |
//!
//! Name and screen counts are bounded by `rfb_proto::Limits` (`max_desktop_name`,
//! `max_screens`), which every connection already carries.

use bytes::{BufMut, BytesMut};
use rfb_proto::{Encoding, Limit, LimitExceeded, Limits, Progress, Rect, Screen};

use crate::raw::{exact_len, need};
use crate::CodecError;

/// Payload length of the pseudo-encodings whose payload length is fixed by the header
/// alone: `Some(0)` for DesktopSize, LastRect and PointerPos; `None` for others.
///
/// ```
/// use rfb_codec::pseudo::fixed_payload_len;
/// use rfb_proto::Encoding;
/// assert_eq!(fixed_payload_len(Encoding::LAST_RECT), Some(0));
/// assert_eq!(fixed_payload_len(Encoding::DESKTOP_NAME), None);
/// ```
pub fn fixed_payload_len(encoding: Encoding) -> Option<usize> {
    matches!(
        encoding,
        Encoding::DESKTOP_SIZE | Encoding::LAST_RECT | Encoding::POINTER_POS
    )
    .then_some(0)
}

/// Frames a DesktopName payload, checking the length against `limits.max_desktop_name`.
///
/// ```
/// use rfb_codec::pseudo::frame_desktop_name;
/// let l = rfb_proto::Limits::default();
/// assert_eq!(frame_desktop_name(&[0, 0, 0, 2, b'h'], &l).unwrap(), rfb_proto::Progress::NeedMore { at_least: 6 });
/// assert!(frame_desktop_name(&[0xff, 0, 0, 0], &l).is_err());
/// ```
pub fn frame_desktop_name(buf: &[u8], limits: &Limits) -> Result<Progress<()>, CodecError> {
    if buf.len() < 4 {
        return Ok(Progress::NeedMore { at_least: 4 });
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    LimitExceeded::check(
        Limit::DesktopName,
        len.into(),
        limits.max_desktop_name.into(),
    )?;
    Ok(need(buf.len(), 4 + len as usize))
}

/// Decodes a DesktopName payload. Invalid UTF-8 is replaced (U+FFFD), as a viewer
/// would show it.
///
/// ```
/// use rfb_codec::pseudo::decode_desktop_name;
/// let name = decode_desktop_name(&[0, 0, 0, 3, b'a', 0xc3, 0xa9], &rfb_proto::Limits::default()).unwrap();
/// assert_eq!(name, "aé");
/// ```
pub fn decode_desktop_name(payload: &[u8], limits: &Limits) -> Result<String, CodecError> {
    match frame_desktop_name(payload, limits)? {
        Progress::Done { consumed, .. } => {
            exact_len("DesktopName", payload, consumed)?;
            Ok(String::from_utf8_lossy(&payload[4..]).into_owned())
        }
        Progress::NeedMore { at_least } => Err(crate::raw::malformed(
            "DesktopName",
            format!("payload of {} bytes, {at_least} needed", payload.len()),
        )),
    }
}

/// Appends a DesktopName payload (the header is all zeros with
/// [`Encoding::DESKTOP_NAME`]).
///
/// ```
/// let mut out = bytes::BytesMut::new();
/// rfb_codec::pseudo::encode_desktop_name("hé", &mut out);
/// assert_eq!(&out[..], &[0, 0, 0, 3, b'h', 0xc3, 0xa9]);
/// ```
pub fn encode_desktop_name(name: &str, out: &mut BytesMut) {
    out.put_u32(name.len() as u32);
    out.put_slice(name.as_bytes());
}

/// What an ExtendedDesktopSize rectangle says: why, with what result, the new size and
/// the screen layout.
///
/// ```
/// use rfb_codec::pseudo::ExtendedDesktopSize;
/// use rfb_proto::{Rect, Screen};
/// let e = ExtendedDesktopSize {
///     reason: 0, status: 0, width: 800, height: 600,
///     screens: vec![Screen { id: 7, rect: Rect::new(0, 0, 800, 600), flags: 0 }],
/// };
/// let mut out = bytes::BytesMut::new();
/// e.encode(&mut out);
/// assert_eq!(&out[..4], &[1, 0, 0, 0]);
/// let l = rfb_proto::Limits::default();
/// assert_eq!(ExtendedDesktopSize::decode(e.rect(), &out, &l).unwrap(), e);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedDesktopSize {
    /// 0: changed on the server; 1: this client asked; 2: another client asked.
    pub reason: u16,
    /// 0: no error; 1: prohibited; 2: out of resources; 3: invalid layout.
    pub status: u16,
    /// New framebuffer width.
    pub width: u16,
    /// New framebuffer height.
    pub height: u16,
    /// The screens.
    pub screens: Vec<Screen>,
}

impl ExtendedDesktopSize {
    /// The rectangle header fields (x = reason, y = status).
    pub fn rect(&self) -> Rect {
        Rect::new(self.reason, self.status, self.width, self.height)
    }

    /// Frames the payload, checking the screen count against `limits.max_screens`.
    pub fn frame(buf: &[u8], limits: &Limits) -> Result<Progress<()>, CodecError> {
        let Some(&count) = buf.first() else {
            return Ok(Progress::NeedMore { at_least: 4 });
        };
        LimitExceeded::check(Limit::Screens, count.into(), limits.max_screens.into())?;
        Ok(need(buf.len(), 4 + usize::from(count) * Screen::LEN))
    }

    /// Decodes the payload of the rectangle `rect`.
    pub fn decode(
        rect: Rect,
        payload: &[u8],
        limits: &Limits,
    ) -> Result<ExtendedDesktopSize, CodecError> {
        let len = match Self::frame(payload, limits)? {
            Progress::Done { consumed, .. } => consumed,
            Progress::NeedMore { at_least } => {
                return Err(crate::raw::malformed(
                    "ExtendedDesktopSize",
                    format!("payload of {} bytes, {at_least} needed", payload.len()),
                ))
            }
        };
        exact_len("ExtendedDesktopSize", payload, len)?;
        let screens = payload[4..]
            .chunks_exact(Screen::LEN)
            .map(|s| {
                let u16_at = |i: usize| u16::from_be_bytes([s[i], s[i + 1]]);
                let u32_at = |i: usize| u32::from_be_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]]);
                Screen {
                    id: u32_at(0),
                    rect: Rect::new(u16_at(4), u16_at(6), u16_at(8), u16_at(10)),
                    flags: u32_at(12),
                }
            })
            .collect();
        Ok(ExtendedDesktopSize {
            reason: rect.x,
            status: rect.y,
            width: rect.width,
            height: rect.height,
            screens,
        })
    }

    /// Appends the payload (at most 255 screens are written).
    pub fn encode(&self, out: &mut BytesMut) {
        let n = self.screens.len().min(255);
        out.put_u8(n as u8);
        out.put_slice(&[0; 3]);
        for s in &self.screens[..n] {
            s.encode(out);
        }
    }
}
