//! The normal phase: what the connection handles itself (formats, encodings, update
//! requests, continuous updates, fences, clipboard negotiation) and the commands the
//! product gives a viewer.

use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use rfb_codec::cursor::CursorImage;
use rfb_codec::{Framebuffer, Palette, Region};
use rfb_proto::client::Xvp;
use rfb_proto::clipboard::{Actions, ExtendedClipboard, Formats};
use rfb_proto::server::{ExtendedDesktopSize, SetColourMapEntries};
use rfb_proto::{
    ClientMessage, CutText, Encoding, Error as ProtoError, Fence, PeerMisbehaved, PixelFormat,
    Progress, Rect, Screen, ServerInit, ServerMessage,
};

use crate::clipboard;
use crate::connection::{Cx, State, Step};
use crate::flow::Congestion;
use crate::update::{Features, Updater};
use crate::{PendingUpdate, ServerConnection, ServerError, ServerEvent};

/// The normal phase: the viewer's negotiated state.
pub(crate) struct Normal {
    v: Box<Viewer>,
}

struct Viewer {
    native: PixelFormat,
    format: PixelFormat,
    palette: Option<Palette>,
    width: u16,
    height: u16,
    screens: Vec<Screen>,
    shared: bool,
    encodings: Vec<Encoding>,
    features: Features,
    /// Extensions whose first listing we already answered.
    announced: Features,
    updater: Updater,
    /// The viewer's Extended Clipboard capabilities, once it sent them.
    client_clip: Option<(Formats, Actions, Vec<u32>)>,
    /// Our clipboard text, kept to answer an Extended Clipboard Request.
    our_text: Option<String>,
    resize_requested: bool,
    /// The product's current cursor shape, kept for a viewer that lists a cursor
    /// encoding only later (or again, in another SetEncodings).
    cursor_shape: Option<CursorImage>,
    /// ExtendedMouseButtons was confirmed.
    ext_mouse_announced: bool,
    /// XVP_INIT was sent.
    xvp_announced: bool,
    /// Fence-based flow control (used while continuous updates are on).
    flow: Congestion,
}

impl Viewer {
    /// Whether updates are paced by fences: the viewer answers fences and does not
    /// ask for each update.
    fn flow_controlled(&self) -> bool {
        self.features.fence && self.updater.continuous.is_some()
    }
}

impl Normal {
    pub(crate) fn new(desktop: &ServerInit, shared: bool) -> Normal {
        Normal {
            v: Box::new(Viewer {
                native: desktop.pixel_format,
                format: desktop.pixel_format,
                palette: None,
                width: desktop.width,
                height: desktop.height,
                screens: vec![default_screen(desktop.width, desktop.height)],
                shared,
                encodings: Vec::new(),
                features: Features::default(),
                announced: Features::default(),
                updater: Updater::new(&desktop.pixel_format),
                client_clip: None,
                our_text: None,
                resize_requested: false,
                cursor_shape: None,
                ext_mouse_announced: false,
                xvp_announced: false,
                flow: Congestion::default(),
            }),
        }
    }

    pub(crate) fn advance(mut self, cx: &mut Cx<'_>) -> Result<Step, ServerError> {
        // Back-pressure: stop parsing while the product has not taken its events or the
        // replies we generate have not been sent.
        if cx.events.len() >= cx.config.max_pending_events
            || cx.out.len() >= cx.config.update_budget
        {
            return Ok(Step::Wait(State::Normal(self)));
        }
        match ClientMessage::decode(cx.inbuf, cx.parse_state, &cx.config.limits)? {
            Progress::Done { item, consumed } => {
                cx.inbuf.advance(consumed);
                self.handle(item, cx)?;
                Ok(Step::Next(State::Normal(self)))
            }
            Progress::NeedMore { at_least } => {
                cx.inbuf.reserve(at_least.saturating_sub(cx.inbuf.len()));
                Ok(Step::Wait(State::Normal(self)))
            }
        }
    }

