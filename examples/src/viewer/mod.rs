//! The `rfb-viewer` window: winit + softbuffer over `rfb_client::driver`.
//!
//! The tokio runtime runs the connection task and a forwarder that turns
//! [`ViewerEvent`]s into winit user events; the winit loop on the main thread draws the
//! shared [`Frame`](rfb_client::driver::Frame) and turns keyboard and pointer input
//! into [`Command`]s.
//!
//! Clipboard text goes both ways through the X11 clipboard (arboard): the server's
//! text is put on the local clipboard; the local clipboard is sent to the server when
//! the window gains focus (as TigerVNC's viewer does) and with F8 P.
//!
//! Remote resize (`--remote-resize`, toggled with F8 W): when the window changes size
//! and then stays that size for [`RESIZE_DEBOUNCE`], the viewer asks the server
//! (SetDesktopSize) for a one-screen desktop of the window's size; the server's answer
//! is printed. It needs a server that announced ExtendedDesktopSize and is off while a
//! single monitor is shown.
//!
//! Monitor choice (`--monitor N`, F8 M cycles): on a multi-screen server the window
//! shows only screen N of the layout the server reports.

pub mod keymap;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rfb_client::driver::{self, Command, ViewerHandle};
use rfb_client::{EncodingPreference, ViewerConfig, ViewerEvent, VncAddress};
use rfb_codec::ColourPreset;
use rfb_proto::client::PointerEvent;
use rfb_proto::{Rect, Screen};
use winit::application::ApplicationHandler;
use winit::dpi::{PhysicalPosition, PhysicalSize};
use winit::event::{ElementState, MouseButton, MouseScrollDelta, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop, EventLoopProxy};
use winit::keyboard::{Key, KeyCode, PhysicalKey};
use winit::platform::modifier_supplement::KeyEventExtModifierSupplement;
use winit::window::{CustomCursor, Window, WindowId};

/// How the framebuffer is shown in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// Scaled (keeping its aspect ratio) to fill the window.
    Fit,
    /// One framebuffer pixel per window pixel, from the top-left corner.
    Actual,
}

/// What the viewer was started with.
#[derive(Debug, Clone)]
pub struct Options {
    /// Server address (or, with `listen`, the port to listen on is `addr.port`).
    pub addr: VncAddress,
    /// Wait for a reverse connection instead of connecting.
    pub listen: bool,
    /// VNC password (otherwise asked on the terminal when needed).
    pub password: Option<String>,
    /// Start in view-only mode.
    pub view_only: bool,
    /// Encoding preference.
    pub encodings: EncodingPreference,
    /// Colour mode.
    pub colour: ColourPreset,
    /// Scaling.
    pub scale: Scale,
    /// Show only this screen (0-based index into the server's layout) of a
    /// multi-screen server.
    pub screen: Option<usize>,
    /// Ask the server to match the window size when the window is resized.
    pub remote_resize: bool,
    /// Give up on a server that stops answering (see
    /// [`ViewerConfig::idle_timeout`](rfb_client::ViewerConfig::idle_timeout)).
    pub idle_timeout: Option<Duration>,
}

/// How long the window size must stay the same before a remote resize is asked for.
pub const RESIZE_DEBOUNCE: Duration = Duration::from_millis(500);

/// The largest desktop a remote resize asks for (in each direction).
const MAX_REMOTE_SIZE: u32 = 16384;

/// Events from the network side to the window.
#[derive(Debug)]
pub enum UserEvent {
    /// A connection task started.
    Started(ViewerHandle),
    /// An event from the connection.
    Viewer(ViewerEvent),
    /// The connection ended, with the reason.
    Ended(String),
}

/// Opens the window and runs until it is closed.
pub fn run(opts: Options) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let event_loop = EventLoop::<UserEvent>::with_user_event()
        .build()
        .context("opening the display (is DISPLAY set?)")?;
    let proxy = event_loop.create_proxy();
    let mut app = App::new(opts, rt, proxy);
    app.connect();
    event_loop.run_app(&mut app).context("running the window")?;
    Ok(())
}

