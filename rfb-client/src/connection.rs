//! The sans-IO client connection.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use rfb_proto::client::ClientParseState;
use rfb_proto::{
    BasicFramer, ClientInit, ClientMessage, Error as ProtoError, Fence, PayloadFramer,
    PeerMisbehaved, PixelFormat, Progress, ProtocolVersion, RectHeader, SecurityChoice,
    SecurityOffer, SecurityResult, SecurityType, ServerInit, ServerItem, ServerMessage,
    ServerStream, VersionString,
};

use crate::security::{ClientSecurity, SecurityContext, SecurityStep};
use crate::{ClientConfig, ClientError};

/// Something the product must know or act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The server wants a password and the configuration holds none: answer with
    /// [`ClientConnection::provide_password`].
    PasswordRequested {
        /// The security type that needs it.
        security_type: SecurityType,
    },
    /// The handshake is complete: ServerInit arrived.
    Connected {
        /// The protocol version in use.
        version: ProtocolVersion,
        /// The security type used.
        security_type: SecurityType,
        /// Framebuffer size, pixel format and desktop name.
        server_init: ServerInit,
    },
    /// A server message other than a FramebufferUpdate.
    Message(ServerMessage),
    /// A FramebufferUpdate begins; `rects` is the announced count (65535 may mean
    /// "until LastRect").
    UpdateStart {
        /// Announced number of rectangles.
        rects: u16,
    },
    /// One rectangle of the current update, with its complete payload.
    Rect {
        /// Position, size and encoding.
        header: RectHeader,
        /// The encoded payload (decode it with `rfb-codec`).
        payload: Bytes,
    },
    /// The current FramebufferUpdate is complete.
    UpdateEnd,
}

/// One connection to a server, as a sans-IO state machine.
///
/// # Methods, and the order to poll them in
///
/// - getters: [`version`](Self::version), [`security_type`](Self::security_type),
///   [`server_init`](Self::server_init), [`is_handshaking`](Self::is_handshaking),
///   [`error`](Self::error);
/// - inputs: [`handle_input`](Self::handle_input), [`handle_eof`](Self::handle_eof),
///   [`handle_timeout`](Self::handle_timeout);
/// - commands: [`provide_password`](Self::provide_password), [`send`](Self::send),
///   [`set_framer`](Self::set_framer), [`close`](Self::close);
/// - outputs: [`poll_transmit`](Self::poll_transmit), [`poll_event`](Self::poll_event),
///   [`poll_timeout`](Self::poll_timeout).
///
/// After every input or command, drain `poll_transmit`, then `poll_event`, then re-arm
/// the timer from `poll_timeout`. Errors are sticky.
///
/// The client is strict about order: it never accepts a security type it did not
/// allow, and bytes that arrive before the server could have seen our last message
/// (for example a SecurityResult "OK" before our authentication response) are
/// [`PeerMisbehaved::UnexpectedData`].
///
/// ```
/// use std::time::Instant;
/// use rfb_client::{ClientConfig, ClientConnection, ClientEvent};
///
/// let mut conn = ClientConnection::new(ClientConfig::default(), Instant::now());
/// conn.handle_input(b"RFB 003.008\n").unwrap();
/// assert_eq!(&conn.poll_transmit().unwrap()[..], b"RFB 003.008\n");
/// conn.handle_input(&[1, 1]).unwrap();                  // the server offers None
/// assert_eq!(&conn.poll_transmit().unwrap()[..], [1]);  // we choose it
/// conn.handle_input(&[0, 0, 0, 0]).unwrap();            // SecurityResult OK
/// assert_eq!(&conn.poll_transmit().unwrap()[..], [1]);  // ClientInit, shared
/// let mut init = vec![0, 4, 0, 3, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];
/// init.extend_from_slice(&[0, 0, 0, 1, b'x']);
/// conn.handle_input(&init).unwrap();
/// let Some(ClientEvent::Connected { server_init, .. }) = conn.poll_event() else { panic!() };
/// assert_eq!((server_init.width, server_init.height, server_init.name.as_str()), (4, 3, "x"));
/// ```
pub struct ClientConnection {
    state: Result<State, ClientError>,
    config: ClientConfig,
    inbuf: BytesMut,
    out: BytesMut,
    events: VecDeque<ClientEvent>,
    deadline: Option<Instant>,
    version: Option<ProtocolVersion>,
    security_type: Option<SecurityType>,
    server_init: Option<ServerInit>,
    password: Option<String>,
    password_asked: bool,
    framer: Box<dyn PayloadFramer + Send>,
    extensions: ClientParseState,
    fence_serial: u32,
}

