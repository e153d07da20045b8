//! The Extended Clipboard pseudo-encoding: the body of a cut-text message whose length
//! is negative.
//!
//! rfb-proto does not inflate or deflate: a [`ExtendedClipboard::Provide`] carries the
//! still-compressed zlib stream, and [`parse_provide_payload`] /
//! [`encode_provide_payload`] handle the `(size, data)` pairs inside it once the caller
//! has inflated it (capping the inflated size at [`Limits::max_cut_text`]).

use bytes::{BufMut, Bytes};

use crate::error::{LimitExceeded, Malformed};
use crate::limits::Limit;
use crate::wire::{Reader, Step, Stop};
use crate::{Error, Limits};

/// One clipboard format: the bit number (0..=15) of the format in the flags word.
///
/// ```
/// use rfb_proto::clipboard::{Format, Formats};
/// assert_eq!(Formats::TEXT.iter().collect::<Vec<_>>(), [Format::TEXT]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Format(pub u8);

impl Format {
    /// Bit 0: UTF-8 text with CR LF line ends and a terminating NUL.
    pub const TEXT: Format = Format(0);
    /// Bit 1: Microsoft Rich Text Format.
    pub const RTF: Format = Format(1);
    /// Bit 2: Microsoft HTML clipboard fragment.
    pub const HTML: Format = Format(2);
    /// Bit 3: Device Independent Bitmap v5 without file header.
    pub const DIB: Format = Format(3);
    /// Bit 4: files (reserved, not defined).
    pub const FILES: Format = Format(4);

    /// The set holding only this format (empty if the bit number is over 15).
    pub fn as_formats(self) -> Formats {
        Formats(1u16.checked_shl(u32::from(self.0)).unwrap_or(0))
    }
}

/// A set of clipboard formats: bits 0..=15 of the flags word.
///
/// ```
/// use rfb_proto::clipboard::{Format, Formats};
/// let f = Formats::TEXT | Formats::HTML;
/// assert_eq!(f.len(), 2);
/// assert!(f.contains(Format::HTML));
/// assert_eq!(f.iter().collect::<Vec<_>>(), [Format::TEXT, Format::HTML]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Formats(pub u16);

impl Formats {
    /// Text only.
    pub const TEXT: Formats = Formats(1 << 0);
    /// RTF only.
    pub const RTF: Formats = Formats(1 << 1);
    /// HTML only.
    pub const HTML: Formats = Formats(1 << 2);
    /// DIB only.
    pub const DIB: Formats = Formats(1 << 3);
    /// Files only.
    pub const FILES: Formats = Formats(1 << 4);

    /// Number of formats in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// No formats.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `f` is in the set.
    pub fn contains(self, f: Format) -> bool {
        self.0 & f.as_formats().0 != 0
    }

    /// The formats in ascending bit order (the order of sizes and data on the wire).
    pub fn iter(self) -> impl Iterator<Item = Format> {
        (0..16u8)
            .filter(move |b| self.0 & (1 << b) != 0)
            .map(Format)
    }
}

impl std::ops::BitOr for Formats {
    type Output = Formats;
    fn bitor(self, rhs: Formats) -> Formats {
        Formats(self.0 | rhs.0)
    }
}

/// A set of clipboard actions: bits 24..=31 of the flags word, shifted down to bits
/// 0..=7 (so [`Actions::CAPS`] is flag bit 24).
///
/// ```
/// use rfb_proto::clipboard::Actions;
/// let a = Actions::REQUEST | Actions::NOTIFY | Actions::PROVIDE;
/// assert_eq!(u32::from(a.0) << 24, 0x1a00_0000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Actions(pub u8);

impl Actions {
    /// Flag bit 24: capabilities.
    pub const CAPS: Actions = Actions(1 << 0);
    /// Flag bit 25: request.
    pub const REQUEST: Actions = Actions(1 << 1);
    /// Flag bit 26: peek.
    pub const PEEK: Actions = Actions(1 << 2);
    /// Flag bit 27: notify.
    pub const NOTIFY: Actions = Actions(1 << 3);
    /// Flag bit 28: provide.
    pub const PROVIDE: Actions = Actions(1 << 4);