    fn handle(&mut self, msg: ClientMessage, cx: &mut Cx<'_>) -> Result<(), ServerError> {
        let v = &mut self.v;
        match msg {
            ClientMessage::SetPixelFormat(pf) => {
                v.palette = Palette::for_format(&pf);
                if let Some(p) = &v.palette {
                    ServerMessage::from(SetColourMapEntries {
                        first: 0,
                        colours: p
                            .entries()
                            .iter()
                            .map(|c| rfb_proto::server::Colour {
                                red: c[0],
                                green: c[1],
                                blue: c[2],
                            })
                            .collect(),
                    })
                    .encode(cx.out);
                }
                v.format = pf;
                v.updater.set_formats(&v.native, &pf, v.palette.as_ref())?;
                cx.events.push_back(ServerEvent::Message(msg));
            }
            ClientMessage::SetEncodings(ref list) => {
                let had_cursor = v.features.cursor;
                v.features = Features::from_list(list);
                if v.features.cursor.is_some() && v.features.cursor != had_cursor {
                    // Newly able to show a cursor (or in another form): send the current one.
                    v.updater.cursor.clone_from(&v.cursor_shape);
                }
                v.encodings.clone_from(list);
                v.updater.set_encodings(list, &v.features);
                let f = v.features;
                if f.fence && !v.announced.fence {
                    v.announced.fence = true;
                    // Announces Fence support; the viewer answers, we ignore the answer.
                    Fence {
                        flags: Fence::REQUEST,
                        payload: bytes::Bytes::new(),
                    }
                    .encode(cx.out);
                }
                if f.continuous_updates && !v.announced.continuous_updates {
                    v.announced.continuous_updates = true;
                    ServerMessage::EndOfContinuousUpdates.encode(cx.out);
                }
                if f.extended_clipboard && !v.announced.extended_clipboard {
                    v.announced.extended_clipboard = true;
                    let caps = ExtendedClipboard::Caps {
                        formats: Formats::TEXT,
                        actions: Actions::CAPS
                            | Actions::REQUEST
                            | Actions::PEEK
                            | Actions::NOTIFY
                            | Actions::PROVIDE,
                        max_sizes: vec![cx.config.limits.max_cut_text],
                    };
                    ServerMessage::ServerCutText(CutText::Extended(caps)).encode(cx.out);
                }
                if f.qemu_key && !v.announced.qemu_key {
                    v.announced.qemu_key = true;
                    v.updater.qemu_key_ack = true;
                }
                let ext_mouse = list.contains(&Encoding::EXTENDED_MOUSE_BUTTONS);
                // From now on the viewer may send the extended PointerEvent form (a
                // viewer that lists the extension keeps the marker bit clear until it
                // has the confirmation, so switching the parser at once is safe).
                cx.parse_state.extended_mouse_buttons = ext_mouse;
                if ext_mouse && !v.ext_mouse_announced {
                    v.ext_mouse_announced = true;
                    v.updater.ext_mouse_ack = true;
                }
                if list.contains(&Encoding::XVP) && cx.config.xvp && !v.xvp_announced {
                    v.xvp_announced = true;
                    ServerMessage::Xvp(Xvp {
                        version: XVP_VERSION,
                        code: Xvp::INIT,
                    })
                    .encode(cx.out);
                }
                if f.extended_desktop_size && !v.announced.extended_desktop_size {
                    // Tells the viewer the layout (and that SetDesktopSize is understood).
                    v.announced.extended_desktop_size = true;
                    v.updater.layout_reply = Some((ExtendedDesktopSize::REASON_SERVER, 0));
                }
                cx.events.push_back(ServerEvent::Message(msg));
            }
            ClientMessage::FramebufferUpdateRequest(req) => {
                let area = req.rect.clip_to(v.width, v.height);
                if !req.incremental {
                    v.updater.pending.add_rect(area);
                }
                // An empty area still asks for an update (pseudo-rectangles may be due).
                if area.is_empty() {
                    v.updater.requested.add_rect(Rect::new(0, 0, 1, 1));
                } else {
                    v.updater.requested.add_rect(area);
                }
                cx.events.push_back(ServerEvent::Message(msg));
            }
            ClientMessage::EnableContinuousUpdates(ecu) => {
                if !v.features.continuous_updates {
                    return Err(ProtoError::from(PeerMisbehaved::NotNegotiated(
                        "EnableContinuousUpdates",
                    ))
                    .into());
                }
                if ecu.enable {
                    v.updater.continuous = Some(ecu.rect.clip_to(v.width, v.height));
                } else {
                    v.updater.continuous = None;
                    ServerMessage::EndOfContinuousUpdates.encode(cx.out);
                }
                cx.events.push_back(ServerEvent::Message(msg));
            }
            // We process messages strictly in order and answer at once, so every flag we
            // know (block before/after, sync next) is honoured. Responses need nothing.
            ClientMessage::Fence(f) if f.is_request() => {
                ServerMessage::Fence(f.response()).encode(cx.out);
            }
            ClientMessage::Fence(f) => {
                v.flow.on_response(&f, cx.now);
            }
            // Refused at once when the product does not do xvp, or the viewer may not.
            ClientMessage::Xvp(x) if cx.view_only || !cx.config.xvp => {
                ServerMessage::Xvp(Xvp {
                    version: x.version,
                    code: Xvp::FAIL,
                })
                .encode(cx.out);
            }
            ClientMessage::KeyEvent(_)
            | ClientMessage::PointerEvent(_)
            | ClientMessage::QemuKeyEvent(_)
            | ClientMessage::Xvp(_)
                if !cx.view_only =>
            {
                cx.events.push_back(ServerEvent::Message(msg));
            }
            ClientMessage::ClientCutText(CutText::Latin1(bytes)) if !cx.view_only => {
                cx.events
                    .push_back(ServerEvent::ClipboardText(rfb_proto::decode_text(&bytes)));
            }
            ClientMessage::ClientCutText(CutText::Extended(ext)) => {
                if !v.features.extended_clipboard {
                    return Err(ProtoError::from(PeerMisbehaved::NotNegotiated(
                        "Extended Clipboard",
                    ))
                    .into());
                }
                self.extended_clipboard(ext, cx)?;
            }
            ClientMessage::SetDesktopSize(req) => {
                if cx.view_only || v.resize_requested {
                    let status = if cx.view_only {
                        ExtendedDesktopSize::STATUS_PROHIBITED
                    } else {
                        ExtendedDesktopSize::STATUS_OUT_OF_RESOURCES
                    };
                    v.updater.layout_reply = Some((ExtendedDesktopSize::REASON_CLIENT, status));
                } else {
                    v.resize_requested = true;
                    cx.events.push_back(ServerEvent::DesktopSizeRequested(req));
                }
            }
            // Input and classic cut text from a view-only viewer.
            _ => {}
        }
        Ok(())
    }