impl std::fmt::Debug for ClientConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConnection")
            .field("state", &self.state.as_ref().map(State::name))
            .field("version", &self.version)
            .field("security_type", &self.security_type)
            .finish_non_exhaustive()
    }
}

enum State {
    AwaitVersion(AwaitVersion),
    AwaitOffer(AwaitOffer),
    Securing(Securing),
    AwaitResult(AwaitResult),
    AwaitServerInit(AwaitServerInit),
    Normal(Normal),
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::AwaitVersion(_) => "awaiting the server's version",
            State::AwaitOffer(_) => "awaiting the security types",
            State::Securing(_) => "running the security handshake",
            State::AwaitResult(_) => "awaiting the SecurityResult",
            State::AwaitServerInit(_) => "awaiting ServerInit",
            State::Normal(_) => "in the normal phase",
        }
    }
}

struct AwaitVersion;
struct AwaitOffer {
    version: ProtocolVersion,
}
struct Securing {
    version: ProtocolVersion,
    security_type: SecurityType,
    handler: Box<dyn ClientSecurity>,
}
struct AwaitResult {
    version: ProtocolVersion,
    security_type: SecurityType,
}
struct AwaitServerInit {
    version: ProtocolVersion,
    security_type: SecurityType,
}
struct Normal {
    stream: ServerStream,
    /// Pixel formats sent after a SyncNext fence, switched to when the server's response
    /// to that fence is parsed (so everything after it is framed in the new format).
    fenced_formats: VecDeque<(Bytes, PixelFormat)>,
}

/// Payload prefix of the fences [`ClientConnection::set_pixel_format_fenced`] sends.
const FENCE_PF_TAG: &[u8] = b"rfb-client pf";

struct Cx<'a> {
    config: &'a ClientConfig,
    inbuf: &'a mut BytesMut,
    out: &'a mut BytesMut,
    events: &'a mut VecDeque<ClientEvent>,
    password: Option<&'a str>,
    password_asked: &'a mut bool,
    framer: &'a mut (dyn PayloadFramer + Send),
}

enum Step {
    Next(State),
    Wait(State),
}

/// Fails if the server sent anything before it could have seen what we just sent.
fn nothing_pending(cx: &Cx<'_>, what: &'static str) -> Result<(), ClientError> {
    if cx.inbuf.is_empty() {
        Ok(())
    } else {
        Err(ProtoError::from(PeerMisbehaved::UnexpectedData(what)).into())
    }
}

impl AwaitVersion {
    fn advance(self, cx: &mut Cx<'_>) -> Result<Step, ClientError> {
        let (server, n) = match VersionString::decode(cx.inbuf)? {
            Progress::Done { item, consumed } => (item, consumed),
            Progress::NeedMore { .. } => return Ok(Step::Wait(State::AwaitVersion(self))),
        };
        cx.inbuf.advance(n);
        let version = server.nearest()?.min(cx.config.max_version);
        version.encode(cx.out);
        nothing_pending(cx, "the server waits for the client's version")?;
        Ok(Step::Next(State::AwaitOffer(AwaitOffer { version })))
    }
}

