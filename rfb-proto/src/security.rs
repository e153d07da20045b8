//! Security negotiation messages: the security-type registry, the server's offer, the
//! SecurityResult, and the VNC Authentication challenge/response.

use std::fmt;

use bytes::BufMut;

use crate::error::Malformed;
use crate::limits::Limit;
use crate::text::read_string;
use crate::wire::{fail, run, Reader, Step};
use crate::{Error, Limits, Progress, ProtocolVersion};

/// A security type number (the IANA RFB registry).
///
/// Unknown numbers are kept as they are.
///
/// ```
/// use rfb_proto::SecurityType;
/// assert_eq!(SecurityType::VNC_AUTH.0, 2);
/// assert_eq!(SecurityType::VENCRYPT.to_string(), "VeNCrypt(19)");
/// assert_eq!(SecurityType(200).to_string(), "200");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecurityType(pub u8);

impl SecurityType {
    /// 0: Invalid (a failure marker, never a choice).
    pub const INVALID: SecurityType = SecurityType(0);
    /// 1: None.
    pub const NONE: SecurityType = SecurityType(1);
    /// 2: VNC Authentication (DES challenge/response).
    pub const VNC_AUTH: SecurityType = SecurityType(2);
    /// 5: RSA-AES (TigerVNC "RA2").
    pub const RA2: SecurityType = SecurityType(5);
    /// 6: RSA-AES unencrypted (TigerVNC "RA2ne").
    pub const RA2NE: SecurityType = SecurityType(6);
    /// 13: RSA-AES two-step.
    pub const RA2_TWO_STEP: SecurityType = SecurityType(13);
    /// 16: Tight.
    pub const TIGHT: SecurityType = SecurityType(16);
    /// 17: Ultra.
    pub const ULTRA: SecurityType = SecurityType(17);
    /// 18: TLS (anonymous TLS, Vino).
    pub const TLS: SecurityType = SecurityType(18);
    /// 19: VeNCrypt.
    pub const VENCRYPT: SecurityType = SecurityType(19);
    /// 20: SASL.
    pub const SASL: SecurityType = SecurityType(20);
    /// 21: MD5 hash authentication.
    pub const MD5: SecurityType = SecurityType(21);
    /// 22: xvp authentication.
    pub const XVP: SecurityType = SecurityType(22);
    /// 30: Diffie-Hellman authentication (Apple).
    pub const DIFFIE_HELLMAN: SecurityType = SecurityType(30);
    /// 113: MSLogonII (UltraVNC).
    pub const MS_LOGON_II: SecurityType = SecurityType(113);
    /// 129: RSA-AES-256 (TigerVNC "RA256").
    pub const RA256: SecurityType = SecurityType(129);
    /// 130: RSA-AES-256 unencrypted.
    pub const RA256NE: SecurityType = SecurityType(130);
    /// 133: RSA-AES-256 two-step.
    pub const RA256_TWO_STEP: SecurityType = SecurityType(133);

    /// The registry name, if this number has one we know.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "Invalid",
            1 => "None",
            2 => "VncAuth",
            5 => "RA2",
            6 => "RA2ne",
            13 => "RA2-2step",
            16 => "Tight",
            17 => "Ultra",
            18 => "TLS",
            19 => "VeNCrypt",
            20 => "SASL",
            21 => "MD5",
            22 => "xvp",
            30 => "DH",
            113 => "MSLogonII",
            129 => "RA256",
            130 => "RA256ne",
            133 => "RA256-2step",
            _ => return None,
        })
    }
}

impl fmt::Display for SecurityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}({})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// What a server sends right after the version exchange.
///
/// Version 3.7 and 3.8 servers send a list ([`SecurityOffer::Types`]); 3.3 servers choose
/// ([`SecurityOffer::Chosen`], only None or VNC Authentication are legal). Either can
/// instead fail the connection with a reason ([`SecurityOffer::Failed`]).
///
/// ```
/// use rfb_proto::{Limits, Progress, ProtocolVersion, SecurityOffer, SecurityType};
/// let offer = SecurityOffer::Types(vec![SecurityType::VNC_AUTH]);
/// let mut wire = Vec::new();
/// offer.encode(ProtocolVersion::V3_8, &mut wire);
/// assert_eq!(wire, [1, 2]);
/// let parsed = SecurityOffer::decode(&wire, ProtocolVersion::V3_8, &Limits::default()).unwrap();
/// assert_eq!(parsed, Progress::Done { item: offer, consumed: 2 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityOffer {
    /// 3.7+: the types the server supports, in its order of preference (never empty).
    Types(Vec<SecurityType>),
    /// 3.3: the type the server chose (1 or 2).
    Chosen(SecurityType),
    /// The server refused the connection before security negotiation.
    Failed(String),
}

