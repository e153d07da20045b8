//! The Fence extension's message body, shared by ClientFence and ServerFence.

use bytes::{BufMut, Bytes};

use crate::error::Malformed;
use crate::wire::{fail, Reader, Step};
use crate::Error;

/// A ClientFence or ServerFence (message type 248 in both directions).
///
/// The flags say what synchronisation is wanted ([`Fence::BLOCK_BEFORE`],
/// [`Fence::BLOCK_AFTER`], [`Fence::SYNC_NEXT`]) and whether this is a new request
/// ([`Fence::REQUEST`]) or a response. The payload (at most [`Fence::MAX_PAYLOAD`] bytes)
/// is echoed by the peer in its response.
///
/// ```
/// use rfb_proto::{ClientMessage, Fence};
/// let fence = Fence::new(Fence::REQUEST | Fence::BLOCK_BEFORE, &b"id"[..]).unwrap();
/// let mut wire = Vec::new();
/// ClientMessage::Fence(fence.clone()).encode(&mut wire);
/// assert_eq!(wire, [248, 0, 0, 0, 0x80, 0, 0, 1, 2, b'i', b'd']);
/// // The response clears Request and any flag the responder does not know.
/// assert_eq!(fence.response().flags, Fence::BLOCK_BEFORE);
/// assert!(Fence::new(0, vec![0; 65]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fence {
    /// Flag bits (see the associated constants).
    pub flags: u32,
    /// Opaque data echoed in the response, at most 64 bytes. [`Fence::encode_body`]
    /// writes only the first 64 bytes of a longer payload; build fences with
    /// [`Fence::new`] to have the length checked.
    pub payload: Bytes,
}

impl Fence {
    /// Bit 0: everything before the fence must have taken effect before the response.
    pub const BLOCK_BEFORE: u32 = 1 << 0;
    /// Bit 1: nothing after the fence may start before the response is sent.
    pub const BLOCK_AFTER: u32 = 1 << 1;
    /// Bit 2: the message after the fence is applied atomically with the response.
    pub const SYNC_NEXT: u32 = 1 << 2;
    /// Bit 31: a new request (set) or a response (clear).
    pub const REQUEST: u32 = 1 << 31;
    /// The flags this crate knows, other than [`Fence::REQUEST`].
    pub const KNOWN_FLAGS: u32 = Self::BLOCK_BEFORE | Self::BLOCK_AFTER | Self::SYNC_NEXT;
    /// Longest payload the extension allows.
    pub const MAX_PAYLOAD: usize = 64;

    /// A fence, or [`Malformed::FencePayload`] if the payload is longer than 64 bytes.
    pub fn new(flags: u32, payload: impl Into<Bytes>) -> Result<Fence, Error> {
        let payload = payload.into();
        if payload.len() > Self::MAX_PAYLOAD {
            return Err(Malformed::FencePayload(payload.len()).into());
        }
        Ok(Fence { flags, payload })
    }

    /// True if this is a request that expects a response.
    pub fn is_request(&self) -> bool {
        self.flags & Self::REQUEST != 0
    }

    /// The response the spec asks for: the same payload, [`Fence::REQUEST`] cleared and
    /// every flag this implementation does not understand cleared.
    pub fn response(&self) -> Fence {
        Fence {
            flags: self.flags & Self::KNOWN_FLAGS,
            payload: self.payload.clone(),
        }
    }

    /// Reads flags, length and payload (after the message type and padding).
    pub(crate) fn read_body(r: &mut Reader<'_>) -> Step<Fence> {
        let flags = r.u32()?;
        let len = usize::from(r.u8()?);
        if len > Self::MAX_PAYLOAD {
            return fail(Malformed::FencePayload(len));
        }
        let payload = Bytes::copy_from_slice(r.take(len)?);
        Ok(Fence { flags, payload })
    }

    /// Appends the whole message: type 248, padding, flags, length and payload.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(248);
        out.put_slice(&[0, 0, 0]);
        self.encode_body(out);
    }

    /// Appends flags, length and payload (at most 64 bytes of it).
    pub fn encode_body(&self, out: &mut impl BufMut) {
        let n = self.payload.len().min(Self::MAX_PAYLOAD);
        out.put_u32(self.flags);
        out.put_u8(n as u8); // n <= 64
        out.put_slice(&self.payload[..n]);
    }
}
