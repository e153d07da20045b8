//! The ProtocolVersion handshake message and the mapping of real-world version strings.

use std::fmt;

use crate::error::{Incompatible, Malformed};
use crate::wire::{fail, run, Reader, Step};
use crate::{Error, Progress};

/// A protocol version this crate speaks.
///
/// Ordered: `V3_3 < V3_7 < V3_8`.
///
/// ```
/// use rfb_proto::ProtocolVersion;
/// assert_eq!(ProtocolVersion::V3_8.to_bytes(), *b"RFB 003.008\n");
/// assert!(ProtocolVersion::V3_3 < ProtocolVersion::V3_8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolVersion {
    /// RFB 3.3: the server chooses the security type; no SecurityResult for None; no
    /// failure reasons after authentication.
    V3_3,
    /// RFB 3.7: the client chooses from a list; no SecurityResult for None; no reason on
    /// a failed SecurityResult.
    V3_7,
    /// RFB 3.8: SecurityResult always sent, with a reason string on failure.
    V3_8,
}

impl ProtocolVersion {
    /// The 12-byte wire form, e.g. `RFB 003.008\n`.
    pub const fn to_bytes(self) -> [u8; 12] {
        match self {
            ProtocolVersion::V3_3 => *b"RFB 003.003\n",
            ProtocolVersion::V3_7 => *b"RFB 003.007\n",
            ProtocolVersion::V3_8 => *b"RFB 003.008\n",
        }
    }

    /// Appends the 12-byte wire form to `out`.
    pub fn encode(self, out: &mut impl bytes::BufMut) {
        out.put_slice(&self.to_bytes());
    }

    /// Parses a version string and maps it to the nearest flow this crate speaks (see
    /// [`VersionString::nearest`]).
    pub fn decode(buf: &[u8]) -> Result<Progress<ProtocolVersion>, Error> {
        match VersionString::decode(buf)? {
            Progress::Done { item, consumed } => Ok(Progress::Done {
                item: item.nearest()?,
                consumed,
            }),
            Progress::NeedMore { at_least } => Ok(Progress::NeedMore { at_least }),
        }
    }

    /// Major and minor numbers, e.g. `(3, 8)`.
    pub const fn numbers(self) -> (u16, u16) {
        match self {
            ProtocolVersion::V3_3 => (3, 3),
            ProtocolVersion::V3_7 => (3, 7),
            ProtocolVersion::V3_8 => (3, 8),
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = self.numbers();
        write!(f, "{a}.{b}")
    }
}

/// A ProtocolVersion message exactly as the peer sent it (`RFB xxx.yyy\n`).
///
/// Real peers send more than the three published versions. [`VersionString::nearest`]
/// maps them to the flow they actually speak:
///
/// | sent | who sends it | flow |
/// |---|---|---|
/// | 3.3 | old servers and viewers, vncsnapshot | 3.3 |
/// | 3.4, 3.6 | UltraVNC (older releases) | 3.3 |
/// | 3.5 | TightVNC 1.x clients (the spec says: treat as 3.3) | 3.3 |
/// | 3.7 | | 3.7 |
/// | 3.8 | nearly everyone today | 3.8 |
/// | 3.889 | Apple Remote Desktop / macOS Screen Sharing | 3.8 |
/// | 3.x, x > 8 | | 3.8 |
/// | 4.x, 5.x | RealVNC 4+, Intel AMT KVM | 3.8 |
/// | < 3.3 or major < 3 | | error |
///
/// ```
/// use rfb_proto::{Progress, ProtocolVersion, VersionString};
/// let Progress::Done { item, .. } = VersionString::decode(b"RFB 003.889\n").unwrap() else { panic!() };
/// assert_eq!((item.major, item.minor), (3, 889));
/// assert_eq!(item.nearest().unwrap(), ProtocolVersion::V3_8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionString {
    /// Major version (`xxx`).
    pub major: u16,
    /// Minor version (`yyy`).
    pub minor: u16,
}

impl VersionString {
    /// Length of the message on the wire.
    pub const LEN: usize = 12;