    fn extended_clipboard(
        &mut self,
        ext: ExtendedClipboard,
        cx: &mut Cx<'_>,
    ) -> Result<(), ServerError> {
        let v = &mut self.v;
        match ext {
            ExtendedClipboard::Caps {
                formats,
                actions,
                max_sizes,
            } => v.client_clip = Some((formats, actions, max_sizes)),
            ExtendedClipboard::Notify(formats) => {
                if formats.contains(rfb_proto::clipboard::Format::TEXT) && !cx.view_only {
                    send_ext(cx.out, ExtendedClipboard::Request(Formats::TEXT));
                }
            }
            ExtendedClipboard::Request(formats) => {
                if formats.contains(rfb_proto::clipboard::Format::TEXT) {
                    if let Some(text) = &v.our_text {
                        send_ext(cx.out, clipboard::provide_text(text));
                    }
                }
            }
            ExtendedClipboard::Peek => {
                let formats = if v.our_text.is_some() {
                    Formats::TEXT
                } else {
                    Formats(0)
                };
                send_ext(cx.out, ExtendedClipboard::Notify(formats));
            }
            ExtendedClipboard::Provide { formats, zlib } => {
                if cx.view_only {
                    return Ok(());
                }
                if let Some(text) =
                    clipboard::read_provided_text(formats, &zlib, &cx.config.limits)?
                {
                    cx.events.push_back(ServerEvent::ClipboardText(text));
                }
            }
        }
        Ok(())
    }
}

/// Capacity a buffer keeps when [`ServerConnection::shrink_buffers`] releases memory.
const KEEP_BUFFER: usize = 4 << 10;

/// The highest xvp version this crate speaks (the only one defined).
const XVP_VERSION: u8 = 1;

fn send_ext(out: &mut BytesMut, ext: ExtendedClipboard) {
    ServerMessage::ServerCutText(CutText::Extended(ext)).encode(out);
}

fn default_screen(width: u16, height: u16) -> Screen {
    Screen {
        id: 0,
        rect: Rect::new(0, 0, width, height),
        flags: 0,
    }
}

/// Commands and getters of the normal phase.
impl ServerConnection {
    fn normal(&self) -> Option<&Viewer> {
        match &self.state {
            Ok(State::Normal(n)) => Some(&n.v),
            _ => None,
        }
    }

    fn normal_mut(&mut self) -> Result<(&mut Viewer, &mut BytesMut), ServerError> {
        match &mut self.state {
            Ok(State::Normal(n)) => Ok((&mut n.v, &mut self.out)),
            Ok(_) => Err(ServerError::ApiMisuse(
                "this command is only valid in the normal phase",
            )),
            Err(e) => Err(e.clone()),
        }
    }

    /// True while the connection can take more input: a driver stops reading while this
    /// is false, so a client that floods messages is held back by TCP instead of growing
    /// our queues. It is false while [`ServerConfig::max_pending_events`] events wait in
    /// [`poll_event`](Self::poll_event) or [`ServerConfig::update_budget`] bytes wait in
    /// [`poll_transmit`](Self::poll_transmit), and after a fatal error.
    ///
    /// [`ServerConfig::max_pending_events`]: crate::ServerConfig::max_pending_events
    /// [`ServerConfig::update_budget`]: crate::ServerConfig::update_budget
    pub fn wants_input(&self) -> bool {
        self.state.is_ok()
            && self.events.len() < self.config.max_pending_events
            && self.out.len() < self.config.update_budget
            && self.inbuf.len() < self.config.update_budget
    }

    /// The viewer's shared flag from ClientInit (false: it asked for exclusive access;
    /// the driver disconnects the others). `None` before the normal phase.
    pub fn is_shared(&self) -> Option<bool> {
        self.normal().map(|v| v.shared)
    }

    /// Whether input and clipboard from this viewer are dropped.
    pub fn is_view_only(&self) -> bool {
        self.view_only
    }