impl AwaitOffer {
    fn advance(self, cx: &mut Cx<'_>) -> Result<Step, ClientError> {
        let version = self.version;
        let (offer, n) = match SecurityOffer::decode(cx.inbuf, version, &cx.config.limits)? {
            Progress::Done { item, consumed } => (item, consumed),
            Progress::NeedMore { .. } => return Ok(Step::Wait(State::AwaitOffer(self))),
        };
        cx.inbuf.advance(n);
        let find = |t: SecurityType| cx.config.security.iter().find(|p| p.security_type() == t);
        let (security_type, provider) = match offer {
            SecurityOffer::Failed(reason) => return Err(ClientError::Refused(reason)),
            SecurityOffer::Chosen(t) => match find(t) {
                Some(p) => (t, p),
                None => {
                    return Err(ProtoError::from(PeerMisbehaved::SecurityTypeNotAllowed(
                        u32::from(t.0),
                    ))
                    .into())
                }
            },
            SecurityOffer::Types(types) => {
                // The server's order of preference decides among what we allow.
                match types.iter().find_map(|&t| find(t).map(|p| (t, p))) {
                    Some(found) => {
                        SecurityChoice::encode(found.0, cx.out);
                        nothing_pending(cx, "the server waits for the security type choice")?;
                        found
                    }
                    None => {
                        let offered = types.iter().map(|t| t.0).collect();
                        return Err(ProtoError::from(PeerMisbehaved::NoAcceptableSecurityType(
                            offered,
                        ))
                        .into());
                    }
                }
            }
        };
        let mut handler = provider.new_handler();
        let step = handler.start(&mut SecurityContext {
            out: cx.out,
            version,
            limits: &cx.config.limits,
            password: cx.password,
        })?;
        Securing {
            version,
            security_type,
            handler,
        }
        .after(step, cx)
    }
}

impl Securing {
    fn advance(mut self, cx: &mut Cx<'_>) -> Result<Step, ClientError> {
        let input = cx.inbuf.split().freeze();
        let result = self.handler.handle_input(
            &input,
            &mut SecurityContext {
                out: cx.out,
                version: self.version,
                limits: &cx.config.limits,
                password: cx.password,
            },
        );
        let (n, step) = match result {
            Ok(r) => r,
            Err(e) => {
                cx.inbuf.extend_from_slice(&input);
                return Err(e);
            }
        };
        cx.inbuf.extend_from_slice(&input[n.min(input.len())..]);
        if n == 0 && step == SecurityStep::NeedInput {
            return Ok(Step::Wait(State::Securing(self)));
        }
        self.after(step, cx)
    }

    fn after(self, step: SecurityStep, cx: &mut Cx<'_>) -> Result<Step, ClientError> {
        match step {
            SecurityStep::NeedInput => Ok(Step::Next(State::Securing(self))),
            SecurityStep::NeedPassword => {
                if !*cx.password_asked {
                    *cx.password_asked = true;
                    cx.events.push_back(ClientEvent::PasswordRequested {
                        security_type: self.security_type,
                    });
                }
                Ok(Step::Wait(State::Securing(self)))
            }
            SecurityStep::Done => {
                nothing_pending(cx, "the server waits for the authentication response")?;
                if self.handler.expects_security_result(self.version) {
                    Ok(Step::Next(State::AwaitResult(AwaitResult {
                        version: self.version,
                        security_type: self.security_type,
                    })))
                } else {
                    AwaitServerInit::enter(self.version, self.security_type, cx)
                }
            }
        }
    }
}

impl AwaitResult {
    fn advance(self, cx: &mut Cx<'_>) -> Result<Step, ClientError> {
        let (result, n) = match SecurityResult::decode(cx.inbuf, self.version, &cx.config.limits)? {
            Progress::Done { item, consumed } => (item, consumed),
            Progress::NeedMore { .. } => return Ok(Step::Wait(State::AwaitResult(self))),
        };
        cx.inbuf.advance(n);
        match result {
            SecurityResult::Ok => AwaitServerInit::enter(self.version, self.security_type, cx),
            SecurityResult::Failed(reason) => Err(ClientError::AuthFailed {
                security_type: self.security_type,
                reason: reason.unwrap_or_default(),
                too_many_attempts: false,
            }),
            SecurityResult::TooManyAttempts(reason) => Err(ClientError::AuthFailed {
                security_type: self.security_type,
                reason: reason.unwrap_or_default(),
                too_many_attempts: true,
            }),
        }
    }
}

