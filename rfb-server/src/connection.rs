//! The sans-IO server connection.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use rfb_proto::{
    ClientInit, ClientMessage, ClientParseState, Error as ProtoError, PeerMisbehaved, Progress,
    ProtocolVersion, SecurityChoice, SecurityOffer, SecurityResult, SecurityType, ServerInit,
    ServerMessage, VersionString,
};

use crate::normal::Normal;
use crate::security::{SecurityContext, SecurityStep, ServerSecurity};
use crate::{AuthDecision, Credentials, OsRandom, RandomSource, ServerConfig, ServerError};

/// Something the product must know or act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// The client finished the security handshake and presented these credentials.
    /// Answer with [`ServerConnection::decide_auth`]; nothing proceeds until then.
    AuthRequested {
        /// The security type the client used.
        security_type: SecurityType,
        /// What it presented.
        credentials: Credentials,
    },
    /// The product accepted the client (audit trail).
    Authenticated {
        /// The security type used.
        security_type: SecurityType,
    },
    /// The client sent ClientInit and was sent ServerInit: the normal phase begins.
    Initialised {
        /// The negotiated protocol version.
        version: ProtocolVersion,
        /// The security type used.
        security_type: SecurityType,
        /// The client's shared flag (false: it asks for exclusive access).
        shared: bool,
    },
    /// A normal-phase message from the client, delivered for the product to act on
    /// (key, pointer, QEMU key and xvp events) or to know about (SetPixelFormat,
    /// SetEncodings, FramebufferUpdateRequest and EnableContinuousUpdates, which the
    /// connection has already handled; fences are handled entirely inside).
    ///
    /// Input (key, pointer, QEMU key) from a view-only viewer is dropped and never
    /// reported; its xvp requests, and all xvp requests without
    /// [`ServerConfig::xvp`](crate::ServerConfig::xvp), are answered XVP_FAIL by the
    /// connection. Cut text and SetDesktopSize come as [`ServerEvent::ClipboardText`]
    /// and [`ServerEvent::DesktopSizeRequested`] instead.
    Message(ClientMessage),
    /// The viewer put text on its clipboard (classic cut text, or Extended Clipboard
    /// text, already inflated and with LF line ends). Never sent for a view-only viewer.
    ClipboardText(String),
    /// The viewer asks for a new desktop size or screen layout. Answer with
    /// [`ServerConnection::answer_desktop_size`]; to accept, also hand the session a
    /// frame of the new size. A view-only viewer's request is refused without an event.
    DesktopSizeRequested(rfb_proto::client::SetDesktopSize),
}

