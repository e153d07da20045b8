//! tokio-util `Decoder`/`Encoder` implementations for `Framed` users (feature
//! `tokio-codec`).
//!
//! `ServerSideCodec` decodes [`ClientMessage`](crate::ClientMessage)s and encodes
//! [`ServerMessage`](crate::ServerMessage)s and [`OwnedServerItem`](crate::OwnedServerItem)s; `ClientSideCodec` decodes `OwnedServerItem`s (with a
//! pluggable [`PayloadFramer`](crate::PayloadFramer)) and encodes `ClientMessage`s. Both start after
//! ServerInit. When a message is incomplete they reserve the buffer for what is known
//! to be needed, which the [`Limits`](crate::Limits) bound.
//!
//! Without the `tokio-codec` feature this module is empty.

#[cfg(feature = "tokio-codec")]
pub use imp::*;

#[cfg(feature = "tokio-codec")]
mod imp {
    use bytes::{Buf, BytesMut};
    use tokio_util::codec::{Decoder, Encoder};

    use crate::client::{ClientMessage, ClientParseState};
    use crate::server::ServerMessage;
    use crate::stream::{BasicFramer, OwnedServerItem, PayloadFramer, ServerItem, ServerStream};
    use crate::{Error, Limits, PixelFormat, Progress};