impl AwaitServerInit {
    fn enter(
        version: ProtocolVersion,
        security_type: SecurityType,
        cx: &mut Cx<'_>,
    ) -> Result<Step, ClientError> {
        ClientInit {
            shared: cx.config.shared,
        }
        .encode(cx.out);
        nothing_pending(cx, "the server waits for ClientInit")?;
        Ok(Step::Next(State::AwaitServerInit(AwaitServerInit {
            version,
            security_type,
        })))
    }

    fn advance(self, cx: &mut Cx<'_>) -> Result<Step, ClientError> {
        let (init, n) = match ServerInit::decode(cx.inbuf, &cx.config.limits)? {
            Progress::Done { item, consumed } => (item, consumed),
            Progress::NeedMore { .. } => return Ok(Step::Wait(State::AwaitServerInit(self))),
        };
        cx.inbuf.advance(n);
        let stream = ServerStream::new(init.pixel_format, cx.config.limits.clone());
        let fenced_formats = VecDeque::new();
        cx.events.push_back(ClientEvent::Connected {
            version: self.version,
            security_type: self.security_type,
            server_init: init,
        });
        Ok(Step::Next(State::Normal(Normal {
            stream,
            fenced_formats,
        })))
    }
}

/// A rectangle whose payload still lies in the input buffer, at `offset..offset + len`
/// of the bytes the item consumed.
struct PendingRect {
    header: RectHeader,
    offset: usize,
    len: usize,
}

/// One parsed item: an event ready to go, or a rectangle still in the input buffer.
enum Parsed {
    Event(ClientEvent),
    Rect(PendingRect),
}

impl Normal {
    fn advance(mut self, cx: &mut Cx<'_>) -> Result<Step, ClientError> {
        let base = cx.inbuf.as_ptr() as usize;
        let (event, n) = match self.stream.next(cx.inbuf, cx.framer)? {
            Progress::Done { item, consumed } => {
                let ev = match item {
                    ServerItem::Message(ServerMessage::Fence(f)) => {
                        if !f.is_request()
                            && self
                                .fenced_formats
                                .front()
                                .is_some_and(|(p, _)| *p == f.payload)
                        {
                            if let Some((_, pf)) = self.fenced_formats.pop_front() {
                                self.stream.set_pixel_format(pf);
                            }
                        }
                        Parsed::Event(ClientEvent::Message(ServerMessage::Fence(f)))
                    }
                    ServerItem::Message(m) => Parsed::Event(ClientEvent::Message(m)),
                    ServerItem::UpdateStart { rects } => {
                        Parsed::Event(ClientEvent::UpdateStart { rects })
                    }
                    // The payload is a sub-slice of the input buffer: remember where, so
                    // it can be handed out without copying it.
                    ServerItem::Rect { header, payload } => Parsed::Rect(PendingRect {
                        header,
                        offset: payload.as_ptr() as usize - base,
                        len: payload.len(),
                    }),
                    ServerItem::UpdateEnd => Parsed::Event(ClientEvent::UpdateEnd),
                };
                (ev, consumed)
            }
            Progress::NeedMore { at_least } => {
                cx.inbuf.reserve(at_least.saturating_sub(cx.inbuf.len()));
                return Ok(Step::Wait(State::Normal(self)));
            }
        };
        let event = match event {
            Parsed::Event(ev) => {
                cx.inbuf.advance(n);
                ev
            }
            Parsed::Rect(PendingRect {
                header,
                offset,
                len,
            }) => {
                let item = cx.inbuf.split_to(n).freeze();
                ClientEvent::Rect {
                    header,
                    payload: item.slice(offset..offset + len),
                }
            }
        };
        cx.events.push_back(event);
        Ok(Step::Next(State::Normal(self)))
    }
}