const HELP: &str = "F8 then: D Ctrl-Alt-Del | S screenshot | V view-only | F fit/actual | \
C colour | 0-9 JPEG quality | M next screen | W remote resize | P paste clipboard | R reconnect | \
Q quit | F8 send F8";

struct Surface {
    window: Rc<Window>,
    surface: softbuffer::Surface<Rc<Window>, Rc<Window>>,
}

/// Where the framebuffer is drawn: source rectangle, scale and offset.
#[derive(Debug, Clone, Copy)]
struct Mapping {
    view: Rect,
    scale: f64,
    ox: f64,
    oy: f64,
}

struct App {
    opts: Options,
    rt: tokio::runtime::Runtime,
    proxy: EventLoopProxy<UserEvent>,
    surface: Option<Surface>,
    handle: Option<ViewerHandle>,
    connected: bool,
    name: String,
    status: String,
    view_only: bool,
    scale: Scale,
    colour: ColourPreset,
    encodings: EncodingPreference,
    screens: Vec<Screen>,
    screen: Option<usize>,
    buttons: u16,
    pointer: (u16, u16),
    mapping: Option<Mapping>,
    pressed: HashMap<PhysicalKey, u32>,
    swallow: Vec<PhysicalKey>,
    menu: bool,
    clipboard: Option<arboard::Clipboard>,
    last_clip: Option<String>,
    cursor: Option<CustomCursor>,
    remote_resize: bool,
    resize_due: Option<Instant>,
    can_resize: bool,
    dead_pending: bool,
}

impl App {
    fn new(opts: Options, rt: tokio::runtime::Runtime, proxy: EventLoopProxy<UserEvent>) -> App {
        let remote_resize = opts.remote_resize;
        App {
            view_only: opts.view_only,
            scale: opts.scale,
            colour: opts.colour,
            encodings: opts.encodings.clone(),
            screen: opts.screen,
            opts,
            rt,
            proxy,
            surface: None,
            handle: None,
            connected: false,
            name: String::new(),
            status: "connecting".into(),
            screens: Vec::new(),
            buttons: 0,
            pointer: (0, 0),
            mapping: None,
            pressed: HashMap::new(),
            swallow: Vec::new(),
            menu: false,
            clipboard: arboard::Clipboard::new().ok(),
            last_clip: None,
            cursor: None,
            remote_resize,
            resize_due: None,
            can_resize: false,
            dead_pending: false,
        }
    }