    /// Switches the viewer between view-only (its key, pointer, QEMU key, cut-text and
    /// SetDesktopSize messages are dropped, xvp requests answered XVP_FAIL) and control. May be called at any time,
    /// also before [`decide_auth`](Self::decide_auth), so that input pipelined behind
    /// ClientInit is already filtered. Default: control.
    pub fn set_view_only(&mut self, view_only: bool) -> Result<(), ServerError> {
        self.check()?;
        self.view_only = view_only;
        Ok(())
    }

    /// The pixel format the viewer wants (`None` before the normal phase).
    pub fn client_pixel_format(&self) -> Option<PixelFormat> {
        self.normal().map(|v| v.format)
    }

    /// The viewer's encoding list, as last sent (empty before SetEncodings).
    pub fn client_encodings(&self) -> &[Encoding] {
        self.normal().map(|v| &v.encodings[..]).unwrap_or(&[])
    }

    /// The pixel encoding updates are written in (the first of the viewer's list this
    /// crate can encode; Raw when none).
    pub fn update_encoding(&self) -> Option<Encoding> {
        self.normal().map(|v| v.updater.encoding())
    }

    /// True while continuous updates are enabled.
    pub fn continuous_updates(&self) -> bool {
        self.normal()
            .is_some_and(|v| v.updater.continuous.is_some())
    }

    /// Adds changes the viewer has not been sent (from [`Session::take`](crate::Session::take)).
    /// Ignored before the normal phase (the first update request asks for everything).
    pub fn add_pending(&mut self, pending: PendingUpdate) {
        if let Ok(State::Normal(n)) = &mut self.state {
            n.v.updater.pending.merge(pending);
        }
    }

    /// Marks `region` changed for this viewer (without a [`Session`](crate::Session)).
    pub fn add_damage(&mut self, region: &Region) {
        if let Ok(State::Normal(n)) = &mut self.state {
            n.v.updater.pending.add_region(region);
        }
    }

    /// True if [`write_update`](Self::write_update) would write an update now: the
    /// viewer asked for one (or has continuous updates), something is due, fewer than
    /// [`ServerConfig::update_budget`](crate::ServerConfig::update_budget) bytes are
    /// waiting to be sent, and (continuous updates with Fence) fewer than the
    /// [`congestion_window`](Self::congestion_window) bytes are unacknowledged. Also
    /// true when the window is full and a fence must be sent to learn when it empties
    /// (then `write_update` sends only that fence).
    pub fn wants_update(&self) -> bool {
        let pos = self.stream_position();
        match self.normal() {
            Some(v) => {
                v.updater.may_send()
                    && v.updater.has_content()
                    && self.out.len() < self.config.update_budget
                    && (!v.flow_controlled()
                        || !v.flow.is_congested(pos)
                        || v.flow.needs_fence(pos))
            }
            None => false,
        }
    }

    /// Bytes queued for the viewer since the connection began (taken by
    /// `poll_transmit` or still waiting).
    fn stream_position(&self) -> u64 {
        self.taken + self.out.len() as u64
    }

    /// Encodes one FramebufferUpdate from `frame` (the whole screen, in the server's
    /// native pixel format) if [`wants_update`](Self::wants_update); returns whether it
    /// did. A frame of a new size resizes the viewer (DesktopSize or
    /// ExtendedDesktopSize; a viewer that supports neither is disconnected).
    ///
    /// Without a time, fence-based flow control still waits for fence answers but
    /// cannot measure round trips, so the window stays at its initial size: drivers
    /// use [`write_update_at`](Self::write_update_at).
    pub fn write_update(&mut self, frame: &Framebuffer) -> Result<bool, ServerError> {
        self.write_update_inner(frame, None)
    }

    /// [`write_update`](Self::write_update) at `now`: with continuous updates and
    /// Fence, the update is followed by a fence whose answer measures the round trip
    /// (see [`congestion_window`](Self::congestion_window)).
    pub fn write_update_at(
        &mut self,
        frame: &Framebuffer,
        now: Instant,
    ) -> Result<bool, ServerError> {
        self.write_update_inner(frame, Some(now))
    }

