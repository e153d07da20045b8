//! SetColourMapEntries (type 1).

use bytes::BufMut;

use crate::error::{LimitExceeded, Malformed};
use crate::limits::Limit;
use crate::wire::{fail, Reader, Step};
use crate::Limits;

/// One colour-map entry: 16-bit intensities.
///
/// ```
/// let white = rfb_proto::server::Colour { red: 0xffff, green: 0xffff, blue: 0xffff };
/// assert_eq!(white, rfb_proto::server::Colour { red: u16::MAX, ..white });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Colour {
    /// Red, 0..=65535.
    pub red: u16,
    /// Green, 0..=65535.
    pub green: u16,
    /// Blue, 0..=65535.
    pub blue: u16,
}

/// Sets colour-map entries `first..first + colours.len()`.
///
/// ```
/// use rfb_proto::server::{Colour, SetColourMapEntries};
/// let m = SetColourMapEntries { first: 1, colours: vec![Colour { red: 0xffff, green: 0, blue: 2 }] };
/// let mut w = Vec::new();
/// m.encode(&mut w);
/// assert_eq!(w, [1, 0, 0, 1, 0, 1, 0xff, 0xff, 0, 0, 0, 2]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetColourMapEntries {
    /// Index of the first entry set.
    pub first: u16,
    /// The entries (at most 65535 are written).
    pub colours: Vec<Colour>,
}

impl SetColourMapEntries {
    /// Message type of SetColourMapEntries.
    pub const MESSAGE_TYPE: u8 = 1;

    /// Reads the body: the count is checked against
    /// [`Limits::max_colour_map_entries`], and `first + count` must not pass 65536.
    pub(crate) fn read_body(r: &mut Reader<'_>, limits: &Limits) -> Step<Self> {
        r.skip(1)?;
        let first = r.u16()?;
        let n = r.u16()?;
        LimitExceeded::check(
            Limit::ColourMapEntries,
            n.into(),
            limits.max_colour_map_entries.into(),
        )?;
        if u32::from(first) + u32::from(n) > 65536 {
            return fail(Malformed::InvalidValue {
                field: "SetColourMapEntries first-colour + number-of-colours",
                value: i64::from(first) + i64::from(n),
            });
        }
        r.need(usize::from(n) * 6)?;
        let colours = (0..n)
            .map(|_| {
                Ok(Colour {
                    red: r.u16()?,
                    green: r.u16()?,
                    blue: r.u16()?,
                })
            })
            .collect::<Step<Vec<_>>>()?;
        Ok(SetColourMapEntries { first, colours })
    }

    /// Appends the whole message.
    pub fn encode(&self, out: &mut impl BufMut) {
        let n = self.colours.len().min(usize::from(u16::MAX));
        out.put_u8(Self::MESSAGE_TYPE);
        out.put_u8(0);
        out.put_u16(self.first);
        out.put_u16(n as u16);
        for c in &self.colours[..n] {
            out.put_u16(c.red);
            out.put_u16(c.green);
            out.put_u16(c.blue);
        }
    }
}
