//! The normal phase as a viewer sees it: a [`Viewer`] over a [`ClientConnection`] and a
//! [`RemoteFramebuffer`], still sans-IO.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rfb_codec::cursor::{decode_alpha_cursor, decode_cursor, decode_x_cursor, CursorImage};
use rfb_codec::pseudo::ExtendedDesktopSize;
use rfb_codec::{CodecLimits, ColourPreset, Palette};
use rfb_proto::client::{
    EnableContinuousUpdates, FramebufferUpdateRequest, KeyEvent, PointerEvent, QemuKeyEvent,
    SetDesktopSize,
};
use rfb_proto::clipboard::{Actions, ExtendedClipboard, Formats};
use rfb_proto::server::SetColourMapEntries;
use rfb_proto::{
    ClientMessage, CutText, Encoding, Fence, ProtocolVersion, Rect, RectHeader, Screen,
    SecurityType, ServerMessage,
};

use crate::clipboard;
use crate::{
    ClientConfig, ClientConnection, ClientError, ClientEvent, CodecFramer, DesktopSizeStatus,
    FramebufferChange, RemoteFramebuffer, DECODABLE_ENCODINGS,
};

/// Which encoding to prefer and at which quality and compression.
///
/// `preferred: None` lets the viewer choose from the measured throughput (see
/// [`LinkClass`]). The other decodable encodings follow the preferred one in the
/// SetEncodings list, so a server that lacks it still has a choice.
///
/// ```
/// use rfb_client::EncodingPreference;
/// use rfb_proto::Encoding;
/// let p = EncodingPreference { preferred: Some(Encoding::HEXTILE), ..Default::default() };
/// assert_eq!(p.encodings()[0], Encoding::HEXTILE);
/// assert!(p.encodings().contains(&Encoding::RAW));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodingPreference {
    /// The encoding to ask for first, or `None` for automatic selection. Default `None`.
    pub preferred: Option<Encoding>,
    /// JPEG quality level 0..=9 (for servers and encodings that use it). `None` means
    /// automatic when `preferred` is `None`, and no JPEG at all (no quality level is
    /// sent, so Tight stays lossless) when an encoding is chosen. Default `None`.
    pub quality: Option<u8>,
    /// Compression level 0..=9, or `None` for automatic. Default `None`.
    pub compress: Option<u8>,
}

impl EncodingPreference {
    /// The pixel encodings in preference order: the preferred one, then every other
    /// decodable encoding, best first.
    pub fn encodings(&self) -> Vec<Encoding> {
        let mut list = Vec::with_capacity(DECODABLE_ENCODINGS.len() + 1);
        if let Some(p) = self.preferred {
            list.push(p);
        }
        list.extend(
            DECODABLE_ENCODINGS
                .iter()
                .filter(|e| Some(**e) != self.preferred),
        );
        list
    }
}

/// How fast the link looks, from the measured throughput of large updates.
///
/// Modelled on TigerVNC's viewer auto-select: above 16 Mbit/s the link is fast: ZRLE
/// (lossless) with low compression to save CPU; below it, Tight (JPEG for photo-like
/// areas, at quality 6 on a medium link and 5 on a slow one) with medium or highest
/// compression; below 256 kbit/s the link is slow and, when the colour mode is full,
/// the colour drops to 8 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkClass {
    /// At least [`LinkClass::FAST_KBPS`] kbit/s.
    Fast,
    /// Between the two thresholds.
    Medium,
    /// Below [`LinkClass::SLOW_KBPS`] kbit/s.
    Slow,
}

impl LinkClass {
    /// Throughput from which the link is fast, in kbit/s (TigerVNC's threshold).
    pub const FAST_KBPS: u64 = 16_000;
    /// Throughput below which the link is slow, in kbit/s (TigerVNC's threshold).
    pub const SLOW_KBPS: u64 = 256;

    /// The class of a throughput in kbit/s.
    pub fn of(kbps: u64) -> LinkClass {
        if kbps >= Self::FAST_KBPS {
            LinkClass::Fast
        } else if kbps < Self::SLOW_KBPS {
            LinkClass::Slow
        } else {
            LinkClass::Medium
        }
    }

    /// The encoding automatic selection prefers for the class.
    pub fn encoding(self) -> Encoding {
        match self {
            LinkClass::Fast => Encoding::ZRLE,
            LinkClass::Medium | LinkClass::Slow => Encoding::TIGHT,
        }
    }

    /// (compression level, JPEG quality level) chosen for the class.
    pub fn levels(self) -> (u8, u8) {
        match self {
            LinkClass::Fast => (1, 8),
            LinkClass::Medium => (6, 6),
            LinkClass::Slow => (9, 5),
        }
    }
}

/// Configuration of a [`Viewer`].
///
/// ```
/// use rfb_client::{ViewerConfig, EncodingPreference};
/// use rfb_codec::ColourPreset;
/// let config = ViewerConfig { colour: ColourPreset::More16, ..Default::default() };
/// assert_eq!(config.pipeline_depth, 2);
/// ```
#[derive(Debug, Clone)]
pub struct ViewerConfig {
    /// The handshake configuration.
    pub client: ClientConfig,
    /// Encoding, quality and compression. Default: automatic.
    pub encodings: EncodingPreference,
    /// The colour mode to ask for. Default [`ColourPreset::Full`].
    pub colour: ColourPreset,
    /// Lower the colour to 8 bits on a slow link when `colour` is Full and the encoding
    /// is automatic. Default true.
    pub auto_colour: bool,
    /// Update requests kept outstanding when continuous updates are not in use (at
    /// least 1). Two hide one round trip: the server already holds the next request
    /// when it finishes an update. Default 2.
    pub pipeline_depth: u8,
    /// Use ContinuousUpdates when the server supports it together with fences.
    /// Default true.
    pub continuous_updates: bool,
    /// Ask for the cursor shape (drawn locally) rather than a cursor painted into the
    /// framebuffer. Default true.
    pub cursor_shape: bool,
    /// Limits the decoders respect. Default [`CodecLimits::default`].
    pub codec_limits: CodecLimits,
    /// Detects a server that stopped answering, in the normal phase. Default `None`
    /// (off: a quiet server is never given up on; the TCP connection's own failure
    /// is then the only sign). Respected by [`Viewer`].
    ///
    /// With `Some(n)`: when nothing at all has arrived from the server for `n`, the
    /// viewer sends a probe the server must answer at once, whatever the screen does
    /// (a Fence request when the server has shown fence support, otherwise a
    /// non-incremental FramebufferUpdateRequest for one pixel). When nothing at all
    /// has arrived `n` after the probe either, the viewer fails with
    /// [`ClientError::TimedOut`] (and a driver closes the connection). An idle
    /// desktop never trips it (the probe is answered); a server that stopped
    /// sending, mid-update or not, is given up on between `n` and `2n` after its last
    /// byte. The handshake has its own deadline,
    /// [`ClientConfig::handshake_timeout`].
    pub idle_timeout: Option<Duration>,
}