    fn write_update_inner(
        &mut self,
        frame: &Framebuffer,
        now: Option<Instant>,
    ) -> Result<bool, ServerError> {
        let budget = self.config.update_budget;
        let taken = self.taken;
        let position = move |out: &BytesMut| taken + out.len() as u64;
        let (v, out) = self.normal_mut()?;
        if frame.format() != &v.native {
            return Err(ServerError::ApiMisuse(
                "frame is not in the server's native pixel format",
            ));
        }
        if (frame.width(), frame.height()) != (v.width, v.height) {
            v.width = frame.width();
            v.height = frame.height();
            if v.screens.len() <= 1 {
                v.screens = vec![default_screen(v.width, v.height)];
            }
            v.updater.send_size = true;
            v.updater.pending.resized = true;
            v.updater.pending.copy = None;
            if let Some(c) = v.updater.continuous {
                v.updater.continuous = Some(c.clip_to(v.width, v.height));
            }
        }
        if !(v.updater.may_send() && v.updater.has_content() && out.len() < budget) {
            return Ok(false);
        }
        let flow = v.flow_controlled();
        if flow {
            v.flow.before_update(now);
            let pos = position(out);
            if v.flow.is_congested(pos) {
                if v.flow.needs_fence(pos) {
                    v.flow.send_fence(out, position, now, false);
                }
                return Ok(false);
            }
        }
        let before = out.len();
        let result = v.updater.write_update(
            frame,
            &v.format,
            v.palette.as_ref(),
            &v.features,
            &v.screens,
            out,
        );
        let wrote = out.len() > before;
        if result.is_err() {
            out.truncate(before);
        }
        if wrote && flow {
            v.flow.send_fence(out, position, now, true);
        }
        let (width, height) = (v.width, v.height);
        if let Err(e) = result {
            self.state = Err(e.clone());
            return Err(e);
        }
        self.desktop.width = width;
        self.desktop.height = height;
        Ok(wrote)
    }

    /// The congestion window of fence-based flow control, in bytes: while continuous
    /// updates are on and the viewer answers fences, no update is written while this
    /// many bytes are unacknowledged. `None` outside the normal phase.
    pub fn congestion_window(&self) -> Option<usize> {
        self.normal()
            .map(|v| usize::try_from(v.flow.window()).unwrap_or(usize::MAX))
    }

    /// Bytes queued for the viewer that no fence answer has acknowledged yet.
    pub fn bytes_in_flight(&self) -> Option<u64> {
        let pos = self.stream_position();
        self.normal().map(|v| v.flow.in_flight(pos))
    }

    /// The last round-trip time measured with a fence (sent with
    /// [`write_update_at`](Self::write_update_at), answered in
    /// [`handle_input_at`](Self::handle_input_at)).
    pub fn round_trip_time(&self) -> Option<Duration> {
        self.normal().and_then(|v| v.flow.rtt())
    }

    /// Tells the viewer that its xvp request (delivered as
    /// `ServerEvent::Message(ClientMessage::Xvp(request))`) failed: an XVP_FAIL with
    /// the request's version. Requests are only delivered with [`ServerConfig::xvp`]
    /// set; otherwise the connection answers XVP_FAIL itself.
    ///
    /// [`ServerConfig::xvp`]: crate::ServerConfig::xvp
    pub fn xvp_fail(&mut self, version: u8) -> Result<(), ServerError> {
        self.send(&ServerMessage::Xvp(Xvp {
            version,
            code: Xvp::FAIL,
        }))
    }

    /// Sets the screen layout reported in ExtendedDesktopSize (default: one screen, id
    /// 0, covering the framebuffer). Viewers that list ExtendedDesktopSize get it with
    /// their next update.
    pub fn set_screens(&mut self, screens: Vec<Screen>) -> Result<(), ServerError> {
        let (v, _) = self.normal_mut()?;
        v.screens = screens;
        if v.features.extended_desktop_size {
            v.updater.layout_reply = Some((ExtendedDesktopSize::REASON_SERVER, 0));
        }
        Ok(())
    }

    /// Answers [`ServerEvent::DesktopSizeRequested`] with an ExtendedDesktopSize status
    /// (`ExtendedDesktopSize::STATUS_OK` after handing the session the resized frame,
    /// or a refusal such as `STATUS_PROHIBITED`), sent with the next update.
    pub fn answer_desktop_size(&mut self, status: u16) -> Result<(), ServerError> {
        let (v, _) = self.normal_mut()?;
        if !v.resize_requested {
            return Err(ServerError::ApiMisuse("no desktop size request is pending"));
        }
        v.resize_requested = false;
        v.updater.layout_reply = Some((ExtendedDesktopSize::REASON_CLIENT, status));
        Ok(())
    }

    /// Rings the viewer's bell.
    pub fn bell(&mut self) -> Result<(), ServerError> {
        self.send(&ServerMessage::Bell)
    }

    /// Puts `text` on the viewer's clipboard: Extended Clipboard (UTF-8; announced with
    /// Notify, provided on Request, or provided at once to a viewer that accepts
    /// unsolicited data) when the viewer negotiated it and sent its capabilities,
    /// classic Latin-1 cut text otherwise. Returns whether anything was sent now.
    pub fn send_clipboard(&mut self, text: &str) -> Result<bool, ServerError> {
        let max = self.config.limits.max_cut_text as usize;
        let (v, out) = self.normal_mut()?;
        if text.len() > max {
            return Ok(false);
        }
        v.our_text = Some(text.to_owned());
        match (&v.client_clip, v.features.extended_clipboard) {
            (Some((formats, actions, sizes)), true)
                if formats.contains(rfb_proto::clipboard::Format::TEXT) =>
            {
                let limit = sizes.first().copied().unwrap_or(0) as usize;
                if actions.contains(Actions::NOTIFY) {
                    send_ext(out, ExtendedClipboard::Notify(Formats::TEXT));
                } else if actions.contains(Actions::PROVIDE) && text.len() < limit {
                    send_ext(out, clipboard::provide_text(text));
                } else {
                    return Ok(false);
                }
            }
            _ => ServerMessage::ServerCutText(CutText::from_text(text)).encode(out),
        }
        Ok(true)
    }