/// One client connection on the server side, as a sans-IO state machine.
///
/// It takes bytes and time as arguments and hands back bytes to send, deadlines and
/// events; it never touches a socket, a clock or a thread.
///
/// # Methods, and the order to poll them in
///
/// - getters: [`version`](Self::version), [`security_type`](Self::security_type),
///   [`is_handshaking`](Self::is_handshaking), [`error`](Self::error);
/// - inputs: [`handle_input`](Self::handle_input), [`handle_eof`](Self::handle_eof),
///   [`handle_timeout`](Self::handle_timeout);
/// - commands from the product: [`decide_auth`](Self::decide_auth),
///   [`set_desktop`](Self::set_desktop), [`send`](Self::send),
///   [`send_raw`](Self::send_raw), [`close`](Self::close); in the normal phase
///   [`add_pending`](Self::add_pending) / [`add_damage`](Self::add_damage),
///   [`write_update`](Self::write_update), [`set_view_only`](Self::set_view_only),
///   [`bell`](Self::bell), [`send_clipboard`](Self::send_clipboard),
///   [`set_desktop_name`](Self::set_desktop_name), [`set_cursor`](Self::set_cursor),
///   [`set_screens`](Self::set_screens), [`answer_desktop_size`](Self::answer_desktop_size);
/// - outputs: [`poll_transmit`](Self::poll_transmit), [`poll_event`](Self::poll_event),
///   [`poll_timeout`](Self::poll_timeout), and the flow-control questions
///   [`wants_input`](Self::wants_input) and [`wants_update`](Self::wants_update).
///
/// After every input or command, drain `poll_transmit` (write everything it returns),
/// then `poll_event` until `None`, then (normal phase) hand over new damage and call
/// `write_update` with the current frame, then re-arm the timer from `poll_timeout`.
/// Read from the transport only while `wants_input` is true.
///
/// A fatal error is sticky: the failing call and every later call return the same
/// [`ServerError`], but `poll_transmit` still yields what was queued before the failure
/// — typically the 3.8 SecurityResult reason — so a driver flushes it and then closes.
///
/// ```
/// use std::time::Instant;
/// use rfb_proto::{PixelFormat, ServerInit};
/// use rfb_server::{AuthDecision, ServerConfig, ServerConnection, ServerEvent};
///
/// let desktop = ServerInit { width: 640, height: 480, pixel_format: PixelFormat::RGB888, name: "demo".into() };
/// let mut conn = ServerConnection::new(ServerConfig::no_auth().into(), desktop, Instant::now());
/// assert_eq!(&conn.poll_transmit().unwrap()[..], b"RFB 003.008\n");
/// conn.handle_input(b"RFB 003.008\n").unwrap();
/// assert_eq!(&conn.poll_transmit().unwrap()[..], [1, 1]); // one type: None
/// conn.handle_input(&[1]).unwrap();                         // the client picks None
/// assert!(matches!(conn.poll_event(), Some(ServerEvent::AuthRequested { .. })));
/// conn.decide_auth(AuthDecision::Accept).unwrap();
/// assert_eq!(&conn.poll_transmit().unwrap()[..], [0, 0, 0, 0]); // SecurityResult OK
/// conn.handle_input(&[1]).unwrap();                         // ClientInit, shared
/// let server_init = conn.poll_transmit().unwrap();
/// assert_eq!(&server_init[..4], [2, 128, 1, 224]);          // 640 x 480
/// ```
pub struct ServerConnection {
    pub(crate) state: Result<State, ServerError>,
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) desktop: ServerInit,
    random: Box<dyn RandomSource>,
    pub(crate) inbuf: BytesMut,
    pub(crate) out: BytesMut,
    pub(crate) events: VecDeque<ServerEvent>,
    deadline: Option<Instant>,
    version: Option<ProtocolVersion>,
    security_type: Option<SecurityType>,
    parse_state: ClientParseState,
    pub(crate) view_only: bool,
    /// Bytes handed out by `poll_transmit` so far (the stream position of `out`'s start).
    pub(crate) taken: u64,
    /// When the buffered input arrived (for input parsed later, after back-pressure).
    input_at: Option<Instant>,
}

impl std::fmt::Debug for ServerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConnection")
            .field("state", &self.state.as_ref().map(State::name))
            .field("version", &self.version)
            .field("security_type", &self.security_type)
            .finish_non_exhaustive()
    }
}

/// The handshake, as types: each state consumes itself to produce the next.
pub(crate) enum State {
    AwaitVersion(AwaitVersion),
    AwaitChoice(AwaitChoice),
    Securing(Securing),
    AwaitDecision(AwaitDecision),
    AwaitClientInit(AwaitClientInit),
    Normal(Normal),
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::AwaitVersion(_) => "awaiting the client's version",
            State::AwaitChoice(_) => "awaiting the security type choice",
            State::Securing(_) => "running the security handshake",
            State::AwaitDecision(_) => "awaiting the authentication decision",
            State::AwaitClientInit(_) => "awaiting ClientInit",
            State::Normal(_) => "in the normal phase",
        }
    }
}

pub(crate) struct AwaitVersion;
pub(crate) struct AwaitChoice {
    version: ProtocolVersion,
}
pub(crate) struct Securing {
    version: ProtocolVersion,
    security_type: SecurityType,
    handler: Box<dyn ServerSecurity>,
}
pub(crate) struct AwaitDecision {
    version: ProtocolVersion,
    security_type: SecurityType,
}
pub(crate) struct AwaitClientInit {
    version: ProtocolVersion,
    security_type: SecurityType,
}

/// Borrowed parts of the connection a state works with.
pub(crate) struct Cx<'a> {
    pub(crate) config: &'a ServerConfig,
    pub(crate) desktop: &'a ServerInit,
    random: &'a mut dyn RandomSource,
    pub(crate) inbuf: &'a mut BytesMut,
    pub(crate) out: &'a mut BytesMut,
    pub(crate) events: &'a mut VecDeque<ServerEvent>,
    pub(crate) parse_state: &'a mut ClientParseState,
    pub(crate) view_only: bool,
    /// When the input being handled arrived, if the caller said.
    pub(crate) now: Option<Instant>,
}