impl Default for ViewerConfig {
    fn default() -> Self {
        ViewerConfig {
            client: ClientConfig::default(),
            encodings: EncodingPreference::default(),
            colour: ColourPreset::Full,
            auto_colour: true,
            pipeline_depth: 2,
            continuous_updates: true,
            cursor_shape: true,
            codec_limits: CodecLimits::default(),
            idle_timeout: None,
        }
    }
}

/// What the server has shown it supports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The server sent a fence request.
    pub fence: bool,
    /// The server sent EndOfContinuousUpdates (its way of saying it supports them).
    pub continuous_updates: bool,
    /// The server confirmed QEMU extended key events.
    pub qemu_extended_key: bool,
    /// The server confirmed extended mouse buttons (back, forward, horizontal wheel).
    pub extended_mouse_buttons: bool,
    /// The server sent an ExtendedDesktopSize rectangle (multi-screen layouts).
    pub extended_desktop_size: bool,
    /// The server announced xvp (power control).
    pub xvp: bool,
    /// The server's Extended Clipboard formats and actions, once it sent its caps.
    pub extended_clipboard: Option<(Formats, Actions)>,
}

/// Something the product should show or act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViewerEvent {
    /// The server wants a password: answer with [`Viewer::provide_password`].
    PasswordRequested {
        /// The security type that needs it.
        security_type: SecurityType,
    },
    /// The handshake is complete.
    Connected {
        /// Framebuffer width.
        width: u16,
        /// Framebuffer height.
        height: u16,
        /// Desktop name.
        name: String,
        /// Protocol version in use.
        version: ProtocolVersion,
        /// Security type used.
        security_type: SecurityType,
    },
    /// A FramebufferUpdate is complete; these rectangles were painted (at most
    /// [`Viewer::MAX_DAMAGE_RECTS`]; more are merged into their bounding box).
    Updated {
        /// Painted rectangles.
        rects: Vec<Rect>,
    },
    /// The framebuffer changed size (contents cleared; a full update follows), or the
    /// screen layout changed at the same size (contents kept). Not sent when the server
    /// repeats the size and layout already in effect.
    Resized {
        /// New width.
        width: u16,
        /// New height.
        height: u16,
        /// The screen layout (empty when the server only sent DesktopSize).
        screens: Vec<Screen>,
    },
    /// The server's answer to a [`Viewer::request_desktop_size`]. On success a
    /// [`ViewerEvent::Resized`] with the new size and layout comes just before it
    /// (unless they did not change).
    DesktopSizeResult {
        /// The number [`Viewer::request_desktop_size`] returned for the request.
        request: u32,
        /// The outcome.
        status: DesktopSizeStatus,
    },
    /// The cursor shape changed (an empty image hides the cursor).
    CursorShape(CursorImage),
    /// The server moved the cursor.
    CursorMoved {
        /// Hotspot x.
        x: u16,
        /// Hotspot y.
        y: u16,
    },
    /// Ring the bell.
    Bell,
    /// The server's clipboard text.
    CutText(String),
    /// The desktop name changed.
    DesktopName(String),
    /// The server's capabilities as now known.
    Capabilities(Capabilities),
    /// A colour mode change took effect.
    ColourChanged(ColourPreset),
    /// Automatic selection moved to a new link class.
    LinkClassChanged {
        /// The new class.
        class: LinkClass,
        /// The throughput estimate behind it, in kbit/s.
        kbps: u64,
    },
}

struct UpdateProgress {
    started: Instant,
    bytes: u64,
    rects: Vec<Rect>,
}