impl SecurityOffer {
    /// Parses the offer for the given protocol version.
    pub fn decode(
        buf: &[u8],
        version: ProtocolVersion,
        limits: &Limits,
    ) -> Result<Progress<SecurityOffer>, Error> {
        run(buf, |r| {
            if version == ProtocolVersion::V3_3 {
                match r.u32()? {
                    0 => Ok(SecurityOffer::Failed(read_string(
                        r,
                        limits.max_reason,
                        Limit::Reason,
                    )?)),
                    t @ (1 | 2) => Ok(SecurityOffer::Chosen(SecurityType(t as u8))),
                    t => fail(Malformed::InvalidSecurityType(t)),
                }
            } else {
                let n = r.u8()?;
                if n == 0 {
                    return Ok(SecurityOffer::Failed(read_string(
                        r,
                        limits.max_reason,
                        Limit::Reason,
                    )?));
                }
                let types: Vec<SecurityType> = r
                    .take(usize::from(n))?
                    .iter()
                    .map(|&t| SecurityType(t))
                    .collect();
                Ok(SecurityOffer::Types(types))
            }
        })
    }

    /// Appends the wire form for `version`.
    ///
    /// For 3.3, [`SecurityOffer::Types`] encodes its first entry as the server's choice.
    /// An empty or over-long type list is encoded as a failure, as the protocol has no
    /// way to say it otherwise.
    pub fn encode(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        let fail_with = |out: &mut dyn BufMut, reason: &str, v33: bool| {
            if v33 {
                out.put_u32(0);
            } else {
                out.put_u8(0);
            }
            put_string(out, reason);
        };
        let v33 = version == ProtocolVersion::V3_3;
        match self {
            SecurityOffer::Failed(reason) => fail_with(out, reason, v33),
            SecurityOffer::Chosen(t) if v33 => out.put_u32(u32::from(t.0)),
            SecurityOffer::Chosen(t) => {
                out.put_u8(1);
                out.put_u8(t.0);
            }
            SecurityOffer::Types(types) if types.is_empty() || types.len() > 255 => {
                fail_with(out, "no security types", v33)
            }
            SecurityOffer::Types(types) if v33 => out.put_u32(u32::from(types[0].0)),
            SecurityOffer::Types(types) => {
                out.put_u8(types.len() as u8);
                for t in types {
                    out.put_u8(t.0);
                }
            }
        }
    }
}

/// Appends a `U32` length and the UTF-8 bytes of `s` (truncated to `u32::MAX` bytes).
pub(crate) fn put_string(out: &mut dyn BufMut, s: &str) {
    let b = s.as_bytes();
    let n = b.len().min(u32::MAX as usize);
    out.put_u32(n as u32);
    out.put_slice(&b[..n]);
}

/// The client's choice of security type (3.7 and 3.8 only).
///
/// ```
/// use rfb_proto::{SecurityChoice, SecurityType};
/// assert_eq!(SecurityChoice::decode(&[2]).unwrap().done(), Some((SecurityType::VNC_AUTH, 1)));
/// assert!(SecurityChoice::decode(&[0]).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityChoice;

impl SecurityChoice {
    /// Parses the single byte. Type 0 (Invalid) is malformed.
    pub fn decode(buf: &[u8]) -> Result<Progress<SecurityType>, Error> {
        run(buf, |r| match r.u8()? {
            0 => fail(Malformed::InvalidSecurityType(0)),
            t => Ok(SecurityType(t)),
        })
    }

    /// Appends the byte.
    pub fn encode(t: SecurityType, out: &mut impl BufMut) {
        out.put_u8(t.0);
    }
}