    /// Whether every action of `other` is in the set.
    pub fn contains(self, other: Actions) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Actions {
    type Output = Actions;
    fn bitor(self, rhs: Actions) -> Actions {
        Actions(self.0 | rhs.0)
    }
}

/// One Extended Clipboard message (the body after the negative length).
///
/// Reserved flag bits 16..=23 are ignored when decoding and written as zero.
///
/// ```
/// use rfb_proto::clipboard::{Actions, ExtendedClipboard, Formats};
/// use rfb_proto::Limits;
/// let caps = ExtendedClipboard::Caps {
///     formats: Formats::TEXT | Formats::HTML,
///     actions: Actions::CAPS | Actions::REQUEST | Actions::NOTIFY | Actions::PROVIDE,
///     max_sizes: vec![0x0100_0000, 0],
/// };
/// let mut body = Vec::new();
/// caps.encode(&mut body);
/// assert_eq!(body, [0x1b, 0, 0, 0x05, 1, 0, 0, 0, 0, 0, 0, 0]);
/// assert_eq!(ExtendedClipboard::decode(&body, &Limits::default()), Ok(caps));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExtendedClipboard {
    /// The formats and actions the sender accepts, and the largest unsolicited size
    /// per format (one size per format, in ascending bit order).
    Caps {
        /// Formats the sender accepts.
        formats: Formats,
        /// Actions the sender accepts (includes [`Actions::CAPS`]).
        actions: Actions,
        /// Largest unsolicited size for each format in `formats`, in bit order.
        max_sizes: Vec<u32>,
    },
    /// Asks the peer to provide the data of these formats.
    Request(Formats),
    /// Asks the peer to notify which formats it has.
    Peek,
    /// The formats now available on the sender's clipboard.
    Notify(Formats),
    /// Clipboard data: a zlib stream holding a `(size, data)` pair per format.
    Provide {
        /// The formats whose data the stream holds.
        formats: Formats,
        /// The still-compressed zlib stream.
        zlib: Bytes,
    },
}

const CAPS_BIT: u32 = 1 << 24;

impl ExtendedClipboard {
    /// Parses a complete body (`abs(length)` bytes). The sizes of a Caps message must
    /// match its formats exactly; Request, Peek and Notify carry nothing after the
    /// flags; a message other than Caps has exactly one action bit.
    pub fn decode(body: &[u8], limits: &Limits) -> Result<ExtendedClipboard, Error> {
        LimitExceeded::check(
            Limit::CutText,
            body.len() as u64,
            limits.max_cut_text.into(),
        )?;
        if body.len() < 4 {
            return Err(Malformed::ExtendedClipboard("message shorter than its flags").into());
        }
        let flags = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
        let rest = &body[4..];
        let formats = Formats(flags as u16);
        let actions = Actions((flags >> 24) as u8);
        if flags & CAPS_BIT != 0 {
            if rest.len() != formats.len() * 4 {
                return Err(
                    Malformed::ExtendedClipboard("caps sizes do not match the formats").into(),
                );
            }
            let max_sizes = rest
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            return Ok(ExtendedClipboard::Caps {
                formats,
                actions,
                max_sizes,
            });
        }
        if actions.0.count_ones() != 1 {
            return Err(Malformed::ExtendedClipboard("not exactly one action").into());
        }
        let empty = |m: ExtendedClipboard| {
            if rest.is_empty() {
                Ok(m)
            } else {
                Err(Error::from(Malformed::ExtendedClipboard(
                    "unexpected data after the flags",
                )))
            }
        };
        match actions {
            Actions::REQUEST => empty(ExtendedClipboard::Request(formats)),
            Actions::PEEK => empty(ExtendedClipboard::Peek),
            Actions::NOTIFY => empty(ExtendedClipboard::Notify(formats)),
            Actions::PROVIDE => Ok(ExtendedClipboard::Provide {
                formats,
                zlib: Bytes::copy_from_slice(rest),
            }),
            _ => Err(Malformed::ExtendedClipboard("unknown action").into()),
        }
    }