    fn connect(&mut self) {
        if let Some(h) = self.handle.take() {
            h.send(Command::Close);
        }
        self.connected = false;
        self.can_resize = false;
        self.status = "connecting".into();
        let mut config = ViewerConfig {
            encodings: self.encodings.clone(),
            colour: self.colour,
            idle_timeout: self.opts.idle_timeout,
            ..ViewerConfig::default()
        };
        config.client.password = self.opts.password.clone();
        let addr = self.opts.addr.clone();
        let listen = self.opts.listen;
        let proxy = self.proxy.clone();
        let view_only = self.view_only;
        self.rt.spawn(async move {
            let started = if listen {
                match tokio::net::TcpListener::bind((addr.host.as_str(), addr.port)).await {
                    Ok(l) => {
                        eprintln!("rfb-viewer: listening on {addr} for a reverse connection");
                        driver::accept(&l, config).await
                    }
                    Err(e) => Err(e),
                }
            } else {
                driver::connect(&addr, config).await
            };
            let (handle, mut events, task) = match started {
                Ok(r) => r,
                Err(e) => {
                    let _ = proxy.send_event(UserEvent::Ended(format!("{addr}: {e}")));
                    return;
                }
            };
            handle.send(Command::ViewOnly(view_only));
            let _ = proxy.send_event(UserEvent::Started(handle.clone()));
            while let Some(ev) = events.recv().await {
                if let ViewerEvent::PasswordRequested { .. } = ev {
                    let h = handle.clone();
                    tokio::task::spawn_blocking(move || {
                        h.provide_password(prompt_password());
                    });
                }
                if proxy.send_event(UserEvent::Viewer(ev)).is_err() {
                    break;
                }
            }
            let reason = match task.await {
                Ok(Ok(())) => "connection closed".to_owned(),
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            let _ = proxy.send_event(UserEvent::Ended(reason));
        });
    }

    fn send(&self, cmd: Command) {
        if let Some(h) = &self.handle {
            h.send(cmd);
        }
    }

    fn title(&self) {
        let Some(s) = &self.surface else { return };
        let mut t = format!(
            "{} — rfb-viewer",
            if self.name.is_empty() {
                "(no desktop)"
            } else {
                &self.name
            }
        );
        if self.view_only {
            t.push_str(" [view only]");
        }
        if self.colour != ColourPreset::Full {
            t.push_str(&format!(" [{:?}]", self.colour));
        }
        if let Some(i) = self.screen.filter(|&i| i < self.screens.len()) {
            t.push_str(&format!(" [monitor {}/{}]", i + 1, self.screens.len()));
        }
        if self.remote_resize {
            t.push_str(" [remote resize]");
        }
        if !self.connected {
            t.push_str(&format!(" — {}", self.status));
        }
        s.window.set_title(&t);
    }

    fn view_rect(&self, width: u16, height: u16) -> Rect {
        let full = Rect::new(0, 0, width, height);
        match self.screen.and_then(|i| self.screens.get(i)) {
            Some(s) => s.rect.clip_to(width, height),
            None => full,
        }
    }

    fn redraw(&mut self) {
        let Some(handle) = self.handle.clone() else {
            return self.clear();
        };
        let frame = handle.frame();
        let view = self.view_rect(frame.width, frame.height);
        let Some(s) = &mut self.surface else { return };
        let size = s.window.inner_size();
        let (Some(w), Some(h)) = (NonZeroU32::new(size.width), NonZeroU32::new(size.height)) else {
            return;
        };
        if s.surface.resize(w, h).is_err() {
            return;
        }
        let Ok(mut buf) = s.surface.buffer_mut() else {
            return;
        };
        let (ww, wh) = (size.width as usize, size.height as usize);
        buf.fill(0x202020);
        if view.is_empty()
            || frame.pixels.len() < usize::from(frame.width) * usize::from(frame.height)
        {
            let _ = buf.present();
            self.mapping = None;
            return;
        }
        let scale = match self.scale {
            Scale::Actual => 1.0,
            Scale::Fit => {
                (ww as f64 / f64::from(view.width)).min(wh as f64 / f64::from(view.height))
            }
        };
        let dw = ((f64::from(view.width) * scale) as usize).min(ww);
        let dh = ((f64::from(view.height) * scale) as usize).min(wh);
        let (ox, oy) = match self.scale {
            Scale::Actual => (0, 0),
            Scale::Fit => ((ww - dw) / 2, (wh - dh) / 2),
        };
        let fw = usize::from(frame.width);
        let xs: Vec<usize> = (0..dw)
            .map(|x| {
                usize::from(view.x) + ((x as f64 / scale) as usize).min(usize::from(view.width) - 1)
            })
            .collect();
        for y in 0..dh {
            let sy = usize::from(view.y)
                + ((y as f64 / scale) as usize).min(usize::from(view.height) - 1);
            let src = &frame.pixels[sy * fw..(sy + 1) * fw];
            let dst = &mut buf[(oy + y) * ww + ox..(oy + y) * ww + ox + dw];
            for (d, &sx) in dst.iter_mut().zip(&xs) {
                *d = src[sx];
            }
        }
        let _ = buf.present();
        self.mapping = Some(Mapping {
            view,
            scale,
            ox: ox as f64,
            oy: oy as f64,
        });
    }

    fn clear(&mut self) {
        let Some(s) = &mut self.surface else { return };
        let size = s.window.inner_size();
        let (Some(w), Some(h)) = (NonZeroU32::new(size.width), NonZeroU32::new(size.height)) else {
            return;
        };
        if s.surface.resize(w, h).is_ok() {
            if let Ok(mut buf) = s.surface.buffer_mut() {
                buf.fill(0x202020);
                let _ = buf.present();
            }
        }
    }

    fn request_redraw(&self) {
        if let Some(s) = &self.surface {
            s.window.request_redraw();
        }
    }

    fn fit_window(&self) {
        if self.scale != Scale::Actual {
            return;
        }
        if let (Some(s), Some(h)) = (&self.surface, &self.handle) {
            let f = h.frame();
            let v = self.view_rect(f.width, f.height);
            let _ = s
                .window
                .request_inner_size(PhysicalSize::new(u32::from(v.width), u32::from(v.height)));
        }
    }

    /// Arms the debounce timer of a remote resize.
    fn schedule_remote_resize(&mut self) {
        if self.remote_resize {
            self.resize_due = Some(Instant::now() + RESIZE_DEBOUNCE);
        }
    }

    /// Asks the server for a desktop of the window's size (when remote resize is on,
    /// the server can do it, the whole desktop is shown and the size differs).
    fn remote_resize_now(&mut self) {
        if !self.remote_resize || !self.can_resize || !self.connected || self.screen.is_some() {
            return;
        }
        let (Some(s), Some(h)) = (&self.surface, &self.handle) else {
            return;
        };
        let size = s.window.inner_size();
        let w = size.width.clamp(1, MAX_REMOTE_SIZE) as u16;
        let hgt = size.height.clamp(1, MAX_REMOTE_SIZE) as u16;
        let current = {
            let f = h.frame();
            (f.width, f.height)
        };
        if current == (w, hgt) {
            return;
        }
        eprintln!("rfb-viewer: asking the server for a {w}x{hgt} desktop");
        self.send(Command::SetDesktopSize {
            width: w,
            height: hgt,
            screens: Vec::new(),
        });
    }

    fn screenshot(&self) {
        let Some(h) = &self.handle else { return };
        let f = h.frame();
        let name = PathBuf::from(format!(
            "rfb-screenshot-{}.png",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        ));
        let rgb: Vec<u8> = f
            .pixels
            .iter()
            .flat_map(|p| {
                let [_, r, g, b] = p.to_be_bytes();
                [r, g, b]
            })
            .collect();
        match write_png(&name, f.width, f.height, &rgb) {
            Ok(()) => eprintln!(
                "rfb-viewer: saved {}x{} screenshot to {}",
                f.width,
                f.height,
                name.display()
            ),
            Err(e) => eprintln!("rfb-viewer: screenshot failed: {e}"),
        }
    }

    fn paste_to_server(&mut self, only_if_changed: bool) {
        let Some(cb) = &mut self.clipboard else {
            return;
        };
        if let Ok(text) = cb.get_text() {
            if only_if_changed && self.last_clip.as_deref() == Some(text.as_str()) {
                return;
            }
            self.last_clip = Some(text.clone());
            self.send(Command::CutText(text));
        }
    }

    fn menu_key(&mut self, el: &ActiveEventLoop, key: &Key, physical: PhysicalKey) {
        let c = match key {
            Key::Character(s) => s.to_lowercase(),
            _ if physical == PhysicalKey::Code(KeyCode::F8) => {
                self.send(Command::Key {
                    keysym: 0xffc5,
                    down: true,
                    keycode: Some(0x42),
                });
                self.send(Command::Key {
                    keysym: 0xffc5,
                    down: false,
                    keycode: Some(0x42),
                });
                return;
            }
            _ => return,
        };
        match c.as_str() {
            "d" => self.send(Command::CtrlAltDel),
            "s" => self.screenshot(),
            "v" => {
                self.view_only = !self.view_only;
                self.send(Command::ViewOnly(self.view_only));
            }
            "f" => {
                self.scale = if self.scale == Scale::Fit {
                    Scale::Actual
                } else {
                    Scale::Fit
                };
                self.fit_window();
                self.request_redraw();
            }
            "c" => {
                let all = ColourPreset::ALL;
                let i = all.iter().position(|&p| p == self.colour).unwrap_or(0);
                self.colour = all[(i + 1) % all.len()];
                self.send(Command::SetColour(self.colour));
            }
            "m" => {
                self.screen = match self.screen {
                    None if !self.screens.is_empty() => Some(0),
                    Some(i) if i + 1 < self.screens.len() => Some(i + 1),
                    _ => None,
                };
                self.fit_window();
                self.request_redraw();
            }
            "w" => {
                self.remote_resize = !self.remote_resize;
                eprintln!(
                    "rfb-viewer: remote resize {}",
                    if self.remote_resize { "on" } else { "off" }
                );
                self.schedule_remote_resize();
            }
            "p" => self.paste_to_server(false),
            "r" => self.connect(),
            "q" => el.exit(),
            d if d.len() == 1 && d.as_bytes()[0].is_ascii_digit() => {
                self.encodings.quality = Some(d.as_bytes()[0] - b'0');
                self.send(Command::SetEncodings(self.encodings.clone()));
            }
            _ => {}
        }
        self.title();
    }

    fn send_pointer(&mut self) {
        let (x, y) = self.pointer;
        self.send(Command::Pointer {
            x,
            y,
            buttons: self.buttons,
        });
    }

    fn set_cursor(&mut self, el: &ActiveEventLoop, img: &rfb_codec::cursor::CursorImage) {
        let Some(s) = &self.surface else { return };
        if img.width() == 0 || img.height() == 0 {
            s.window.set_cursor_visible(false);
            return;
        }
        // winit wants straight alpha; the image is premultiplied.
        let rgba: Vec<u8> = img
            .rgba()
            .chunks_exact(4)
            .flat_map(|p| {
                let a = u32::from(p[3]);
                if a == 0 {
                    [0; 4]
                } else {
                    let un = |c: u8| ((u32::from(c) * 255 + a / 2) / a).min(255) as u8;
                    [un(p[0]), un(p[1]), un(p[2]), p[3]]
                }
            })
            .collect();
        let (hx, hy) = img.hotspot();
        if let Ok(src) = CustomCursor::from_rgba(
            rgba,
            img.width(),
            img.height(),
            hx.min(img.width() - 1),
            hy.min(img.height() - 1),
        ) {
            let c = el.create_custom_cursor(src);
            s.window.set_cursor(c.clone());
            s.window.set_cursor_visible(true);
            self.cursor = Some(c);
        }
    }
}

fn prompt_password() -> Option<String> {
    use std::io::Write;
    eprint!("VNC password: ");
    let _ = std::io::stderr().flush();
    let echo_off = std::process::Command::new("stty")
        .arg("-echo")
        .status()
        .is_ok_and(|s| s.success());
    let mut line = String::new();
    let ok = std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0);
    if echo_off {
        let _ = std::process::Command::new("stty").arg("echo").status();
    }
    eprintln!();
    ok.then(|| line.trim_end_matches(['\r', '\n']).to_owned())
}