impl ClientConnection {
    /// A new connection opened at `now`. Nothing is sent until the server's version
    /// arrives.
    pub fn new(config: ClientConfig, now: Instant) -> ClientConnection {
        let deadline = now.checked_add(config.handshake_timeout);
        let password = config.password.clone();
        ClientConnection {
            state: Ok(State::AwaitVersion(AwaitVersion)),
            config,
            inbuf: BytesMut::new(),
            out: BytesMut::new(),
            events: VecDeque::new(),
            deadline,
            version: None,
            security_type: None,
            server_init: None,
            password,
            password_asked: false,
            framer: Box::new(BasicFramer),
            extensions: ClientParseState::default(),
            fence_serial: 0,
        }
    }

    /// The protocol version in use, once known.
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// The security type in use, once agreed.
    pub fn security_type(&self) -> Option<SecurityType> {
        self.security_type
    }

    /// ServerInit, once received.
    pub fn server_init(&self) -> Option<&ServerInit> {
        self.server_init.as_ref()
    }

    /// True until ServerInit has arrived.
    pub fn is_handshaking(&self) -> bool {
        !matches!(self.state, Ok(State::Normal(_)))
    }

    /// The sticky error, if the connection has failed.
    pub fn error(&self) -> Option<&ClientError> {
        self.state.as_ref().err()
    }

    /// Replaces the rectangle payload framer (rfb-codec provides one that knows every
    /// encoding; the default, [`BasicFramer`], knows Raw, CopyRect and the fixed-layout
    /// pseudo-encodings).
    pub fn set_framer(&mut self, framer: Box<dyn PayloadFramer + Send>) {
        self.framer = framer;
    }