    /// Changes the desktop name; viewers that list DesktopName get it with their next
    /// update (others keep the ServerInit name).
    pub fn set_desktop_name(&mut self, name: impl Into<String>) -> Result<(), ServerError> {
        let name = name.into();
        self.desktop.name.clone_from(&name);
        let (v, _) = self.normal_mut()?;
        v.updater.name = Some(name);
        Ok(())
    }

    /// Sets the cursor shape; viewers that list Cursor With Alpha, Cursor or X Cursor
    /// get it (in the first of those their list names) with their next update.
    /// A viewer that lists a cursor encoding only later gets the shape set last.
    pub fn set_cursor(&mut self, cursor: CursorImage) -> Result<(), ServerError> {
        let (v, _) = self.normal_mut()?;
        if v.features.cursor.is_some() {
            v.updater.cursor = Some(cursor.clone());
        }
        v.cursor_shape = Some(cursor);
        Ok(())
    }

    /// Tells the viewer where the server's pointer is now (PointerPos pseudo-encoding,
    /// with its next update), for a viewer that lists PointerPos; others are not told.
    /// A product calls it when the pointer moved other than by this viewer's own
    /// PointerEvents (libvncserver's rule: the viewer already shows its own moves).
    /// Positions outside the framebuffer are not sent.
    pub fn set_pointer_position(&mut self, x: u16, y: u16) -> Result<(), ServerError> {
        let (v, _) = self.normal_mut()?;
        if v.features.pointer_pos {
            v.updater.pointer_pos = Some((x, y));
        }
        Ok(())
    }

    /// Releases buffers that grew beyond a few KiB for a large update (output, input,
    /// translation scratch) once they are empty, so an idle viewer costs about what a
    /// fresh one does; the encoders' zlib streams stay (the viewer's decoder continues
    /// them). Call when the transport has written everything
    /// [`poll_transmit`](Self::poll_transmit) returned and dropped those `Bytes`
    /// (they share the output buffer's allocation); the next update allocates again.
    pub fn shrink_buffers(&mut self) {
        if self.out.is_empty() && self.out.capacity() > KEEP_BUFFER {
            self.out = BytesMut::new();
        }
        if self.inbuf.is_empty() && self.inbuf.capacity() > KEEP_BUFFER {
            self.inbuf = BytesMut::new();
        }
        if let Ok(State::Normal(n)) = &mut self.state {
            n.v.updater.shrink_scratch(KEEP_BUFFER);
        }
    }

    /// An estimate of the memory this connection holds beyond the frames it is handed:
    /// queued output, unparsed input and scratch buffers, in bytes.
    pub fn memory_estimate(&self) -> usize {
        self.out.capacity()
            + self.inbuf.capacity()
            + self.normal().map_or(0, |v| v.updater.scratch_capacity())
    }
}

#[cfg(test)]
mod tests {
    //! Byte-level tests, the client side written from the spec.

    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use rfb_proto::client::{PointerEvent, Xvp};
    use rfb_proto::{ClientMessage, PixelFormat, Rect, ServerInit};

    use crate::flow::INITIAL_WINDOW;
    use crate::{AuthDecision, ServerConfig, ServerConnection, ServerEvent};

    const W: u16 = 256;
    const H: u16 = 256;

    /// A connection in the normal phase (3.8, None), its handshake output taken.
    fn connect(config: ServerConfig, now: Instant) -> ServerConnection {
        let desktop = ServerInit {
            width: W,
            height: H,
            pixel_format: PixelFormat::RGB888,
            name: "t".into(),
        };
        let mut c = ServerConnection::new(Arc::new(config), desktop, now);
        c.handle_input(b"RFB 003.008\n").unwrap();
        c.handle_input(&[1]).unwrap();
        assert!(matches!(
            c.poll_event(),
            Some(ServerEvent::AuthRequested { .. })
        ));
        c.decide_auth(AuthDecision::Accept).unwrap();
        c.handle_input(&[1]).unwrap();
        while c.poll_event().is_some() {}
        drain(&mut c);
        c
    }