impl ApplicationHandler<UserEvent> for App {
    fn resumed(&mut self, el: &ActiveEventLoop) {
        if self.surface.is_some() {
            return;
        }
        let attrs = Window::default_attributes()
            .with_title("rfb-viewer")
            .with_inner_size(PhysicalSize::new(1024u32, 768u32));
        let window = match el.create_window(attrs) {
            Ok(w) => Rc::new(w),
            Err(e) => {
                eprintln!("rfb-viewer: cannot open a window: {e}");
                el.exit();
                return;
            }
        };
        let made = softbuffer::Context::new(window.clone())
            .and_then(|ctx| softbuffer::Surface::new(&ctx, window.clone()));
        match made {
            Ok(surface) => self.surface = Some(Surface { window, surface }),
            Err(e) => {
                eprintln!("rfb-viewer: cannot draw into the window: {e}");
                el.exit();
                return;
            }
        }
        eprintln!("rfb-viewer: {HELP}");
        self.title();
    }

    fn user_event(&mut self, el: &ActiveEventLoop, ev: UserEvent) {
        match ev {
            UserEvent::Started(h) => {
                self.handle = Some(h);
                self.status = "handshake".into();
            }
            UserEvent::Ended(reason) => {
                eprintln!("rfb-viewer: {reason} (F8 R reconnects)");
                self.connected = false;
                self.status = format!("disconnected: {reason} — F8 R reconnects");
            }
            UserEvent::Viewer(ev) => match ev {
                ViewerEvent::Connected {
                    width,
                    height,
                    name,
                    ..
                } => {
                    eprintln!("rfb-viewer: connected to {name:?}, {width}x{height}");
                    self.connected = true;
                    self.name = name;
                    self.fit_window();
                }
                ViewerEvent::Updated { .. } | ViewerEvent::ColourChanged(_) => {
                    self.request_redraw()
                }
                ViewerEvent::Resized { screens, .. } => {
                    self.screens = screens;
                    self.fit_window();
                    self.request_redraw();
                }
                ViewerEvent::DesktopName(n) => self.name = n,
                ViewerEvent::Capabilities(c) if c.extended_desktop_size && !self.can_resize => {
                    self.can_resize = true;
                    self.schedule_remote_resize();
                }
                ViewerEvent::DesktopSizeResult { status, .. } => {
                    eprintln!("rfb-viewer: the server answered the resize request: {status}");
                }
                ViewerEvent::CutText(t) => {
                    self.last_clip = Some(t.clone());
                    if let Some(cb) = &mut self.clipboard {
                        let _ = cb.set_text(t);
                    }
                }
                ViewerEvent::CursorShape(img) => self.set_cursor(el, &img),
                ViewerEvent::Bell => eprint!("\x07"),
                ViewerEvent::PasswordRequested { .. } => self.status = "password".into(),
                _ => {}
            },
        }
        self.title();
    }