/// A connection to a server as a viewer uses it, sans-IO.
///
/// It runs the handshake through [`ClientConnection`], then asks for the configured
/// pixel format and encodings, decodes every rectangle into its [`RemoteFramebuffer`]
/// and turns the stream into [`ViewerEvent`]s. It keeps the screen flowing:
///
/// - **Pipelined requests**: without continuous updates, it keeps
///   [`ViewerConfig::pipeline_depth`] incremental requests outstanding, so the round
///   trip does not cap the frame rate.
/// - **Continuous updates and fences**: it answers every server fence; once the server
///   has shown fence and continuous-update support it enables continuous updates for
///   the whole screen (re-armed after a resize) and stops requesting.
/// - **Colour modes** ([`set_colour`](Self::set_colour)): with fences the switch is
///   synchronised by a SyncNext fence, and the framebuffer changes format exactly
///   where the server does. Without fences it waits until no update is outstanding, or
///   (pipelined requests on an idle screen may never be answered) until nothing has
///   arrived for 300 ms outside an update: then an update the server started before
///   it read the SetPixelFormat could still arrive in the old format — a small window
///   the protocol cannot close without fences.
/// - **Automatic encoding** when [`EncodingPreference::preferred`] is `None`: see
///   [`LinkClass`]; the estimate is an exponential average over updates of at least
///   64 KiB that took at least 5 ms to arrive, and the class changes at most every 5 s.
///
/// Methods follow [`ClientConnection`]'s order: after every input or command drain
/// [`poll_transmit`](Self::poll_transmit), then [`poll_event`](Self::poll_event), then
/// re-arm the timer from [`poll_timeout`](Self::poll_timeout). Errors are sticky.
///
/// ```
/// use std::time::Instant;
/// use rfb_client::{Viewer, ViewerConfig, ViewerEvent};
///
/// let now = Instant::now();
/// let mut v = Viewer::new(ViewerConfig::default(), now);
/// v.handle_input(b"RFB 003.008\n", now).unwrap();
/// v.handle_input(&[1, 1], now).unwrap();
/// v.handle_input(&[0, 0, 0, 0], now).unwrap();
/// let mut init = vec![0, 2, 0, 1, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];
/// init.extend_from_slice(&[0, 0, 0, 0]);
/// v.handle_input(&init, now).unwrap();
/// assert!(matches!(v.poll_event(), Some(ViewerEvent::Connected { width: 2, height: 1, .. })));
/// while v.poll_transmit().is_some() {}
/// // One Raw update of the two pixels: red, green.
/// let update = [0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 255, 0, 0, 255, 0, 0];
/// v.handle_input(&update, now).unwrap();
/// assert!(matches!(v.poll_event(), Some(ViewerEvent::Updated { .. })));
/// assert_eq!(v.framebuffer().unwrap().to_rgb(), [255, 0, 0, 0, 255, 0]);
/// ```
pub struct Viewer {
    conn: ClientConnection,
    config: ViewerConfig,
    fb: Option<RemoteFramebuffer>,
    colour_map: Vec<[u16; 3]>,
    events: VecDeque<ViewerEvent>,
    error: Option<ClientError>,
    caps: Capabilities,
    colour: ColourPreset,
    wanted_colour: ColourPreset,
    pending_colour: Option<ColourPreset>,
    fenced_colour: Option<(Bytes, ColourPreset)>,
    outstanding: u32,
    need_full: bool,
    cu_active: bool,
    update: Option<UpdateProgress>,
    kbps: Option<u64>,
    link: LinkClass,
    link_changed: Option<Instant>,
    local_clipboard: Option<String>,
    view_only: bool,
    started: Instant,
    last_input: Option<Instant>,
    screens: Vec<Screen>,
    resize_serial: u32,
    pending_resizes: VecDeque<u32>,
    probe_sent: Option<Instant>,
}

impl std::fmt::Debug for Viewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Viewer")
            .field("conn", &self.conn)
            .field("caps", &self.caps)
            .field("colour", &self.colour)
            .field("outstanding", &self.outstanding)
            .field("cu_active", &self.cu_active)
            .finish_non_exhaustive()
    }
}

/// Growth of the averaged throughput estimate per sample (1/4 new, 3/4 old).
const KBPS_EMA_NEW: u64 = 1;
const KBPS_EMA_DIV: u64 = 4;
/// Smallest update that yields a throughput sample.
const SAMPLE_MIN_BYTES: u64 = 64 * 1024;
/// Shortest arrival time that yields a throughput sample.
const SAMPLE_MIN_TIME: Duration = Duration::from_millis(5);
/// Quiet time after which outstanding requests are taken to be idle, so a colour
/// change without fences may go ahead.
const PENDING_IDLE: Duration = Duration::from_millis(300);
/// Least time between two automatic changes.
const AUTO_HOLD: Duration = Duration::from_secs(5);
/// Payload of the fences [`ViewerConfig::idle_timeout`] probes with.
const PROBE_FENCE: &[u8] = b"rfb-client probe";
/// Most SetDesktopSize requests awaiting their answer (the server answers each at once;
/// more means it does not).
const MAX_PENDING_RESIZES: usize = 64;

impl Viewer {
    /// Most damage rectangles listed in one [`ViewerEvent::Updated`].
    pub const MAX_DAMAGE_RECTS: usize = 64;

    /// A viewer whose connection opened at `now`.
    pub fn new(config: ViewerConfig, now: Instant) -> Viewer {
        let conn = ClientConnection::new(config.client.clone(), now);
        let colour = config.colour;
        Viewer {
            conn,
            fb: None,
            colour_map: Vec::new(),
            events: VecDeque::new(),
            error: None,
            caps: Capabilities::default(),
            colour,
            wanted_colour: colour,
            pending_colour: None,
            fenced_colour: None,
            outstanding: 0,
            need_full: true,
            cu_active: false,
            update: None,
            kbps: None,
            link: LinkClass::Fast,
            link_changed: None,
            local_clipboard: None,
            view_only: false,
            started: now,
            last_input: None,
            screens: Vec::new(),
            resize_serial: 0,
            pending_resizes: VecDeque::new(),
            probe_sent: None,
            config,
        }
    }

    /// The underlying connection (version, security type, ServerInit).
    pub fn connection(&self) -> &ClientConnection {
        &self.conn
    }

    /// The framebuffer, once connected.
    pub fn framebuffer(&self) -> Option<&RemoteFramebuffer> {
        self.fb.as_ref()
    }

    /// The framebuffer size, once connected.
    pub fn size(&self) -> Option<(u16, u16)> {
        self.fb
            .as_ref()
            .map(|f| (f.framebuffer().width(), f.framebuffer().height()))
    }

    /// The screen layout the server last reported (empty until it sent an
    /// ExtendedDesktopSize rectangle).
    pub fn screens(&self) -> &[Screen] {
        &self.screens
    }

    /// A one-screen layout covering a `width` x `height` framebuffer, keeping the id
    /// and flags of the first screen of the current layout (the specification asks
    /// clients to preserve them), for [`request_desktop_size`](Self::request_desktop_size).
    pub fn single_screen_layout(&self, width: u16, height: u16) -> Vec<Screen> {
        let (id, flags) = self.screens.first().map_or((0, 0), |s| (s.id, s.flags));
        vec![Screen {
            id,
            rect: Rect::new(0, 0, width, height),
            flags,
        }]
    }