    /// Bytes received from the server.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), ClientError> {
        self.check()?;
        self.inbuf.extend_from_slice(data);
        self.run()
    }

    /// The server closed the connection.
    pub fn handle_eof(&mut self) -> Result<(), ClientError> {
        let state = self.check()?;
        let err = ClientError::ClosedByPeer(state.name());
        self.state = Err(err.clone());
        Err(err)
    }

    /// The timer from [`poll_timeout`](Self::poll_timeout) fired.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ClientError> {
        self.check()?;
        if self.is_handshaking() && self.deadline.is_some_and(|d| now >= d) {
            self.state = Err(ClientError::HandshakeTimeout);
            return Err(ClientError::HandshakeTimeout);
        }
        Ok(())
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            Ok(State::Normal(_)) | Err(_) => None,
            Ok(_) => self.deadline,
        }
    }

    /// Bytes to send to the server, if any.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.out.is_empty()).then(|| self.out.split().freeze())
    }

    /// The next event for the product.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Answers [`ClientEvent::PasswordRequested`]; `None` gives up
    /// ([`ClientError::NoPassword`]).
    pub fn provide_password(&mut self, password: Option<String>) -> Result<(), ClientError> {
        self.check()?;
        match password {
            Some(p) => {
                self.password = Some(p);
                self.run()
            }
            None => {
                self.state = Err(ClientError::NoPassword);
                Err(ClientError::NoPassword)
            }
        }
    }

    /// Queues a normal-phase message for the server, encoded for the negotiated
    /// [`extensions`](Self::extensions). A SetPixelFormat also switches the format the
    /// incoming stream is parsed with at once: send it only with no update outstanding,
    /// or use [`set_pixel_format_fenced`](Self::set_pixel_format_fenced).
    pub fn send(&mut self, message: &ClientMessage) -> Result<(), ClientError> {
        match &mut self.state {
            Ok(State::Normal(n)) => {
                if let ClientMessage::SetPixelFormat(pf) = message {
                    n.stream.set_pixel_format(*pf);
                }
                message.encode_for(&self.extensions, &mut self.out);
                Ok(())
            }
            Ok(_) => Err(ClientError::ApiMisuse(
                "messages can only be sent in the normal phase",
            )),
            Err(e) => Err(e.clone()),
        }
    }

    /// Records extensions the server has confirmed that change how messages are encoded
    /// (ExtendedMouseButtons: pointer events then carry the extra buttons).
    pub fn set_extensions(&mut self, extensions: ClientParseState) {
        self.extensions = extensions;
    }

    /// The negotiated extensions [`send`](Self::send) encodes with.
    pub fn extensions(&self) -> &ClientParseState {
        &self.extensions
    }

    /// Switches the pixel format while updates may be in flight, for servers that
    /// support fences: sends a fence request with `SyncNext` and `BlockBefore`, then
    /// SetPixelFormat. The server applies the SetPixelFormat together with its fence
    /// response, so this connection keeps framing rectangles in the old format until it
    /// parses that response, and in the new one after it. Returns the fence payload the
    /// response will carry (the product switches its framebuffer when it sees a
    /// [`ServerMessage::Fence`] response with it).
    pub fn set_pixel_format_fenced(&mut self, format: PixelFormat) -> Result<Bytes, ClientError> {
        let serial = self.fence_serial;
        match &mut self.state {
            Ok(State::Normal(n)) => {
                let mut payload = BytesMut::from(FENCE_PF_TAG);
                payload.extend_from_slice(&serial.to_be_bytes());
                let payload = payload.freeze();
                let fence = Fence::new(
                    Fence::REQUEST | Fence::BLOCK_BEFORE | Fence::SYNC_NEXT,
                    payload.clone(),
                )?;
                fence.encode(&mut self.out);
                ClientMessage::SetPixelFormat(format).encode(&mut self.out);
                n.fenced_formats.push_back((payload.clone(), format));
                self.fence_serial = serial.wrapping_add(1);
                Ok(payload)
            }
            Ok(_) => Err(ClientError::ApiMisuse(
                "messages can only be sent in the normal phase",
            )),
            Err(e) => Err(e.clone()),
        }
    }

    /// Closes the connection from the client side.
    pub fn close(&mut self, reason: impl Into<String>) {
        if self.state.is_ok() {
            self.state = Err(ClientError::ClosedByClient(reason.into()));
        }
    }

    fn check(&self) -> Result<&State, ClientError> {
        self.state.as_ref().map_err(Clone::clone)
    }

    fn run(&mut self) -> Result<(), ClientError> {
        loop {
            let state =
                match std::mem::replace(&mut self.state, Err(ClientError::ApiMisuse("poisoned"))) {
                    Ok(s) => s,
                    Err(e) => {
                        self.state = Err(e.clone());
                        return Err(e);
                    }
                };
            let mut cx = Cx {
                config: &self.config,
                inbuf: &mut self.inbuf,
                out: &mut self.out,
                events: &mut self.events,
                password: self.password.as_deref(),
                password_asked: &mut self.password_asked,
                framer: &mut *self.framer,
            };
            let result = match state {
                State::AwaitVersion(s) => s.advance(&mut cx),
                State::AwaitOffer(s) => s.advance(&mut cx),
                State::Securing(s) => s.advance(&mut cx),
                State::AwaitResult(s) => s.advance(&mut cx),
                State::AwaitServerInit(s) => s.advance(&mut cx),
                State::Normal(s) => s.advance(&mut cx),
            };
            let (next, wait) = match result {
                Ok(Step::Next(s)) => (s, false),
                Ok(Step::Wait(s)) => (s, true),
                Err(e) => {
                    self.state = Err(e.clone());
                    return Err(e);
                }
            };
            self.note(&next);
            self.state = Ok(next);
            if wait {
                return Ok(());
            }
        }
    }

    fn note(&mut self, state: &State) {
        match state {
            State::AwaitVersion(_) => {}
            State::AwaitOffer(s) => self.version = Some(s.version),
            State::Securing(s) => {
                self.version = Some(s.version);
                self.security_type = Some(s.security_type);
            }
            State::AwaitResult(s) => {
                self.version = Some(s.version);
                self.security_type = Some(s.security_type);
            }
            State::AwaitServerInit(s) => {
                self.version = Some(s.version);
                self.security_type = Some(s.security_type);
            }
            State::Normal(_) => {
                if self.server_init.is_none() {
                    self.server_init = self.events.iter().rev().find_map(|e| match e {
                        ClientEvent::Connected { server_init, .. } => Some(server_init.clone()),
                        _ => None,
                    });
                }
            }
        }
    }
}