    fn about_to_wait(&mut self, el: &ActiveEventLoop) {
        match self.resize_due {
            Some(due) if Instant::now() >= due => {
                self.resize_due = None;
                self.remote_resize_now();
                el.set_control_flow(ControlFlow::Wait);
            }
            Some(due) => el.set_control_flow(ControlFlow::WaitUntil(due)),
            None => el.set_control_flow(ControlFlow::Wait),
        }
    }

    fn window_event(&mut self, el: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => {
                self.send(Command::Close);
                el.exit();
            }
            WindowEvent::RedrawRequested => self.redraw(),
            WindowEvent::Resized(_) => {
                self.schedule_remote_resize();
                self.request_redraw();
            }
            WindowEvent::Focused(true) => self.paste_to_server(true),
            WindowEvent::Focused(false) => {
                for (_, sym) in self.pressed.drain() {
                    if let Some(h) = &self.handle {
                        h.send(Command::Key {
                            keysym: sym,
                            down: false,
                            keycode: None,
                        });
                    }
                }
            }
            WindowEvent::KeyboardInput { event, .. } => {
                let down = event.state == ElementState::Pressed;
                if down && self.menu {
                    self.menu = false;
                    self.swallow.push(event.physical_key);
                    self.menu_key(el, &event.logical_key, event.physical_key);
                    return;
                }
                if event.physical_key == PhysicalKey::Code(KeyCode::F8) && down && !event.repeat {
                    self.menu = true;
                    self.swallow.push(event.physical_key);
                    return;
                }
                if !down {
                    if let Some(i) = self.swallow.iter().position(|k| *k == event.physical_key) {
                        self.swallow.swap_remove(i);
                        return;
                    }
                }
                let keycode = keymap::xt_keycode(&event.physical_key);
                let sym = if down {
                    let mut sym = keymap::keysym(&event.logical_key, event.location);
                    // After a dead key the server composes: send the base key, not
                    // what winit composed locally (see `keymap`).
                    if self.dead_pending && !sym.is_some_and(keymap::is_modifier_keysym) {
                        self.dead_pending = false;
                        if let Some(base) = keymap::base_after_dead(
                            &event.logical_key,
                            &event.key_without_modifiers(),
                        ) {
                            sym = Some(base);
                        }
                    }
                    if sym.is_some_and(keymap::is_dead_keysym) && !event.repeat {
                        self.dead_pending = true;
                    }
                    sym
                } else {
                    self.pressed
                        .remove(&event.physical_key)
                        .or_else(|| keymap::keysym(&event.logical_key, event.location))
                };
                if let Some(sym) = sym {
                    if down {
                        self.pressed.insert(event.physical_key, sym);
                    }
                    self.send(Command::Key {
                        keysym: sym,
                        down,
                        keycode,
                    });
                }
            }
            WindowEvent::CursorMoved {
                position: PhysicalPosition { x, y },
                ..
            } => {
                if let Some(m) = self.mapping {
                    let fx = f64::from(m.view.x) + ((x - m.ox) / m.scale).max(0.0);
                    let fy = f64::from(m.view.y) + ((y - m.oy) / m.scale).max(0.0);
                    let maxx = f64::from(m.view.x) + f64::from(m.view.width) - 1.0;
                    let maxy = f64::from(m.view.y) + f64::from(m.view.height) - 1.0;
                    self.pointer = (fx.min(maxx) as u16, fy.min(maxy) as u16);
                    self.send_pointer();
                }
            }
            WindowEvent::MouseInput { state, button, .. } => {
                let bit = match button {
                    MouseButton::Left => PointerEvent::LEFT,
                    MouseButton::Middle => PointerEvent::MIDDLE,
                    MouseButton::Right => PointerEvent::RIGHT,
                    MouseButton::Back => PointerEvent::BACK,
                    MouseButton::Forward => PointerEvent::FORWARD,
                    MouseButton::Other(_) => return,
                };
                if state == ElementState::Pressed {
                    self.buttons |= bit;
                } else {
                    self.buttons &= !bit;
                }
                self.send_pointer();
            }
            WindowEvent::MouseWheel { delta, .. } => {
                let (dx, dy) = match delta {
                    MouseScrollDelta::LineDelta(x, y) => (x as f64, y as f64),
                    MouseScrollDelta::PixelDelta(p) => (p.x / 40.0, p.y / 40.0),
                };
                let mut clicks = Vec::new();
                let n = |v: f64| (v.abs().round() as usize).clamp(1, 10);
                if dy > 0.0 {
                    clicks.extend(std::iter::repeat_n(PointerEvent::WHEEL_UP, n(dy)));
                } else if dy < 0.0 {
                    clicks.extend(std::iter::repeat_n(PointerEvent::WHEEL_DOWN, n(dy)));
                }
                if dx > 0.0 {
                    clicks.extend(std::iter::repeat_n(PointerEvent::WHEEL_RIGHT, n(dx)));
                } else if dx < 0.0 {
                    clicks.extend(std::iter::repeat_n(PointerEvent::WHEEL_LEFT, n(dx)));
                }
                let (x, y) = self.pointer;
                for b in clicks {
                    self.send(Command::Pointer {
                        x,
                        y,
                        buttons: self.buttons | b,
                    });
                    self.send(Command::Pointer {
                        x,
                        y,
                        buttons: self.buttons,
                    });
                }
            }
            _ => {}
        }
    }
}

/// Writes 8-bit RGB pixels as a PNG file.
pub fn write_png(
    path: &std::path::Path,
    width: u16,
    height: u16,
    rgb: &[u8],
) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), width.into(), height.into());
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}