impl Cx<'_> {
    fn security(&mut self, version: ProtocolVersion) -> SecurityContext<'_> {
        SecurityContext {
            out: self.out,
            random: self.random,
            version,
            limits: &self.config.limits,
        }
    }
}

/// What a state did with the input.
pub(crate) enum Step {
    /// Moved on (possibly to the same kind of state); try again with the rest.
    Next(State),
    /// Needs more input (or a product decision) before it can move.
    Wait(State),
}

impl AwaitVersion {
    fn advance(self, cx: &mut Cx<'_>) -> Result<Step, ServerError> {
        let (client, n) = match VersionString::decode(cx.inbuf)? {
            Progress::Done { item, consumed } => (item, consumed),
            Progress::NeedMore { .. } => return Ok(Step::Wait(State::AwaitVersion(self))),
        };
        cx.inbuf.advance(n);
        // The client should not ask for more than we offered; real clients that do (or
        // that send a private version) get the nearest flow we speak, capped at ours.
        let version = client.nearest()?.min(cx.config.version);
        let offered: Vec<SecurityType> = cx.config.security_types();
        if version == ProtocolVersion::V3_3 {
            // 3.3: the server chooses, and can only express None or VNC Authentication.
            let Some(provider) = cx.config.security.iter().find(|p| {
                matches!(
                    p.security_type(),
                    SecurityType::NONE | SecurityType::VNC_AUTH
                )
            }) else {
                let reason = "this server requires a security type that RFB 3.3 cannot negotiate";
                SecurityOffer::Failed(reason.into()).encode(version, cx.out);
                return Err(ServerError::NoSecurityType(reason.into()));
            };
            let security_type = provider.security_type();
            SecurityOffer::Chosen(security_type).encode(version, cx.out);
            let handler = provider.new_handler();
            return Securing::start(version, security_type, handler, cx);
        }
        if offered.is_empty() || offered.len() > 255 {
            let reason = "no security types configured";
            SecurityOffer::Failed(reason.into()).encode(version, cx.out);
            return Err(ServerError::NoSecurityType(reason.into()));
        }
        SecurityOffer::Types(offered).encode(version, cx.out);
        Ok(Step::Next(State::AwaitChoice(AwaitChoice { version })))
    }
}

impl AwaitChoice {
    fn advance(self, cx: &mut Cx<'_>) -> Result<Step, ServerError> {
        let (chosen, n) = match SecurityChoice::decode(cx.inbuf)? {
            Progress::Done { item, consumed } => (item, consumed),
            Progress::NeedMore { .. } => return Ok(Step::Wait(State::AwaitChoice(self))),
        };
        cx.inbuf.advance(n);
        let Some(provider) = cx
            .config
            .security
            .iter()
            .find(|p| p.security_type() == chosen)
        else {
            // Refuse cleanly: a 3.8 client learns why.
            let reason = format!("security type {chosen} was not offered");
            SecurityResult::Failed(Some(reason)).encode(self.version, cx.out);
            return Err(ProtoError::from(PeerMisbehaved::SecurityTypeNotOffered(chosen.0)).into());
        };
        let handler = provider.new_handler();
        Securing::start(self.version, chosen, handler, cx)
    }
}

impl Securing {
    fn start(
        version: ProtocolVersion,
        security_type: SecurityType,
        mut handler: Box<dyn ServerSecurity>,
        cx: &mut Cx<'_>,
    ) -> Result<Step, ServerError> {
        match handler.start(&mut cx.security(version))? {
            SecurityStep::Done(credentials) => Ok(Step::Next(AwaitDecision::enter(
                version,
                security_type,
                credentials,
                cx,
            ))),
            SecurityStep::NeedInput => Ok(Step::Next(State::Securing(Securing {
                version,
                security_type,
                handler,
            }))),
        }
    }

