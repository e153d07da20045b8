//! The normal phase: what the connection handles itself (formats, encodings, update
//! requests, continuous updates, fences, clipboard negotiation) and the commands the
//! product gives a viewer.

use bytes::{Buf, BytesMut};
use rfb_codec::cursor::CursorImage;
use rfb_codec::{Framebuffer, Palette, Region};
use rfb_proto::clipboard::{Actions, ExtendedClipboard, Formats};
use rfb_proto::server::{ExtendedDesktopSize, SetColourMapEntries};
use rfb_proto::{
    ClientMessage, CutText, Encoding, Error as ProtoError, Fence, PeerMisbehaved, PixelFormat,
    Progress, Rect, Screen, ServerInit, ServerMessage,
};

use crate::clipboard;
use crate::connection::{Cx, State, Step};
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
                updater: Updater::new(),
                client_clip: None,
                our_text: None,
                resize_requested: false,
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
                v.features = Features::from_list(list);
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
            // Fence responses; input and classic cut text from a view-only viewer.
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

    /// Switches the viewer between view-only (its key, pointer, QEMU key, xvp, cut-text
    /// and SetDesktopSize messages are dropped) and control. May be called at any time,
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
    /// viewer asked for one (or has continuous updates), something is due, and fewer
    /// than [`ServerConfig::update_budget`](crate::ServerConfig::update_budget) bytes
    /// are waiting to be sent.
    pub fn wants_update(&self) -> bool {
        match self.normal() {
            Some(v) => {
                v.updater.may_send()
                    && v.updater.has_content()
                    && self.out.len() < self.config.update_budget
            }
            None => false,
        }
    }

    /// Encodes one FramebufferUpdate from `frame` (the whole screen, in the server's
    /// native pixel format) if [`wants_update`](Self::wants_update); returns whether it
    /// did. A frame of a new size resizes the viewer (DesktopSize or
    /// ExtendedDesktopSize; a viewer that supports neither is disconnected).
    pub fn write_update(&mut self, frame: &Framebuffer) -> Result<bool, ServerError> {
        let budget = self.config.update_budget;
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
        let (width, height) = (v.width, v.height);
        if let Err(e) = result {
            self.state = Err(e.clone());
            return Err(e);
        }
        self.desktop.width = width;
        self.desktop.height = height;
        Ok(wrote)
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
    pub fn set_cursor(&mut self, cursor: CursorImage) -> Result<(), ServerError> {
        let (v, _) = self.normal_mut()?;
        if v.features.cursor.is_some() {
            v.updater.cursor = Some(cursor);
        }
        Ok(())
    }

    /// An estimate of the memory this connection holds beyond the frames it is handed:
    /// queued output, unparsed input and scratch buffers, in bytes.
    pub fn memory_estimate(&self) -> usize {
        self.out.capacity()
            + self.inbuf.capacity()
            + self.normal().map_or(0, |v| v.updater.scratch_capacity())
    }
}