/// The SecurityResult message.
///
/// Its shape depends on the version: 3.8 sends a reason after a failure, 3.3 and 3.7 do
/// not (and, with security type None, 3.3 and 3.7 send no SecurityResult at all — the
/// handshake state machines know that, this type does not).
///
/// ```
/// use rfb_proto::{Limits, ProtocolVersion, SecurityResult};
/// let failed = SecurityResult::Failed(Some("Authentication failed".into()));
/// let mut wire = Vec::new();
/// failed.encode(ProtocolVersion::V3_8, &mut wire);
/// assert_eq!(&wire[..8], [0, 0, 0, 1, 0, 0, 0, 21]);
/// let (back, n) = SecurityResult::decode(&wire, ProtocolVersion::V3_8, &Limits::default())
///     .unwrap().done().unwrap();
/// assert_eq!((back, n), (failed, wire.len()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityResult {
    /// Status 0: authenticated.
    Ok,
    /// Status 1: failed, with the 3.8 reason string.
    Failed(Option<String>),
    /// Status 2: failed, too many attempts (Tight security extension), with the 3.8
    /// reason string.
    TooManyAttempts(Option<String>),
}

impl SecurityResult {
    /// Parses the result; reads a reason after a failure only for 3.8.
    pub fn decode(
        buf: &[u8],
        version: ProtocolVersion,
        limits: &Limits,
    ) -> Result<Progress<SecurityResult>, Error> {
        run(buf, |r| {
            let status = r.u32()?;
            let reason = |r: &mut Reader<'_>| -> Step<Option<String>> {
                if version >= ProtocolVersion::V3_8 {
                    Ok(Some(read_string(r, limits.max_reason, Limit::Reason)?))
                } else {
                    Ok(None)
                }
            };
            match status {
                0 => Ok(SecurityResult::Ok),
                1 => Ok(SecurityResult::Failed(reason(r)?)),
                2 => Ok(SecurityResult::TooManyAttempts(reason(r)?)),
                s => fail(Malformed::SecurityResultStatus(s)),
            }
        })
    }

    /// Appends the wire form; the reason is written only for 3.8 (an absent reason is
    /// sent as an empty string there).
    pub fn encode(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        let (status, reason) = match self {
            SecurityResult::Ok => (0, None),
            SecurityResult::Failed(r) => (1, r.as_deref()),
            SecurityResult::TooManyAttempts(r) => (2, r.as_deref()),
        };
        out.put_u32(status);
        if status != 0 && version >= ProtocolVersion::V3_8 {
            put_string(out, reason.unwrap_or(""));
        }
    }

    /// True for [`SecurityResult::Ok`].
    pub fn is_ok(&self) -> bool {
        matches!(self, SecurityResult::Ok)
    }
}

/// Length of the VNC Authentication challenge and response.
pub const VNC_AUTH_CHALLENGE_LEN: usize = 16;

/// Computes the VNC Authentication response to `challenge` for `password`.
///
/// As every real server does, only the first 8 bytes of the password are used (shorter
/// passwords are padded with zero bytes). Each key byte is bit-reversed before DES (the
/// protocol takes the lowest bit of each byte as DES's first bit), and the two 8-byte
/// halves of the challenge are encrypted independently (DES-ECB).
///
/// ```
/// // Vector checked against OpenSSL: `des-ecb` with the bit-reversed key.
/// let challenge = [0u8; 16];
/// let r = rfb_proto::vnc_auth_response(b"password", &challenge);
/// assert_eq!(r[..8], r[8..]);
/// assert_ne!(r, challenge);
/// ```
pub fn vnc_auth_response(password: &[u8], challenge: &[u8; 16]) -> [u8; 16] {
    use des::cipher::{BlockEncrypt, KeyInit};
    let mut key = [0u8; 8];
    for (k, p) in key.iter_mut().zip(password.iter()) {
        *k = p.reverse_bits();
    }
    let cipher = des::Des::new(&key.into());
    let mut out = *challenge;
    for half in out.chunks_exact_mut(8) {
        cipher.encrypt_block(half.into());
    }
    out
}

