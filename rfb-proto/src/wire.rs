//! Incremental parsing primitives shared by every message parser.

use crate::Error;

/// The outcome of an incremental parse of a byte slice that may hold only part of an item.
///
/// A parser either returns the item with the number of bytes it used
/// ([`Progress::Done`]), or says that the slice is too short ([`Progress::NeedMore`]),
/// in which case nothing is consumed and the caller should call again with the same bytes
/// plus more. `at_least` is the total length known so far to be needed (so a buffer can
/// be reserved); it is a lower bound, not always the final length.
///
/// ```
/// use rfb_proto::{Progress, ProtocolVersion};
/// assert_eq!(ProtocolVersion::decode(b"RFB 003."), Ok(Progress::NeedMore { at_least: 12 }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress<T> {
    /// A whole item was parsed from the first `consumed` bytes.
    Done {
        /// The parsed item.
        item: T,
        /// How many bytes of the input it used.
        consumed: usize,
    },
    /// The input holds only part of an item; at least `at_least` bytes in all are needed.
    NeedMore {
        /// Total bytes needed, as far as is known yet.
        at_least: usize,
    },
}

impl<T> Progress<T> {
    /// Maps the parsed item, keeping the byte count.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Progress<U> {
        match self {
            Progress::Done { item, consumed } => Progress::Done {
                item: f(item),
                consumed,
            },
            Progress::NeedMore { at_least } => Progress::NeedMore { at_least },
        }
    }

    /// The item, if complete.
    pub fn done(self) -> Option<(T, usize)> {
        match self {
            Progress::Done { item, consumed } => Some((item, consumed)),
            Progress::NeedMore { .. } => None,
        }
    }
}

/// Why a [`Reader`] stopped: not enough bytes, or an error.
#[derive(Debug)]
#[doc(hidden)]
pub enum Stop {
    /// At least this many bytes in total are needed.
    Incomplete(usize),
    /// A protocol error.
    Error(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Error(e)
    }
}

/// Stops a parse with an error.
#[doc(hidden)]
pub fn fail<T>(e: impl Into<Error>) -> Step<T> {
    Err(Stop::Error(e.into()))
}

/// Result of a parse step inside this crate.
#[doc(hidden)]
pub type Step<T> = Result<T, Stop>;

/// Runs a parse closure over `buf` and turns the outcome into a [`Progress`].
#[doc(hidden)]
pub fn run<T>(
    buf: &[u8],
    f: impl FnOnce(&mut Reader<'_>) -> Step<T>,
) -> Result<Progress<T>, Error> {
    let mut r = Reader::new(buf);
    match f(&mut r) {
        Ok(item) => Ok(Progress::Done {
            item,
            consumed: r.pos,
        }),
        Err(Stop::Incomplete(at_least)) => Ok(Progress::NeedMore { at_least }),
        Err(Stop::Error(e)) => Err(e),
    }
}

/// A big-endian cursor over a byte slice that reports how much more it needs.
#[derive(Debug)]
#[doc(hidden)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left after the cursor.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Fails with `Incomplete` unless `n` more bytes are present (without consuming).
    pub fn need(&self, n: usize) -> Step<()> {
        if self.remaining() < n {
            Err(Stop::Incomplete(self.pos.saturating_add(n)))
        } else {
            Ok(())
        }
    }

    /// Takes `n` bytes.
    pub fn take(&mut self, n: usize) -> Step<&'a [u8]> {
        self.need(n)?;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Step<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Skips `n` bytes of padding.
    pub fn skip(&mut self, n: usize) -> Step<()> {
        self.take(n).map(|_| ())
    }

    /// A `U8`.
    pub fn u8(&mut self) -> Step<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A big-endian `U16`.
    pub fn u16(&mut self) -> Step<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// A big-endian `U32`.
    pub fn u32(&mut self) -> Step<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A big-endian `S32`.
    pub fn i32(&mut self) -> Step<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }
}