    /// What the server has shown it supports so far.
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// The colour mode the framebuffer is in.
    pub fn colour(&self) -> ColourPreset {
        self.colour
    }

    /// Update requests outstanding (0 while continuous updates run).
    pub fn outstanding_requests(&self) -> u32 {
        self.outstanding
    }

    /// True while continuous updates are enabled.
    pub fn continuous_updates(&self) -> bool {
        self.cu_active
    }

    /// The throughput estimate in kbit/s, once measured.
    pub fn throughput_kbps(&self) -> Option<u64> {
        self.kbps
    }

    /// The link class automatic selection works from.
    pub fn link_class(&self) -> LinkClass {
        self.link
    }

    /// The sticky error, if the viewer has failed.
    pub fn error(&self) -> Option<&ClientError> {
        self.error.as_ref().or(self.conn.error())
    }

    /// True while input is dropped ([`set_view_only`](Self::set_view_only)).
    pub fn view_only(&self) -> bool {
        self.view_only
    }

    /// Drops (true) or sends (false) keyboard and pointer input from now on.
    pub fn set_view_only(&mut self, view_only: bool) {
        self.view_only = view_only;
    }

    // ----- inputs -----

    /// Bytes from the server, received at `now`.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) -> Result<(), ClientError> {
        self.check()?;
        self.last_input = Some(now);
        self.probe_sent = None;
        let result = self.conn.handle_input(data);
        // Events parsed before a failure still count (a Bell before garbage).
        let processed = self.process(now);
        self.fail_on(processed)?;
        self.fail_on(result)
    }

    /// The server closed the connection.
    pub fn handle_eof(&mut self) -> Result<(), ClientError> {
        self.check()?;
        let r = self.conn.handle_eof();
        self.fail_on(r)
    }

    /// The timer from [`poll_timeout`](Self::poll_timeout) fired.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ClientError> {
        self.check()?;
        let r = self.conn.handle_timeout(now);
        self.fail_on(r)?;
        if let Some(d) = self.idle_timeout_deadline() {
            if now >= d {
                let r = self.on_idle(now);
                self.fail_on(r)?;
            }
        }
        if let Some(colour) = self.pending_colour {
            if self.idle_deadline().is_some_and(|d| now >= d) {
                // The outstanding requests look idle (the server has nothing to send):
                // switch now rather than wait for a change on the server.
                self.pending_colour = None;
                let r = self
                    .send(&ClientMessage::SetPixelFormat(colour.pixel_format()))
                    .and_then(|()| self.switch_colour(colour));
                self.fail_on(r)?;
            }
        }
        Ok(())
    }

    /// When the idle timeout next acts: the probe, or giving up on it.
    fn idle_timeout_deadline(&self) -> Option<Instant> {
        let n = self.config.idle_timeout?;
        self.fb.as_ref()?;
        match self.probe_sent {
            Some(t) => t.checked_add(n),
            None => self.last_input.unwrap_or(self.started).checked_add(n),
        }
    }

    /// The server has been quiet for the idle timeout: probe it, or give up when the
    /// probe went unanswered.
    fn on_idle(&mut self, now: Instant) -> Result<(), ClientError> {
        if self.probe_sent.is_some() {
            return Err(ClientError::TimedOut {
                silent_for: now.saturating_duration_since(self.last_input.unwrap_or(self.started)),
            });
        }
        self.probe_sent = Some(now);
        if self.caps.fence {
            let fence = Fence::new(Fence::REQUEST, Bytes::from_static(PROBE_FENCE))?;
            self.send(&ClientMessage::Fence(fence))
        } else {
            // A non-incremental request must be answered whatever the screen does; one
            // pixel keeps the answer small. It counts as an outstanding request.
            if !self.cu_active {
                self.outstanding += 1;
            }
            self.send(&ClientMessage::FramebufferUpdateRequest(
                FramebufferUpdateRequest {
                    incremental: false,
                    rect: Rect::new(0, 0, 1, 1),
                },
            ))
        }
    }

    /// When a pending colour change may go ahead although requests are outstanding.
    fn idle_deadline(&self) -> Option<Instant> {
        if self.pending_colour.is_none() || self.update.is_some() {
            return None;
        }
        // Never having received anything counts as idle since connecting.
        Some(self.last_input.map_or(self.started, |t| t + PENDING_IDLE))
    }

    // ----- outputs -----

    /// Bytes to send to the server.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.conn.poll_transmit()
    }

    /// The next event for the product.
    pub fn poll_event(&mut self) -> Option<ViewerEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.error().is_some() {
            return None;
        }
        [
            self.conn.poll_timeout(),
            self.idle_deadline(),
            self.idle_timeout_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ----- commands -----

    /// Answers [`ViewerEvent::PasswordRequested`] (`None` gives up).
    pub fn provide_password(
        &mut self,
        password: Option<String>,
        now: Instant,
    ) -> Result<(), ClientError> {
        self.check()?;
        let r = self.conn.provide_password(password);
        let processed = self.process(now);
        self.fail_on(processed)?;
        self.fail_on(r)
    }

    /// A key press or release. `keycode` is the XT scan code (extended codes with the
    /// high bit set, e.g. Right = 0xcd); it is sent as a QEMU extended key event when
    /// the server confirmed them, otherwise only the keysym goes.
    pub fn key(
        &mut self,
        keysym: u32,
        down: bool,
        keycode: Option<u32>,
    ) -> Result<(), ClientError> {
        self.check_connected()?;
        if self.view_only {
            return Ok(());
        }
        let msg = match keycode {
            Some(keycode) if self.caps.qemu_extended_key && keycode != 0 => {
                ClientMessage::QemuKeyEvent(QemuKeyEvent {
                    down,
                    keysym,
                    keycode,
                })
            }
            _ => ClientMessage::KeyEvent(KeyEvent { down, keysym }),
        };
        self.send(&msg)
    }

    /// Sends Control, Alt and Delete pressed together, then released.
    pub fn send_ctrl_alt_del(&mut self) -> Result<(), ClientError> {
        const KEYS: [(u32, u32); 3] = [(0xffe3, 0x1d), (0xffe9, 0x38), (0xffff, 0xd3)];
        for (sym, code) in KEYS {
            self.key(sym, true, Some(code))?;
        }
        for (sym, code) in KEYS.iter().rev() {
            self.key(*sym, false, Some(*code))?;
        }
        Ok(())
    }

    /// Pointer position and buttons ([`PointerEvent`] bit constants). The position is
    /// clamped to the framebuffer; buttons above the first seven go only to servers
    /// that confirmed extended mouse buttons.
    pub fn pointer(&mut self, x: u16, y: u16, buttons: u16) -> Result<(), ClientError> {
        self.check_connected()?;
        if self.view_only {
            return Ok(());
        }
        let (w, h) = self.size().unwrap_or((1, 1));
        let buttons = if self.caps.extended_mouse_buttons {
            buttons
        } else {
            buttons & 0x7f
        };
        self.send(&ClientMessage::PointerEvent(PointerEvent {
            buttons,
            x: x.min(w.saturating_sub(1)),
            y: y.min(h.saturating_sub(1)),
        }))
    }

    /// Sets the server's clipboard to `text`: with Extended Clipboard, announced by
    /// Notify (or sent at once when the server takes unsolicited Provide only);
    /// otherwise classic Latin-1 ClientCutText.
    pub fn cut_text(&mut self, text: &str) -> Result<(), ClientError> {
        self.check_connected()?;
        self.local_clipboard = Some(text.to_owned());
        let msg = match self.caps.extended_clipboard {
            Some((_, actions)) if actions.contains(Actions::NOTIFY) => {
                CutText::Extended(ExtendedClipboard::Notify(Formats::TEXT))
            }
            Some((_, actions)) if actions.contains(Actions::PROVIDE) => {
                CutText::Extended(clipboard::provide_text(text)?)
            }
            _ => CutText::from_text(text),
        };
        self.send(&ClientMessage::ClientCutText(msg))
    }

    /// Changes the encoding preference (sends SetEncodings at once).
    pub fn set_encodings(&mut self, pref: EncodingPreference) -> Result<(), ClientError> {
        self.check_connected()?;
        self.config.encodings = pref;
        self.send_encodings()
    }

    /// Changes the colour mode, safely (see the type's documentation).
    pub fn set_colour(&mut self, colour: ColourPreset) -> Result<(), ClientError> {
        self.check_connected()?;
        self.config.colour = colour;
        self.want_colour(colour)
    }

    /// Asks for the whole screen again (non-incremental).
    pub fn refresh(&mut self) -> Result<(), ClientError> {
        self.check_connected()?;
        self.need_full = true;
        self.request()
    }

    /// Asks the server for a `width` x `height` framebuffer with this screen layout
    /// (SetDesktopSize; [`single_screen_layout`](Self::single_screen_layout) makes the
    /// common one-screen layout). Returns the request's number; the server's answer
    /// arrives as [`ViewerEvent::DesktopSizeResult`] with that number (answers come in
    /// the order of the requests), preceded on success by [`ViewerEvent::Resized`].
    ///
    /// The layout is sent as given (the server judges it: an invalid one is answered
    /// with [`DesktopSizeStatus::InvalidLayout`]). Errors, none of them sticky:
    /// [`ClientError::ApiMisuse`] before the server has sent an ExtendedDesktopSize
    /// rectangle (the specification forbids the message until then; see
    /// [`Capabilities::extended_desktop_size`]), with more than 255 screens, or with
    /// too many requests still unanswered.
    pub fn request_desktop_size(
        &mut self,
        width: u16,
        height: u16,
        screens: Vec<Screen>,
    ) -> Result<u32, ClientError> {
        self.check_connected()?;
        if !self.caps.extended_desktop_size {
            return Err(ClientError::ApiMisuse(
                "the server has not announced ExtendedDesktopSize support",
            ));
        }
        if screens.len() > usize::from(u8::MAX) {
            return Err(ClientError::ApiMisuse("a layout has at most 255 screens"));
        }
        if self.pending_resizes.len() >= MAX_PENDING_RESIZES {
            return Err(ClientError::ApiMisuse(
                "too many SetDesktopSize requests are still unanswered",
            ));
        }
        let serial = self.resize_serial;
        self.send(&ClientMessage::SetDesktopSize(SetDesktopSize {
            width,
            height,
            screens,
        }))?;
        self.resize_serial = serial.wrapping_add(1);
        self.pending_resizes.push_back(serial);
        Ok(serial)
    }

    /// Closes the connection from the client side.
    pub fn close(&mut self, reason: impl Into<String>) {
        self.conn.close(reason);
    }

    // ----- internals -----

    fn check(&self) -> Result<(), ClientError> {
        match self.error() {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn check_connected(&self) -> Result<(), ClientError> {
        self.check()?;
        if self.fb.is_none() {
            return Err(ClientError::ApiMisuse("not connected yet"));
        }
        Ok(())
    }

    fn fail_on(&mut self, r: Result<(), ClientError>) -> Result<(), ClientError> {
        if let Err(e) = &r {
            if self.error.is_none() {
                self.error = Some(e.clone());
                self.conn.close(e.to_string());
            }
        }
        r
    }

    fn send(&mut self, msg: &ClientMessage) -> Result<(), ClientError> {
        self.conn.send(msg)
    }

    fn process(&mut self, now: Instant) -> Result<(), ClientError> {
        while let Some(ev) = self.conn.poll_event() {
            self.on_event(ev, now)?;
        }
        Ok(())
    }

    fn on_event(&mut self, ev: ClientEvent, now: Instant) -> Result<(), ClientError> {
        match ev {
            ClientEvent::PasswordRequested { security_type } => self
                .events
                .push_back(ViewerEvent::PasswordRequested { security_type }),
            ClientEvent::Connected {
                version,
                security_type,
                server_init,
            } => {
                let (w, h) = (server_init.width, server_init.height);
                let mut fb = RemoteFramebuffer::new(w, h, self.colour.pixel_format());
                let limits = &self.config.client.limits;
                fb.set_max_size(limits.max_framebuffer_width, limits.max_framebuffer_height);
                fb.set_codec_limits(self.config.codec_limits.clone());
                fb.set_palette(self.colour.palette());
                self.fb = Some(fb);
                self.conn.set_framer(Box::new(CodecFramer::with_bounds(
                    w,
                    h,
                    self.config.codec_limits.clone(),
                )));
                self.events.push_back(ViewerEvent::Connected {
                    width: w,
                    height: h,
                    name: server_init.name,
                    version,
                    security_type,
                });
                // Nothing is outstanding yet: the format can change at once.
                self.send(&ClientMessage::SetPixelFormat(self.colour.pixel_format()))?;
                self.send_encodings()?;
                self.request()?;
            }
            ClientEvent::Message(m) => self.on_message(m)?,
            ClientEvent::UpdateStart { .. } => {
                self.update = Some(UpdateProgress {
                    started: now,
                    bytes: 4,
                    rects: Vec::new(),
                });
            }
            ClientEvent::Rect { header, payload } => self.on_rect(header, &payload)?,
            ClientEvent::UpdateEnd => self.on_update_end(now)?,
        }
        Ok(())
    }

    fn on_message(&mut self, m: ServerMessage) -> Result<(), ClientError> {
        match m {
            ServerMessage::FramebufferUpdate(_) => {}
            ServerMessage::SetColourMapEntries(SetColourMapEntries { first, colours }) => {
                let end = usize::from(first) + colours.len();
                if self.colour_map.len() < end.max(256) {
                    self.colour_map.resize(end.max(256), [0; 3]);
                }
                for (i, c) in colours.iter().enumerate() {
                    self.colour_map[usize::from(first) + i] = [c.red, c.green, c.blue];
                }
                let palette = Palette::from_rgb16(self.colour_map.clone())?;
                if let Some(fb) = &mut self.fb {
                    fb.set_palette(Some(palette));
                }
            }
            ServerMessage::Bell => self.events.push_back(ViewerEvent::Bell),
            ServerMessage::ServerCutText(CutText::Latin1(b)) => self
                .events
                .push_back(ViewerEvent::CutText(rfb_proto::decode_text(&b))),
            ServerMessage::ServerCutText(CutText::Extended(x)) => self.on_clipboard(x)?,
            ServerMessage::EndOfContinuousUpdates => {
                if self.cu_active {
                    // The server stopped them (or confirmed our disable).
                    self.cu_active = false;
                    self.need_full = true;
                    self.request()?;
                } else if !self.caps.continuous_updates {
                    self.caps.continuous_updates = true;
                    self.caps_changed();
                    self.maybe_enable_cu()?;
                }
            }
            ServerMessage::Fence(f) => {
                if f.is_request() {
                    // Everything before it has been processed (events are in order).
                    self.send(&ClientMessage::Fence(f.response()))?;
                    if !self.caps.fence {
                        self.caps.fence = true;
                        self.caps_changed();
                        self.maybe_enable_cu()?;
                    }
                } else if self
                    .fenced_colour
                    .as_ref()
                    .is_some_and(|(p, _)| *p == f.payload)
                {
                    if let Some((_, colour)) = self.fenced_colour.take() {
                        self.switch_colour(colour)?;
                    }
                }
            }
            ServerMessage::Xvp(x) => {
                if x.code == rfb_proto::server::Xvp::INIT && !self.caps.xvp {
                    self.caps.xvp = true;
                    self.caps_changed();
                }
            }
        }
        Ok(())
    }

    fn on_clipboard(&mut self, x: ExtendedClipboard) -> Result<(), ClientError> {
        let limits = self.config.client.limits.clone();
        match x {
            ExtendedClipboard::Caps {
                formats, actions, ..
            } => {
                let first = self.caps.extended_clipboard.is_none();
                self.caps.extended_clipboard = Some((formats, actions));
                self.caps_changed();
                if first {
                    self.send(&ClientMessage::ClientCutText(CutText::Extended(
                        clipboard::our_caps(limits.max_cut_text),
                    )))?;
                }
            }
            ExtendedClipboard::Notify(formats) => {
                let can_request = self
                    .caps
                    .extended_clipboard
                    .is_some_and(|(_, a)| a.contains(Actions::REQUEST));
                if formats.contains(rfb_proto::clipboard::Format::TEXT) && can_request {
                    self.send(&ClientMessage::ClientCutText(CutText::Extended(
                        ExtendedClipboard::Request(Formats::TEXT),
                    )))?;
                }
            }
            ExtendedClipboard::Provide { formats, zlib } => {
                if let Some(text) = clipboard::text_of_provide(formats, &zlib, &limits)? {
                    self.events.push_back(ViewerEvent::CutText(text));
                }
            }
            ExtendedClipboard::Request(formats) => {
                if formats.contains(rfb_proto::clipboard::Format::TEXT) {
                    if let Some(text) = self.local_clipboard.clone() {
                        let provide = clipboard::provide_text(&text)?;
                        self.send(&ClientMessage::ClientCutText(CutText::Extended(provide)))?;
                    }
                }
            }
            ExtendedClipboard::Peek => {
                let formats = if self.local_clipboard.is_some() {
                    Formats::TEXT
                } else {
                    Formats(0)
                };
                self.send(&ClientMessage::ClientCutText(CutText::Extended(
                    ExtendedClipboard::Notify(formats),
                )))?;
            }
        }
        Ok(())
    }

    fn on_rect(&mut self, header: RectHeader, payload: &[u8]) -> Result<(), ClientError> {
        if let Some(u) = &mut self.update {
            u.bytes = u.bytes.saturating_add(12 + payload.len() as u64);
        }
        let Some(fb) = &mut self.fb else {
            return Err(ClientError::ApiMisuse("rectangle before ServerInit"));
        };
        let rect = header.rect;
        let limits = &self.config.codec_limits;
        match header.encoding {
            Encoding::QEMU_EXTENDED_KEY_EVENT => {
                if !self.caps.qemu_extended_key {
                    self.caps.qemu_extended_key = true;
                    self.caps_changed();
                }
            }
            Encoding::EXTENDED_MOUSE_BUTTONS => {
                if !self.caps.extended_mouse_buttons {
                    self.caps.extended_mouse_buttons = true;
                    let mut ext = self.conn.extensions().clone();
                    ext.extended_mouse_buttons = true;
                    self.conn.set_extensions(ext);
                    self.caps_changed();
                }
            }
            Encoding::CURSOR => {
                let format = *fb.framebuffer().format();
                let img = decode_cursor(rect, &format, fb.palette(), payload, limits)?;
                self.events.push_back(ViewerEvent::CursorShape(img));
            }
            Encoding::X_CURSOR => {
                let img = decode_x_cursor(rect, payload, limits)?;
                self.events.push_back(ViewerEvent::CursorShape(img));
            }
            Encoding::CURSOR_WITH_ALPHA => {
                let img = decode_alpha_cursor(rect, payload, limits)?;
                self.events.push_back(ViewerEvent::CursorShape(img));
            }
            Encoding::POINTER_POS => self.events.push_back(ViewerEvent::CursorMoved {
                x: rect.x,
                y: rect.y,
            }),
            Encoding::EXTENDED_DESKTOP_SIZE => {
                let e = ExtendedDesktopSize::decode(rect, payload, &self.config.client.limits)?;
                let first = !self.caps.extended_desktop_size;
                self.caps.extended_desktop_size = true;
                if first {
                    self.caps_changed();
                }
                // Reason 1 answers our oldest SetDesktopSize (answers are neither merged
                // nor reordered). One we did not ask for is treated like reason 0 when
                // it reports success (the spec's rule for unknown reasons), and
                // ignored otherwise (its fields are undefined).
                let request = if e.reason == 1 {
                    self.pending_resizes.pop_front()
                } else {
                    None
                };
                let status = DesktopSizeStatus::from_code(if e.reason == 1 { e.status } else { 0 });
                if status.is_success() {
                    self.resized(e.width, e.height, e.screens)?;
                }
                if let Some(request) = request {
                    self.events
                        .push_back(ViewerEvent::DesktopSizeResult { request, status });
                }
            }
            Encoding::DESKTOP_SIZE => self.resized(rect.width, rect.height, Vec::new())?,
            enc if enc.is_pseudo() && enc != Encoding::DESKTOP_NAME => {}
            _ => match fb.apply(&header, payload)? {
                FramebufferChange::Painted(r) => {
                    if let Some(u) = &mut self.update {
                        u.rects.push(r);
                    }
                }
                FramebufferChange::DesktopName(n) => {
                    self.events.push_back(ViewerEvent::DesktopName(n))
                }
                _ => {}
            },
        }
        Ok(())
    }

    fn resized(
        &mut self,
        width: u16,
        height: u16,
        screens: Vec<Screen>,
    ) -> Result<(), ClientError> {
        let same = self.size() == Some((width, height));
        if same && screens == self.screens {
            // The server repeated what is in effect (an answer to a non-incremental
            // request): nothing changed.
            return Ok(());
        }
        self.screens.clone_from(&screens);
        if let Some(fb) = &mut self.fb {
            // A layout change at the same size keeps the picture.
            if !same {
                fb.resize(width, height)?;
                if let Some(u) = &mut self.update {
                    u.rects.clear();
                }
            }
        }
        self.events.push_back(ViewerEvent::Resized {
            width,
            height,
            screens,
        });
        if self.cu_active {
            self.send(&ClientMessage::EnableContinuousUpdates(
                EnableContinuousUpdates {
                    enable: true,
                    rect: Rect::new(0, 0, width, height),
                },
            ))?;
        }
        Ok(())
    }

    fn on_update_end(&mut self, now: Instant) -> Result<(), ClientError> {
        let Some(u) = self.update.take() else {
            return Ok(());
        };
        let mut rects = u.rects;
        if rects.len() > Self::MAX_DAMAGE_RECTS {
            rects = vec![bounding(&rects)];
        }
        self.events.push_back(ViewerEvent::Updated { rects });
        if !self.cu_active {
            self.outstanding = self.outstanding.saturating_sub(1);
        }
        self.sample(u.bytes, now.saturating_duration_since(u.started), now)?;
        if let Some(colour) = self.pending_colour {
            if self.outstanding == 0 && !self.cu_active {
                self.pending_colour = None;
                self.send(&ClientMessage::SetPixelFormat(colour.pixel_format()))?;
                self.switch_colour(colour)?;
            }
            return Ok(());
        }
        self.request()
    }

    /// Tops the outstanding requests up to the pipeline depth (the first one
    /// non-incremental when a full refresh is due).
    fn request(&mut self) -> Result<(), ClientError> {
        let Some((w, h)) = self.size() else {
            return Ok(());
        };
        let rect = Rect::new(0, 0, w, h);
        if self.cu_active {
            if self.need_full {
                self.need_full = false;
                self.send(&ClientMessage::FramebufferUpdateRequest(
                    FramebufferUpdateRequest {
                        incremental: false,
                        rect,
                    },
                ))?;
            }
            return Ok(());
        }
        if self.pending_colour.is_some() {
            return Ok(());
        }
        let depth = u32::from(self.config.pipeline_depth.max(1));
        while self.outstanding < depth || self.need_full {
            let incremental = !self.need_full;
            self.need_full = false;
            self.send(&ClientMessage::FramebufferUpdateRequest(
                FramebufferUpdateRequest { incremental, rect },
            ))?;
            self.outstanding += 1;
        }
        Ok(())
    }

    fn maybe_enable_cu(&mut self) -> Result<(), ClientError> {
        if !self.config.continuous_updates
            || !self.caps.continuous_updates
            || !self.caps.fence
            || self.cu_active
        {
            return Ok(());
        }
        let Some((w, h)) = self.size() else {
            return Ok(());
        };
        self.cu_active = true;
        self.outstanding = 0;
        self.send(&ClientMessage::EnableContinuousUpdates(
            EnableContinuousUpdates {
                enable: true,
                rect: Rect::new(0, 0, w, h),
            },
        ))
    }

    fn want_colour(&mut self, colour: ColourPreset) -> Result<(), ClientError> {
        if colour == self.wanted_colour {
            return Ok(());
        }
        self.wanted_colour = colour;
        if self.caps.fence {
            let payload = self.conn.set_pixel_format_fenced(colour.pixel_format())?;
            self.fenced_colour = Some((payload, colour));
            self.pending_colour = None;
        } else if self.outstanding == 0 && !self.cu_active {
            self.send(&ClientMessage::SetPixelFormat(colour.pixel_format()))?;
            self.switch_colour(colour)?;
        } else {
            // Wait until every outstanding update has arrived.
            self.pending_colour = Some(colour);
        }
        Ok(())
    }

    fn switch_colour(&mut self, colour: ColourPreset) -> Result<(), ClientError> {
        self.colour = colour;
        self.colour_map.clear();
        if let Some(fb) = &mut self.fb {
            fb.set_pixel_format(colour.pixel_format());
            fb.set_palette(colour.palette());
        }
        self.events.push_back(ViewerEvent::ColourChanged(colour));
        self.need_full = true;
        self.request()
    }

    fn send_encodings(&mut self) -> Result<(), ClientError> {
        let list = self.encoding_list();
        self.send(&ClientMessage::SetEncodings(list))
    }

    /// The SetEncodings list: pixel encodings, levels, then pseudo-encodings.
    fn encoding_list(&self) -> Vec<Encoding> {
        let pref = &self.config.encodings;
        let mut list = match pref.preferred {
            Some(_) => pref.encodings(),
            None => EncodingPreference {
                preferred: Some(self.link.encoding()),
                ..pref.clone()
            }
            .encodings(),
        };
        let (auto_compress, auto_quality) = self.link.levels();
        list.push(Encoding::for_compress_level(
            pref.compress.unwrap_or(auto_compress),
        ));
        match (pref.quality, pref.preferred) {
            (Some(q), _) => list.push(Encoding::for_quality_level(q)),
            (None, None) => list.push(Encoding::for_quality_level(auto_quality)),
            (None, Some(_)) => {}
        }
        if self.config.cursor_shape {
            list.extend([
                Encoding::CURSOR_WITH_ALPHA,
                Encoding::CURSOR,
                Encoding::X_CURSOR,
                Encoding::POINTER_POS,
            ]);
        }
        list.extend([
            Encoding::EXTENDED_DESKTOP_SIZE,
            Encoding::DESKTOP_SIZE,
            Encoding::LAST_RECT,
            Encoding::DESKTOP_NAME,
            Encoding::FENCE,
            Encoding::CONTINUOUS_UPDATES,
            Encoding::QEMU_EXTENDED_KEY_EVENT,
            Encoding::EXTENDED_MOUSE_BUTTONS,
            Encoding::XVP,
            Encoding::EXTENDED_CLIPBOARD,
        ]);
        list
    }

    fn caps_changed(&mut self) {
        self.events
            .push_back(ViewerEvent::Capabilities(self.caps.clone()));
    }

    /// Feeds one update's size and arrival time to automatic selection.
    fn sample(&mut self, bytes: u64, took: Duration, now: Instant) -> Result<(), ClientError> {
        if bytes < SAMPLE_MIN_BYTES || took < SAMPLE_MIN_TIME {
            return Ok(());
        }
        let micros = took.as_micros().max(1) as u64;
        // bits per millisecond = kbit/s
        let sample = bytes.saturating_mul(8).saturating_mul(1000) / micros;
        let kbps = match self.kbps {
            None => sample,
            Some(old) => {
                (old * (KBPS_EMA_DIV - KBPS_EMA_NEW) + sample * KBPS_EMA_NEW) / KBPS_EMA_DIV
            }
        };
        self.kbps = Some(kbps);
        let class = LinkClass::of(kbps);
        let held = self
            .link_changed
            .is_some_and(|t| now.saturating_duration_since(t) < AUTO_HOLD);
        if class == self.link || held || self.config.encodings.preferred.is_some() {
            return Ok(());
        }
        self.link = class;
        self.link_changed = Some(now);
        self.events
            .push_back(ViewerEvent::LinkClassChanged { class, kbps });
        self.send_encodings()?;
        if self.config.auto_colour && self.config.colour == ColourPreset::Full {
            let colour = if class == LinkClass::Slow {
                ColourPreset::Few8
            } else {
                ColourPreset::Full
            };
            self.want_colour(colour)?;
        }
        Ok(())
    }
}

fn bounding(rects: &[Rect]) -> Rect {
    let x0 = rects.iter().map(|r| u32::from(r.x)).min().unwrap_or(0);
    let y0 = rects.iter().map(|r| u32::from(r.y)).min().unwrap_or(0);
    let x1 = rects.iter().map(Rect::right).max().unwrap_or(0);
    let y1 = rects.iter().map(Rect::bottom).max().unwrap_or(0);
    // Every rect was checked against the framebuffer, so the sizes fit in u16.
    Rect::new(
        x0 as u16,
        y0 as u16,
        (x1 - x0).min(u32::from(u16::MAX)) as u16,
        (y1 - y0).min(u32::from(u16::MAX)) as u16,
    )
}