/// Checks a VNC Authentication response against the expected password, in time that
/// does not depend on where the bytes differ.
pub fn vnc_auth_verify(password: &[u8], challenge: &[u8; 16], response: &[u8; 16]) -> bool {
    let expected = vnc_auth_response(password, challenge);
    expected
        .iter()
        .zip(response.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// Parses the 16-byte challenge (client side) or response (server side).
pub fn decode_vnc_auth_block(buf: &[u8]) -> Result<Progress<[u8; 16]>, Error> {
    run(buf, |r| r.array::<16>())
}

/// Refusal reasons are text; this turns a failed result into a readable message.
impl fmt::Display for SecurityResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecurityResult::Ok => f.write_str("OK"),
            SecurityResult::Failed(Some(r)) => write!(f, "failed: {r}"),
            SecurityResult::Failed(None) => f.write_str("failed"),
            SecurityResult::TooManyAttempts(Some(r)) => write!(f, "too many attempts: {r}"),
            SecurityResult::TooManyAttempts(None) => f.write_str("too many attempts"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn des_vector_matches_openssl() {
        // openssl enc -des-ecb -nopad -K <bit-reversed "password"> over 16 bytes 00..0f:
        //   key  "password" = 70 61 73 73 77 6f 72 64 -> reversed 0e 86 ce ce ee f6 4e 26
        let challenge: [u8; 16] = core::array::from_fn(|i| i as u8);
        let r = vnc_auth_response(b"password", &challenge);
        let expected: [u8; 16] = [
            0xb8, 0x66, 0x92, 0x41, 0x25, 0xc8, 0xee, 0xbb, 0x9d, 0xeb, 0xc1, 0xdb, 0x61, 0xc5,
            0x38, 0xe2,
        ];
        assert_eq!(r, expected);
    }

    #[test]
    fn password_truncated_to_eight_bytes() {
        let c = [7u8; 16];
        assert_eq!(
            vnc_auth_response(b"password", &c),
            vnc_auth_response(b"password-and-more", &c)
        );
        assert_ne!(
            vnc_auth_response(b"passwor", &c),
            vnc_auth_response(b"password", &c)
        );
        // Short passwords are zero-padded.
        assert_eq!(
            vnc_auth_response(b"abc", &c),
            vnc_auth_response(b"abc\0\0\0\0\0", &c)
        );
        assert!(vnc_auth_verify(b"abc", &c, &vnc_auth_response(b"abc", &c)));
        assert!(!vnc_auth_verify(b"abd", &c, &vnc_auth_response(b"abc", &c)));
    }

    #[test]
    fn offer_v33_and_failures() {
        let l = Limits::default();
        let p = SecurityOffer::decode(&[0, 0, 0, 2], ProtocolVersion::V3_3, &l).unwrap();
        assert_eq!(
            p.done(),
            Some((SecurityOffer::Chosen(SecurityType::VNC_AUTH), 4))
        );
        assert!(SecurityOffer::decode(&[0, 0, 0, 19], ProtocolVersion::V3_3, &l).is_err());
        let wire = [0, 0, 0, 0, 0, 0, 0, 3, b'b', b'a', b'd'];
        let p = SecurityOffer::decode(&wire, ProtocolVersion::V3_3, &l).unwrap();
        assert_eq!(p.done(), Some((SecurityOffer::Failed("bad".into()), 11)));
        let wire = [0, 0, 0, 0, 3, b'b', b'a', b'd'];
        let p = SecurityOffer::decode(&wire, ProtocolVersion::V3_8, &l).unwrap();
        assert_eq!(p.done(), Some((SecurityOffer::Failed("bad".into()), 8)));
        // A reason longer than the limit is refused before it is read.
        let l = Limits {
            max_reason: 2,
            ..Limits::default()
        };
        assert!(matches!(
            SecurityOffer::decode(&[0, 0, 0, 0, 3], ProtocolVersion::V3_8, &l),
            Err(Error::LimitExceeded(_))
        ));
    }

    #[test]
    fn result_versions() {
        let l = Limits::default();
        let p = SecurityResult::decode(&[0, 0, 0, 1], ProtocolVersion::V3_7, &l).unwrap();
        assert_eq!(p.done(), Some((SecurityResult::Failed(None), 4)));
        let p = SecurityResult::decode(&[0, 0, 0, 1], ProtocolVersion::V3_8, &l).unwrap();
        assert_eq!(p, Progress::NeedMore { at_least: 8 });
        assert!(SecurityResult::decode(&[0, 0, 0, 9], ProtocolVersion::V3_8, &l).is_err());
    }
}