    fn drain(c: &mut ServerConnection) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(b) = c.poll_transmit() {
            all.extend_from_slice(&b);
        }
        all
    }

    /// SetEncodings (type 2, padding, count, S32 each).
    fn set_encodings(list: &[i32]) -> Vec<u8> {
        let mut m = vec![2, 0];
        m.extend_from_slice(&(list.len() as u16).to_be_bytes());
        for e in list {
            m.extend_from_slice(&e.to_be_bytes());
        }
        m
    }

    /// Raw (0), Fence (-312), ContinuousUpdates (-313).
    const FLOW_ENCODINGS: [i32; 3] = [0, -312, -313];
    /// EnableContinuousUpdates (type 150) of the whole screen.
    const ENABLE_CU: [u8; 10] = [150, 1, 0, 0, 0, 0, 1, 0, 1, 0];

    fn flow_viewer(now: Instant) -> ServerConnection {
        let mut config = ServerConfig::no_auth();
        config.update_budget = 64 << 20; // out of the way: the window must do the work
        let mut c = connect(config, now);
        c.handle_input(&set_encodings(&FLOW_ENCODINGS)).unwrap();
        let init = drain(&mut c);
        // Fence announcement (Request, empty payload), then EndOfContinuousUpdates.
        assert_eq!(init, [248, 0, 0, 0, 0x80, 0, 0, 0, 0, 150]);
        c.handle_input(&ENABLE_CU).unwrap();
        assert!(c.continuous_updates());
        c
    }

    /// One 32x32 change.
    fn damage(c: &mut ServerConnection) {
        c.add_damage(&rfb_codec::Region::from(Rect::new(0, 0, 32, 32)));
    }

    /// One change, written as an update at `now`; returns the bytes sent.
    fn one_update(
        c: &mut ServerConnection,
        frame: &rfb_codec::Framebuffer,
        now: Instant,
    ) -> Vec<u8> {
        damage(c);
        assert!(c.write_update_at(frame, now).unwrap());
        drain(c)
    }

    /// The fence that ends an update: ServerFence, flags BlockBefore|Request, a
    /// 5-byte payload. Returns the ClientFence answer (flags BlockBefore, same payload).
    fn answer_to(update: &[u8]) -> Vec<u8> {
        let fence = &update[update.len() - 14..];
        assert_eq!(fence[..9], [248, 0, 0, 0, 0x80, 0, 0, 0x01, 5]);
        let mut answer = vec![248, 0, 0, 0, 0, 0, 0, 0x01, 5];
        answer.extend_from_slice(&fence[9..]);
        answer
    }

    #[test]
    fn a_viewer_that_never_answers_fences_gets_at_most_the_window() {
        let t0 = Instant::now();
        let mut c = flow_viewer(t0);
        let frame = rfb_codec::Framebuffer::new(W, H, PixelFormat::RGB888);
        let mut sent = 0usize;
        let mut updates = Vec::new();
        for _ in 0..100 {
            damage(&mut c);
            if !c.wants_update() {
                break;
            }
            let u = one_update(&mut c, &frame, t0);
            // 4 (header) + 12 (rectangle) + 32*32*4 (Raw) + 14 (fence).
            assert_eq!(u.len(), 4 + 12 + 4096 + 14);
            sent += u.len();
            updates.push(u);
        }
        // It stopped: everything but the update that crossed the window fit in it.
        assert!(!c.write_update_at(&frame, t0).unwrap());
        assert!(drain(&mut c).is_empty());
        let last = updates.last().unwrap().len();
        assert!(sent - last < INITIAL_WINDOW as usize, "{sent}");
        assert!(sent >= INITIAL_WINDOW as usize - 100);
        assert_eq!(
            c.bytes_in_flight().unwrap() as usize,
            sent + 12 + 2 + 4 + 25 + 10
        );

        // Answering the last fence acknowledges everything and measures the RTT.
        let t1 = t0 + Duration::from_millis(20);
        c.handle_input_at(&answer_to(updates.last().unwrap()), t1)
            .unwrap();
        assert_eq!(c.bytes_in_flight(), Some(0));
        assert_eq!(c.round_trip_time(), Some(Duration::from_millis(20)));
        assert!(c.wants_update());
        assert!(!one_update(&mut c, &frame, t1).is_empty());
    }

    #[test]
    fn answers_open_the_window_on_a_fast_link() {
        let t0 = Instant::now();
        let mut c = flow_viewer(t0);
        let frame = rfb_codec::Framebuffer::new(W, H, PixelFormat::RGB888);
        let mut t = t0;
        let start = c.congestion_window().unwrap();
        assert_eq!(start as u64, INITIAL_WINDOW);
        // Each round: fill the window with 64x64 updates (each alone larger than the
        // first window), then the answers come back 5 ms after each was sent.
        for _ in 0..12 {
            let mut fences = Vec::new();
            while {
                c.add_damage(&rfb_codec::Region::from(Rect::new(0, 0, 64, 64)));
                c.wants_update()
            } {
                assert!(c.write_update_at(&frame, t).unwrap());
                fences.push((t, answer_to(&drain(&mut c))));
                t += Duration::from_micros(100);
            }
            for (sent, f) in fences {
                c.handle_input_at(&f, sent + Duration::from_millis(5))
                    .unwrap();
            }
            t += Duration::from_millis(5);
            assert_eq!(c.bytes_in_flight(), Some(0));
        }
        assert_eq!(c.round_trip_time(), Some(Duration::from_millis(5)));
        assert!(
            c.congestion_window().unwrap() > 4 * start,
            "slow start doubles: {:?}",
            c.congestion_window()
        );
    }

    #[test]
    fn bytes_after_the_last_fence_get_a_fence_of_their_own() {
        let t0 = Instant::now();
        let mut c = flow_viewer(t0);
        let frame = rfb_codec::Framebuffer::new(W, H, PixelFormat::RGB888);
        let u = one_update(&mut c, &frame, t0);
        c.handle_input_at(&answer_to(&u), t0).unwrap();
        // Clipboard text larger than the window, then no update for a while.
        c.send_clipboard(&"x".repeat(20_000)).unwrap();
        drain(&mut c);
        damage(&mut c);
        assert!(c.wants_update(), "a fence is due");
        assert!(!c.write_update_at(&frame, t0).unwrap());
        let fence = drain(&mut c);
        assert_eq!(fence.len(), 14);
        assert!(!c.wants_update());
        c.handle_input_at(&answer_to(&fence), t0).unwrap();
        assert!(c.wants_update());
    }

    #[test]
    fn extended_mouse_buttons_are_confirmed_and_parsed() {
        let mut c = connect(ServerConfig::no_auth(), Instant::now());
        // Raw, ExtendedMouseButtons (-316); then a FramebufferUpdateRequest.
        c.handle_input(&set_encodings(&[0, -316])).unwrap();
        c.handle_input(&[3, 1, 0, 0, 0, 0, 0, 1, 0, 1]).unwrap();
        while c.poll_event().is_some() {}
        let frame = rfb_codec::Framebuffer::new(W, H, PixelFormat::RGB888);
        assert!(c.write_update(&frame).unwrap());
        // FramebufferUpdate with one empty pseudo-rectangle of encoding -316.
        assert_eq!(
            drain(&mut c),
            [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0xc4]
        );
        // Extended PointerEvent: marker bit + left, x 10, y 20, extended mask bit 1
        // (button 9, forward).
        c.handle_input(&[5, 0x81, 0, 10, 0, 20, 0x02]).unwrap();
        assert_eq!(
            c.poll_event(),
            Some(ServerEvent::Message(ClientMessage::PointerEvent(
                PointerEvent {
                    buttons: PointerEvent::LEFT | PointerEvent::FORWARD,
                    x: 10,
                    y: 20
                }
            )))
        );
        // The classic form still parses.
        c.handle_input(&[5, 0x04, 0, 1, 0, 2]).unwrap();
        assert_eq!(
            c.poll_event(),
            Some(ServerEvent::Message(ClientMessage::PointerEvent(
                PointerEvent {
                    buttons: PointerEvent::RIGHT,
                    x: 1,
                    y: 2
                }
            )))
        );
        // Listed again: not confirmed twice.
        c.handle_input(&set_encodings(&[0, -316])).unwrap();
        c.handle_input(&[3, 1, 0, 0, 0, 0, 0, 1, 0, 1]).unwrap();
        while c.poll_event().is_some() {}
        assert!(!c.write_update(&frame).unwrap());
    }

    #[test]
    fn xvp_init_requests_and_failures() {
        let mut config = ServerConfig::no_auth();
        config.xvp = true;
        let mut c = connect(config, Instant::now());
        // Raw, xvp (-309): the server answers XVP_INIT, version 1.
        c.handle_input(&set_encodings(&[0, -309])).unwrap();
        assert_eq!(drain(&mut c), [250, 0, 1, 1]);
        while c.poll_event().is_some() {}
        // XVP_REBOOT goes to the product, which may answer XVP_FAIL.
        c.handle_input(&[250, 0, 1, 3]).unwrap();
        assert_eq!(
            c.poll_event(),
            Some(ServerEvent::Message(ClientMessage::Xvp(Xvp {
                version: 1,
                code: Xvp::REBOOT
            })))
        );
        c.xvp_fail(1).unwrap();
        assert_eq!(drain(&mut c), [250, 0, 1, 0]);
        // A view-only viewer's request fails at once.
        c.set_view_only(true).unwrap();
        c.handle_input(&[250, 0, 1, 2]).unwrap();
        assert_eq!(c.poll_event(), None);
        assert_eq!(drain(&mut c), [250, 0, 1, 0]);
    }

    #[test]
    fn without_product_support_xvp_is_not_offered_and_fails() {
        let mut c = connect(ServerConfig::no_auth(), Instant::now());
        c.handle_input(&set_encodings(&[0, -309])).unwrap();
        assert_eq!(drain(&mut c), []);
        while c.poll_event().is_some() {}
        c.handle_input(&[250, 0, 1, 4]).unwrap();
        assert_eq!(c.poll_event(), None);
        assert_eq!(drain(&mut c), [250, 0, 1, 0]);
    }
}