    /// The flags word this message is sent with.
    pub fn flags(&self) -> u32 {
        let (formats, actions) = match self {
            ExtendedClipboard::Caps {
                formats, actions, ..
            } => (*formats, Actions(actions.0 | 1)),
            ExtendedClipboard::Request(f) => (*f, Actions::REQUEST),
            ExtendedClipboard::Peek => (Formats(0), Actions::PEEK),
            ExtendedClipboard::Notify(f) => (*f, Actions::NOTIFY),
            ExtendedClipboard::Provide { formats, .. } => (*formats, Actions::PROVIDE),
        };
        u32::from(formats.0) | (u32::from(actions.0) << 24)
    }

    /// Length of the body on the wire (the absolute value of the cut-text length).
    /// A Caps message writes exactly one size per format: missing sizes are written as
    /// zero and surplus ones are dropped.
    pub fn encoded_len(&self) -> usize {
        4 + match self {
            ExtendedClipboard::Caps { formats, .. } => formats.len() * 4,
            ExtendedClipboard::Provide { zlib, .. } => zlib.len(),
            _ => 0,
        }
    }

    /// Appends the body (flags and what follows them), without the length.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u32(self.flags());
        match self {
            ExtendedClipboard::Caps {
                formats, max_sizes, ..
            } => {
                for i in 0..formats.len() {
                    out.put_u32(max_sizes.get(i).copied().unwrap_or(0));
                }
            }
            ExtendedClipboard::Provide { zlib, .. } => out.put_slice(zlib),
            _ => {}
        }
    }
}

/// Splits an inflated Provide stream into one `(format, data)` pair per format in
/// `formats`, in ascending bit order.
///
/// Every size is checked against [`Limits::max_cut_text`] before its data is copied, and
/// a stream that ends early is [`Malformed::ExtendedClipboard`]. Bytes after the last
/// pair are ignored (the zlib stream may be padded by a sync flush). The caller must cap
/// the inflate itself (at `max_cut_text`) so the input is already bounded.
///
/// ```
/// use rfb_proto::clipboard::{encode_provide_payload, parse_provide_payload, Format, Formats};
/// let raw = [0, 0, 0, 3, b'h', b'i', 0];
/// let items = parse_provide_payload(&raw, Formats::TEXT, &Default::default()).unwrap();
/// assert_eq!(items, [(Format::TEXT, bytes::Bytes::from_static(b"hi\0"))]);
/// assert_eq!(encode_provide_payload(&items), raw);
/// ```
pub fn parse_provide_payload(
    inflated: &[u8],
    formats: Formats,
    limits: &Limits,
) -> Result<Vec<(Format, Bytes)>, Error> {
    let mut r = Reader::new(inflated);
    let step = (|| -> Step<Vec<(Format, Bytes)>> {
        let mut items = Vec::with_capacity(formats.len());
        for f in formats.iter() {
            let n = r.u32()?;
            LimitExceeded::check(Limit::CutText, n.into(), limits.max_cut_text.into())?;
            let data = r.take(n as usize)?;
            items.push((f, Bytes::copy_from_slice(data)));
        }
        Ok(items)
    })();
    match step {
        Ok(items) => Ok(items),
        Err(Stop::Error(e)) => Err(e),
        Err(Stop::Incomplete(_)) => {
            Err(Malformed::ExtendedClipboard("provide data shorter than its sizes").into())
        }
    }
}

/// Builds the uncompressed Provide stream: a `U32` size and the data for each item, in
/// the order given (give them in ascending format order, as the spec requires; the
/// caller deflates the result). Data longer than `u32::MAX` bytes is truncated.
pub fn encode_provide_payload(items: &[(Format, Bytes)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.iter().map(|(_, d)| 4 + d.len()).sum());
    for (_, data) in items {
        let n = data.len().min(u32::MAX as usize);
        out.put_u32(n as u32);
        out.put_slice(&data[..n]);
    }
    out
}