    fn advance(mut self, cx: &mut Cx<'_>) -> Result<Step, ServerError> {
        let input = cx.inbuf.split().freeze();
        let (n, step) = self
            .handler
            .handle_input(&input, &mut cx.security(self.version))?;
        let n = n.min(input.len());
        // Put back what the handler did not use.
        cx.inbuf.extend_from_slice(&input[n..]);
        match step {
            SecurityStep::Done(credentials) => Ok(Step::Next(AwaitDecision::enter(
                self.version,
                self.security_type,
                credentials,
                cx,
            ))),
            SecurityStep::NeedInput if n > 0 => Ok(Step::Next(State::Securing(self))),
            SecurityStep::NeedInput => Ok(Step::Wait(State::Securing(self))),
        }
    }
}

impl AwaitDecision {
    fn enter(
        version: ProtocolVersion,
        security_type: SecurityType,
        credentials: Credentials,
        cx: &mut Cx<'_>,
    ) -> State {
        cx.events.push_back(ServerEvent::AuthRequested {
            security_type,
            credentials,
        });
        State::AwaitDecision(AwaitDecision {
            version,
            security_type,
        })
    }

    fn advance(self, cx: &mut Cx<'_>) -> Result<Step, ServerError> {
        // Only a few bytes may be pipelined (a 3.3/3.7 None client sends ClientInit at
        // once); more is a client trying to make us buffer.
        if cx.inbuf.len() > cx.config.max_pending_handshake_input {
            return Err(ProtoError::from(PeerMisbehaved::UnexpectedData(
                "the server decides about authentication",
            ))
            .into());
        }
        Ok(Step::Wait(State::AwaitDecision(self)))
    }

    fn decide(self, decision: AuthDecision, cx: &mut Cx<'_>) -> Result<State, ServerError> {
        // 3.3 and 3.7 send no SecurityResult for security type None.
        let sends_result =
            self.version == ProtocolVersion::V3_8 || self.security_type != SecurityType::NONE;
        match decision {
            AuthDecision::Accept => {
                if sends_result {
                    SecurityResult::Ok.encode(self.version, cx.out);
                }
                cx.events.push_back(ServerEvent::Authenticated {
                    security_type: self.security_type,
                });
                Ok(State::AwaitClientInit(AwaitClientInit {
                    version: self.version,
                    security_type: self.security_type,
                }))
            }
            AuthDecision::Reject { reason } => {
                if sends_result {
                    SecurityResult::Failed(Some(reason.clone())).encode(self.version, cx.out);
                }
                Err(ServerError::AuthRefused {
                    security_type: self.security_type,
                    reason,
                })
            }
        }
    }
}

impl AwaitClientInit {
    fn advance(self, cx: &mut Cx<'_>) -> Result<Step, ServerError> {
        let (init, n) = match ClientInit::decode(cx.inbuf)? {
            Progress::Done { item, consumed } => (item, consumed),
            Progress::NeedMore { .. } => return Ok(Step::Wait(State::AwaitClientInit(self))),
        };
        cx.inbuf.advance(n);
        cx.desktop.encode(cx.out);
        cx.events.push_back(ServerEvent::Initialised {
            version: self.version,
            security_type: self.security_type,
            shared: init.shared,
        });
        Ok(Step::Next(State::Normal(Normal::new(
            cx.desktop,
            init.shared,
        ))))
    }
}

impl ServerConnection {
    /// A new connection accepted at `now`, using the operating system's random source.
    /// The server's ProtocolVersion is queued at once (see [`poll_transmit`](Self::poll_transmit)).
    pub fn new(config: Arc<ServerConfig>, desktop: ServerInit, now: Instant) -> ServerConnection {
        ServerConnection::with_random(config, desktop, now, Box::new(OsRandom))
    }

    /// As [`new`](Self::new), with injected randomness (for deterministic tests).
    pub fn with_random(
        config: Arc<ServerConfig>,
        desktop: ServerInit,
        now: Instant,
        random: Box<dyn RandomSource>,
    ) -> ServerConnection {
        let mut out = BytesMut::with_capacity(64);
        config.version.encode(&mut out);
        let deadline = now.checked_add(config.handshake_timeout);
        ServerConnection {
            state: Ok(State::AwaitVersion(AwaitVersion)),
            config,
            desktop,
            random,
            inbuf: BytesMut::new(),
            out,
            events: VecDeque::new(),
            deadline,
            version: None,
            security_type: None,
            parse_state: ClientParseState::default(),
            view_only: false,
            taken: 0,
            input_at: None,
        }
    }