    /// Parses the 12-byte message. Any deviation from `RFB ddd.ddd\n` is
    /// [`Malformed::VersionString`].
    pub fn decode(buf: &[u8]) -> Result<Progress<VersionString>, Error> {
        run(buf, Self::read)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Step<VersionString> {
        let b: [u8; 12] = r.array()?;
        let digits = |s: &[u8]| -> Option<u16> {
            s.iter().try_fold(0u16, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u16::from(c - b'0'))
            })
        };
        if &b[..4] != b"RFB " || b[7] != b'.' || b[11] != b'\n' {
            return fail(Malformed::VersionString(b));
        }
        match (digits(&b[4..7]), digits(&b[8..11])) {
            (Some(major), Some(minor)) => Ok(VersionString { major, minor }),
            _ => fail(Malformed::VersionString(b)),
        }
    }

    /// The protocol flow to use with a peer that sent this string (see the table above).
    pub fn nearest(self) -> Result<ProtocolVersion, Error> {
        match (self.major, self.minor) {
            (3, 3..=6) => Ok(ProtocolVersion::V3_3),
            (3, 7) => Ok(ProtocolVersion::V3_7),
            (3, 8..) => Ok(ProtocolVersion::V3_8),
            (4..=999, _) => Ok(ProtocolVersion::V3_8),
            (major, minor) => Err(Incompatible::Version { major, minor }.into()),
        }
    }
}

impl From<ProtocolVersion> for VersionString {
    fn from(v: ProtocolVersion) -> Self {
        let (major, minor) = v.numbers();
        VersionString { major, minor }
    }
}

impl fmt::Display for VersionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> Result<ProtocolVersion, Error> {
        match ProtocolVersion::decode(s)? {
            Progress::Done { item, consumed } => {
                assert_eq!(consumed, 12);
                Ok(item)
            }
            Progress::NeedMore { .. } => panic!("incomplete"),
        }
    }

    #[test]
    fn published_versions_round_trip() {
        for v in [
            ProtocolVersion::V3_3,
            ProtocolVersion::V3_7,
            ProtocolVersion::V3_8,
        ] {
            assert_eq!(parse(&v.to_bytes()).unwrap(), v);
        }
        // The exact bytes from RFC 6143 section 7.1.1.
        assert_eq!(
            ProtocolVersion::V3_8.to_bytes(),
            [0x52, 0x46, 0x42, 0x20, 0x30, 0x30, 0x33, 0x2e, 0x30, 0x30, 0x38, 0x0a]
        );
    }

    #[test]
    fn real_world_strings_map_to_nearest_flow() {
        let cases: &[(&[u8], ProtocolVersion)] = &[
            (b"RFB 003.004\n", ProtocolVersion::V3_3),
            (b"RFB 003.005\n", ProtocolVersion::V3_3),
            (b"RFB 003.006\n", ProtocolVersion::V3_3),
            (b"RFB 003.889\n", ProtocolVersion::V3_8),
            (b"RFB 004.000\n", ProtocolVersion::V3_8),
            (b"RFB 004.001\n", ProtocolVersion::V3_8),
            (b"RFB 005.000\n", ProtocolVersion::V3_8),
        ];
        for (s, v) in cases {
            assert_eq!(parse(s).unwrap(), *v, "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn rejects_old_and_malformed() {
        assert!(matches!(
            parse(b"RFB 003.002\n"),
            Err(Error::Incompatible(_))
        ));
        assert!(matches!(
            parse(b"RFB 002.000\n"),
            Err(Error::Incompatible(_))
        ));
        assert!(matches!(parse(b"RFB 003.00x\n"), Err(Error::Malformed(_))));
        assert!(matches!(parse(b"SSH-2.0-xxxx"), Err(Error::Malformed(_))));
        assert!(matches!(parse(b"RFB 003.008\r"), Err(Error::Malformed(_))));
    }

    #[test]
    fn partial_input_needs_more() {
        for n in 0..12 {
            assert_eq!(
                ProtocolVersion::decode(&b"RFB 003.008\n"[..n]).unwrap(),
                Progress::NeedMore { at_least: 12 }
            );
        }
    }
}