    /// An error from a codec: the transport's, or the protocol's.
    ///
    /// ```
    /// use rfb_proto::codec::CodecError;
    /// let e = CodecError::from(rfb_proto::Error::from(rfb_proto::Malformed::UnknownMessageType(77)));
    /// assert!(matches!(e, CodecError::Protocol(rfb_proto::Error::Malformed(_))));
    /// ```
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum CodecError {
        /// Reading or writing failed.
        #[error("i/o error: {0}")]
        Io(#[from] std::io::Error),
        /// The peer's bytes broke the protocol.
        #[error(transparent)]
        Protocol(#[from] Error),
    }

    fn reserve_for(buf: &mut BytesMut, at_least: usize) {
        buf.reserve(at_least.saturating_sub(buf.len()));
    }

    /// The server's side: decodes client messages, encodes server messages.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use rfb_proto::codec::ServerSideCodec;
    /// use rfb_proto::client::{ClientMessage, KeyEvent};
    /// use tokio_util::codec::Decoder;
    /// let mut codec = ServerSideCodec::new(Default::default());
    /// let mut buf = BytesMut::from(&[4, 1, 0, 0, 0, 0, 0][..]);
    /// assert!(codec.decode(&mut buf).unwrap().is_none());
    /// buf.extend_from_slice(&[0x61]);
    /// assert_eq!(
    ///     codec.decode(&mut buf).unwrap(),
    ///     Some(ClientMessage::KeyEvent(KeyEvent { down: true, keysym: 0x61 }))
    /// );
    /// ```
    #[derive(Debug, Clone, Default)]
    pub struct ServerSideCodec {
        limits: Limits,
        state: ClientParseState,
    }

    impl ServerSideCodec {
        /// A codec with these limits and no negotiated extensions.
        pub fn new(limits: Limits) -> ServerSideCodec {
            ServerSideCodec {
                limits,
                state: ClientParseState::default(),
            }
        }

        /// The limits in force.
        pub fn limits(&self) -> &Limits {
            &self.limits
        }

        /// Replaces the limits.
        pub fn set_limits(&mut self, limits: Limits) {
            self.limits = limits;
        }

        /// The negotiated parse state.
        pub fn parse_state(&self) -> &ClientParseState {
            &self.state
        }

        /// Replaces the parse state (e.g. after confirming ExtendedMouseButtons).
        pub fn set_parse_state(&mut self, state: ClientParseState) {
            self.state = state;
        }
    }

    impl Decoder for ServerSideCodec {
        type Item = ClientMessage;
        type Error = CodecError;

        fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<ClientMessage>, CodecError> {
            match ClientMessage::decode(buf, &self.state, &self.limits)? {
                Progress::Done { item, consumed } => {
                    buf.advance(consumed);
                    Ok(Some(item))
                }
                Progress::NeedMore { at_least } => {
                    reserve_for(buf, at_least);
                    Ok(None)
                }
            }
        }
    }

    impl Encoder<&ServerMessage> for ServerSideCodec {
        type Error = CodecError;

        fn encode(&mut self, msg: &ServerMessage, dst: &mut BytesMut) -> Result<(), CodecError> {
            msg.encode(dst);
            Ok(())
        }
    }

    impl Encoder<ServerMessage> for ServerSideCodec {
        type Error = CodecError;

        fn encode(&mut self, msg: ServerMessage, dst: &mut BytesMut) -> Result<(), CodecError> {
            msg.encode(dst);
            Ok(())
        }
    }

    impl Encoder<OwnedServerItem> for ServerSideCodec {
        type Error = CodecError;

        /// Writes the item as [`OwnedServerItem::encode`] does.
        fn encode(&mut self, item: OwnedServerItem, dst: &mut BytesMut) -> Result<(), CodecError> {
            item.encode(dst);
            Ok(())
        }
    }

    /// The client's side: decodes the server's stream into [`OwnedServerItem`]s (payloads
    /// are zero-copy slices of the read buffer), encodes client messages.
    ///
    /// Encoding a [`ClientMessage`] uses the negotiated [`ClientParseState`]
    /// ([`ClientMessage::encode_for`]). The pixel format is not changed by encoding
    /// SetPixelFormat: call [`ClientSideCodec::set_pixel_format`] when it takes effect.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use rfb_proto::codec::ClientSideCodec;
    /// use rfb_proto::stream::OwnedServerItem;
    /// use rfb_proto::{Limits, PixelFormat, ServerMessage};
    /// use tokio_util::codec::Decoder;
    /// let mut codec = ClientSideCodec::new(PixelFormat::RGB888, Limits::default());
    /// let mut buf = BytesMut::from(&[2, 0, 0, 0, 0][..]);
    /// assert_eq!(codec.decode(&mut buf).unwrap(), Some(OwnedServerItem::Message(ServerMessage::Bell)));
    /// assert_eq!(codec.decode(&mut buf).unwrap(), Some(OwnedServerItem::UpdateStart { rects: 0 }));
    /// assert_eq!(codec.decode(&mut buf).unwrap(), Some(OwnedServerItem::UpdateEnd));
    /// assert_eq!(codec.decode(&mut buf).unwrap(), None);
    /// ```
    pub struct ClientSideCodec {
        stream: ServerStream,
        framer: Box<dyn PayloadFramer + Send>,
        state: ClientParseState,
    }

    impl std::fmt::Debug for ClientSideCodec {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("ClientSideCodec")
                .field("stream", &self.stream)
                .field("state", &self.state)
                .finish_non_exhaustive()
        }
    }

    impl ClientSideCodec {
        /// A codec framing with [`BasicFramer`] (Raw, CopyRect and fixed-layout
        /// pseudo-encodings), starting with the ServerInit pixel format.
        pub fn new(pixel_format: PixelFormat, limits: Limits) -> ClientSideCodec {
            Self::with_framer(pixel_format, limits, Box::new(BasicFramer))
        }

        /// A codec with a custom framer (e.g. one that frames compressed encodings).
        pub fn with_framer(
            pixel_format: PixelFormat,
            limits: Limits,
            framer: Box<dyn PayloadFramer + Send>,
        ) -> ClientSideCodec {
            ClientSideCodec {
                stream: ServerStream::new(pixel_format, limits),
                framer,
                state: ClientParseState::default(),
            }
        }

        /// The stream walker (pixel format, limits, whether inside an update).
        pub fn stream(&self) -> &ServerStream {
            &self.stream
        }

        /// Sets the pixel format rectangles are framed with.
        pub fn set_pixel_format(&mut self, pf: PixelFormat) {
            self.stream.set_pixel_format(pf);
        }

        /// Replaces the limits.
        pub fn set_limits(&mut self, limits: Limits) {
            self.stream.set_limits(limits);
        }

        /// The negotiated state used to encode client messages.
        pub fn parse_state(&self) -> &ClientParseState {
            &self.state
        }

        /// Replaces the negotiated state (e.g. after the server confirmed
        /// ExtendedMouseButtons).
        pub fn set_parse_state(&mut self, state: ClientParseState) {
            self.state = state;
        }

        /// Replaces the framer.
        pub fn set_framer(&mut self, framer: Box<dyn PayloadFramer + Send>) {
            self.framer = framer;
        }
    }

    impl Decoder for ClientSideCodec {
        type Item = OwnedServerItem;
        type Error = CodecError;

        fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<OwnedServerItem>, CodecError> {
            let (item, consumed, payload_len) = match self.stream.next(buf, &mut *self.framer)? {
                Progress::NeedMore { at_least } => {
                    reserve_for(buf, at_least);
                    return Ok(None);
                }
                Progress::Done { item, consumed } => match item {
                    ServerItem::Message(m) => (OwnedServerItem::Message(m), consumed, 0),
                    ServerItem::UpdateStart { rects } => {
                        (OwnedServerItem::UpdateStart { rects }, consumed, 0)
                    }
                    ServerItem::UpdateEnd => (OwnedServerItem::UpdateEnd, consumed, 0),
                    ServerItem::Rect { header, payload } => (
                        OwnedServerItem::Rect {
                            header,
                            payload: Default::default(),
                        },
                        consumed,
                        payload.len(),
                    ),
                },
            };
            let chunk = buf.split_to(consumed).freeze();
            Ok(Some(match item {
                OwnedServerItem::Rect { header, .. } => OwnedServerItem::Rect {
                    header,
                    payload: chunk.slice(consumed - payload_len..),
                },
                other => other,
            }))
        }
    }

    impl Encoder<ClientMessage> for ClientSideCodec {
        type Error = CodecError;

        fn encode(&mut self, msg: ClientMessage, dst: &mut BytesMut) -> Result<(), CodecError> {
            msg.encode_for(&self.state, dst);
            Ok(())
        }
    }

    impl Encoder<&ClientMessage> for ClientSideCodec {
        type Error = CodecError;

        fn encode(&mut self, msg: &ClientMessage, dst: &mut BytesMut) -> Result<(), CodecError> {
            msg.encode_for(&self.state, dst);
            Ok(())
        }
    }
}