    /// The negotiated protocol version, once known.
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// The security type in use, once chosen.
    pub fn security_type(&self) -> Option<SecurityType> {
        self.security_type
    }

    /// True until ServerInit has been sent.
    pub fn is_handshaking(&self) -> bool {
        !matches!(self.state, Ok(State::Normal(_)))
    }

    /// The sticky error, if the connection has failed.
    pub fn error(&self) -> Option<&ServerError> {
        self.state.as_ref().err()
    }

    /// The desktop described in ServerInit.
    pub fn desktop(&self) -> &ServerInit {
        &self.desktop
    }

    /// Changes what ServerInit will announce (size, pixel format, name). Has no effect
    /// on a client that is already initialised.
    pub fn set_desktop(&mut self, desktop: ServerInit) {
        self.desktop = desktop;
    }

    /// Parser state for normal-phase client messages (negotiated extensions that change
    /// the wire format, e.g. extended pointer events).
    pub fn parse_state_mut(&mut self) -> &mut ClientParseState {
        &mut self.parse_state
    }

    /// Bytes received from the client.
    ///
    /// Fence answers that arrive this way acknowledge bytes but give no round-trip
    /// time; drivers use [`handle_input_at`](Self::handle_input_at).
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), ServerError> {
        self.check()?;
        self.inbuf.extend_from_slice(data);
        self.input_at = None;
        self.run(None)
    }

    /// Bytes received from the client at `now` (the time measures the round trip of
    /// fence-based flow control).
    pub fn handle_input_at(&mut self, data: &[u8], now: Instant) -> Result<(), ServerError> {
        self.check()?;
        self.inbuf.extend_from_slice(data);
        self.input_at = Some(now);
        self.run(Some(now))
    }

    /// The client closed its sending side.
    ///
    /// In the normal phase this ends the connection without error (`Ok`); during the
    /// handshake it is [`ServerError::ClosedByPeer`].
    pub fn handle_eof(&mut self) -> Result<(), ServerError> {
        let state = self.check()?;
        let err = match state {
            State::Normal(_) if self.inbuf.is_empty() => {
                ServerError::ClosedByPeer("in the normal phase")
            }
            State::Normal(_) => ServerError::ClosedByPeer("sending a message"),
            s => ServerError::ClosedByPeer(s.name()),
        };
        let clean = matches!(state, State::Normal(_)) && self.inbuf.is_empty();
        self.state = Err(err.clone());
        if clean {
            Ok(())
        } else {
            Err(err)
        }
    }

    /// The timer from [`poll_timeout`](Self::poll_timeout) fired (or any time passed).
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ServerError> {
        self.check()?;
        if self.is_handshaking() && self.deadline.is_some_and(|d| now >= d) {
            self.state = Err(ServerError::HandshakeTimeout);
            return Err(ServerError::HandshakeTimeout);
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

    /// Bytes to send to the client, if any (also after a fatal error, until drained).
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        let bytes = (!self.out.is_empty()).then(|| self.out.split().freeze());
        if let Some(b) = &bytes {
            self.taken += b.len() as u64;
        }
        self.resume();
        bytes
    }

    /// Number of bytes queued for the client and not yet taken by
    /// [`poll_transmit`](Self::poll_transmit).
    pub fn pending_transmit(&self) -> usize {
        self.out.len()
    }

    /// Number of events waiting in [`poll_event`](Self::poll_event).
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// The next event for the product.
    ///
    /// In the normal phase, parsing pauses while [`ServerConfig::max_pending_events`]
    /// events wait here (see [`wants_input`](Self::wants_input)); taking them resumes it.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        let ev = self.events.pop_front();
        self.resume();
        ev.or_else(|| self.events.pop_front())
    }

    /// Parses input left over by back-pressure, if there is room again. Errors are
    /// sticky and show on the next call.
    fn resume(&mut self) {
        if self.events.is_empty()
            && !self.inbuf.is_empty()
            && matches!(self.state, Ok(State::Normal(_)))
        {
            let _ = self.run(self.input_at);
        }
    }

    /// Answers [`ServerEvent::AuthRequested`].
    pub fn decide_auth(&mut self, decision: AuthDecision) -> Result<(), ServerError> {
        if !matches!(self.check()?, State::AwaitDecision(_)) {
            return Err(ServerError::ApiMisuse(
                "decide_auth called while no decision is pending",
            ));
        }
        let Ok(State::AwaitDecision(waiting)) =
            std::mem::replace(&mut self.state, Err(ServerError::ApiMisuse("poisoned")))
        else {
            return Err(ServerError::ApiMisuse("state changed unexpectedly"));
        };
        let mut cx = Cx {
            config: &self.config,
            desktop: &self.desktop,
            random: &mut *self.random,
            inbuf: &mut self.inbuf,
            out: &mut self.out,
            events: &mut self.events,
            parse_state: &mut self.parse_state,
            view_only: self.view_only,
            now: None,
        };
        match waiting.decide(decision, &mut cx) {
            Ok(next) => {
                self.state = Ok(next);
                self.run(None)
            }
            Err(e) => {
                self.state = Err(e.clone());
                Err(e)
            }
        }
    }

    /// Queues a normal-phase message for the client.
    pub fn send(&mut self, message: &ServerMessage) -> Result<(), ServerError> {
        self.send_with(|out| message.encode(out))
    }

    /// Queues pre-encoded normal-phase bytes (for example a FramebufferUpdate written by
    /// an update encoder). The bytes must form whole messages.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ServerError> {
        self.send_with(|out| out.extend_from_slice(bytes))
    }

    fn send_with(&mut self, f: impl FnOnce(&mut BytesMut)) -> Result<(), ServerError> {
        match self.check()? {
            State::Normal(_) => {
                f(&mut self.out);
                Ok(())
            }
            _ => Err(ServerError::ApiMisuse(
                "messages can only be sent in the normal phase",
            )),
        }
    }

    /// Closes the connection from the server side. Anything already queued can still be
    /// taken with [`poll_transmit`](Self::poll_transmit).
    pub fn close(&mut self, reason: impl Into<String>) {
        if self.state.is_ok() {
            self.state = Err(ServerError::ClosedByServer(reason.into()));
        }
    }

    pub(crate) fn check(&self) -> Result<&State, ServerError> {
        self.state.as_ref().map_err(Clone::clone)
    }

    /// Drives the state machine over buffered input (that arrived at `now`, if known)
    /// until it waits.
    pub(crate) fn run(&mut self, now: Option<Instant>) -> Result<(), ServerError> {
        loop {
            let state =
                match std::mem::replace(&mut self.state, Err(ServerError::ApiMisuse("poisoned"))) {
                    Ok(s) => s,
                    Err(e) => {
                        self.state = Err(e.clone());
                        return Err(e);
                    }
                };
            let mut cx = Cx {
                config: &self.config,
                desktop: &self.desktop,
                random: &mut *self.random,
                inbuf: &mut self.inbuf,
                out: &mut self.out,
                events: &mut self.events,
                parse_state: &mut self.parse_state,
                view_only: self.view_only,
                now,
            };
            let result = match state {
                State::AwaitVersion(s) => s.advance(&mut cx),
                State::AwaitChoice(s) => s.advance(&mut cx),
                State::Securing(s) => s.advance(&mut cx),
                State::AwaitDecision(s) => s.advance(&mut cx),
                State::AwaitClientInit(s) => s.advance(&mut cx),
                State::Normal(s) => s.advance(&mut cx),
            };
            match result {
                Ok(Step::Next(next)) => {
                    self.note(&next);
                    self.state = Ok(next);
                }
                Ok(Step::Wait(next)) => {
                    self.note(&next);
                    self.state = Ok(next);
                    return Ok(());
                }
                Err(e) => {
                    self.state = Err(e.clone());
                    return Err(e);
                }
            }
        }
    }

    fn note(&mut self, state: &State) {
        match state {
            State::AwaitVersion(_) => {}
            State::AwaitChoice(s) => self.version = Some(s.version),
            State::Securing(s) => {
                self.version = Some(s.version);
                self.security_type = Some(s.security_type);
            }
            State::AwaitDecision(s) => {
                self.version = Some(s.version);
                self.security_type = Some(s.security_type);
            }
            State::AwaitClientInit(s) => {
                self.version = Some(s.version);
                self.security_type = Some(s.security_type);
            }
            State::Normal(_) => {}
        }
    }
}
