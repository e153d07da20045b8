//! Sharing a real X11 display for `rfb-x11-server`: screen capture, damage and input,
//! over the X11 protocol in pure Rust (`x11rb`'s `RustConnection`, no libxcb).
//!
//! * **Capture**: with MIT-SHM 1.2 (a local server), `ShmGetImage` writes the pixels into
//!   a memfd segment handed over with `ShmAttachFd`, and they are read back with
//!   `pread` (no `mmap`, so no `unsafe`; one copy out of the page cache instead of the
//!   X protocol stream). Otherwise (a remote display, no MIT-SHM, the attach refused,
//!   or [`Display::open`] asked not to), plain `GetImage` of the root window in bands.
//! * **Damage**: where the DAMAGE extension exists, a damage object on the root window
//!   reports raw rectangles through [`Display::events`] (a blocking reader meant for
//!   its own thread); only those are fetched. A full capture every [`FULL_POLL`]
//!   catches anything the extension misses (the Session's tile diff sends only what
//!   really changed). Without DAMAGE, the whole screen is polled. [`pacer`] decides
//!   when.
//! * **Input**: XTEST fake key, button and motion events. Keysyms become keycodes
//!   through the keyboard mapping; a keysym found only in a keycode's shifted column
//!   gets a Shift press around it; a keysym the keymap lacks is bound to a spare
//!   keycode (one with no symbols) first.
//!
//! * **Cursor shape**: with XFixes, cursor changes arrive as
//!   [`DisplayEvent::CursorChanged`] and [`Display::cursor`] fetches the image
//!   (`XFixesGetCursorImage`: 32-bit ARGB, alpha premultiplied per the XFixes spec),
//!   as the server's premultiplied RGBA [`CursorImage`].
//! * **Clipboard**: [`clipboard`], on a connection of its own.
//!
//! Supported screens: depth 24 TrueColor with 32 bits per pixel, red/green/blue masks
//! `ff0000`/`00ff00`/`0000ff`, in either image byte order (the common case, and
//! exactly the server's native RGB888). Anything else (depth 16, 30, 8, colour maps) is
//! refused with an error naming what was found.

pub mod clipboard;
pub mod pacer;

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rfb_codec::cursor::{CursorImage, MAX_CURSOR_SIDE};
use rfb_codec::Framebuffer;
use rfb_proto::{PixelFormat, Rect};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::damage::{self, ConnectionExt as _};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{
    self, ConnectionExt as _, ImageFormat, ImageOrder, VisualClass, Window,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

/// How often the whole screen is captured even when DAMAGE reports nothing.
pub const FULL_POLL: Duration = Duration::from_secs(1);
/// Bytes fetched per GetImage request (a band of whole rows).
const BAND_BYTES: usize = 1 << 20;
/// More damage rectangles than this in one capture are fetched as their bounding box.
pub const MAX_DAMAGE_RECTS: usize = 64;
/// Keysyms of the Shift keys.
const SHIFT_L: u32 = 0xffe1;
const SHIFT_R: u32 = 0xffe2;

/// The keyboard mapping: keysyms per keycode.
#[derive(Debug, Clone)]
struct Keymap {
    min: u8,
    per: usize,
    syms: Vec<u32>,
}

impl Keymap {
    /// The keycode and column (0 unshifted, 1 shifted, ...) of `keysym`, preferring the
    /// lowest column.
    fn find(&self, keysym: u32) -> Option<(u8, usize)> {
        if self.per == 0 {
            return None;
        }
        let codes = self.syms.len() / self.per;
        for col in 0..self.per.min(4) {
            for k in 0..codes {
                if self.syms[k * self.per + col] == keysym {
                    let code = u8::try_from(usize::from(self.min) + k).ok()?;
                    return Some((code, col));
                }
            }
        }
        None
    }

    /// A keycode with no symbols at all (free to bind).
    fn spare(&self) -> Option<u8> {
        if self.per == 0 {
            return None;
        }
        let codes = self.syms.len() / self.per;
        (0..codes)
            .rev()
            .find(|k| {
                self.syms[k * self.per..(k + 1) * self.per]
                    .iter()
                    .all(|s| *s == 0)
            })
            .and_then(|k| u8::try_from(usize::from(self.min) + k).ok())
    }
}

/// The MIT-SHM segment: a memfd the X server maps too, big enough for the screen.
struct Shm {
    seg: shm::Seg,
    file: File,
}

/// An X display being shared: its screen, the damage object and the input state.
///
/// ```no_run
/// use rfb_examples::x11::{Display, DisplayEvent};
/// let mut display = Display::open(Some(":1"), true)?; // MIT-SHM if the server allows
/// let mut fb = display.new_framebuffer();
/// let all = fb.rect();
/// display.grab(&mut fb, all)?;            // the whole root window
/// let events = display.events();          // blocking; usually on its own thread
/// if let DisplayEvent::Damage(r) = events.next()? {
///     display.grab(&mut fb, r)?;          // what DAMAGE reported
/// }
/// display.pointer(10, 20, 0)?;            // XTEST: move the pointer
/// display.key(0x61, true)?;               // press and release `a`
/// display.key(0x61, false)?;
/// # Ok::<(), anyhow::Error>(())
/// ```
pub struct Display {
    conn: Arc<RustConnection>,
    root: Window,
    width: u16,
    height: u16,
    swap: bool,
    damage: Option<damage::Damage>,
    xtest: bool,
    xfixes: bool,
    keymap: Keymap,
    /// Keysyms the viewer holds down → the keycode pressed for each.
    keys_down: HashMap<u32, u8>,
    buttons: u16,
    shm: Option<Shm>,
    description: String,
}

/// What the X server reported, from [`Events::next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayEvent {
    /// This area of the screen changed (clipped to the screen; may be empty).
    Damage(Rect),
    /// The keyboard mapping changed: call [`Display::reload_keymap`].
    KeymapChanged,
    /// The displayed cursor changed to the one with this serial: call
    /// [`Display::cursor`].
    CursorChanged(u32),
    /// Anything else (ignored).
    Other,
}

/// A blocking reader of the display's events, sharing [`Display`]'s connection (which
/// is safe to use from several threads).
pub struct Events {
    conn: Arc<RustConnection>,
    width: u16,
    height: u16,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// Waits for the next event; an error means the connection is gone.
    pub fn next(&self) -> Result<DisplayEvent> {
        Ok(match self.conn.wait_for_event()? {
            Event::DamageNotify(n) => {
                let a = n.area;
                let (x, y) = (a.x.max(0) as u16, a.y.max(0) as u16);
                DisplayEvent::Damage(
                    Rect::new(x, y, a.width, a.height).clip_to(self.width, self.height),
                )
            }
            Event::MappingNotify(_) => DisplayEvent::KeymapChanged,
            Event::XfixesCursorNotify(n) => DisplayEvent::CursorChanged(n.cursor_serial),
            _ => DisplayEvent::Other,
        })
    }
}

/// Sets up MIT-SHM capture: a memfd of `bytes`, attached with `ShmAttachFd`, and one
/// trial `ShmGetImage` of a pixel (a server that accepted the attach but cannot use
/// the segment fails here, not mid-capture).
fn attach_shm(conn: &RustConnection, root: Window, bytes: usize) -> Result<Shm> {
    if conn
        .extension_information(shm::X11_EXTENSION_NAME)?
        .is_none()
    {
        bail!("the X server has no MIT-SHM");
    }
    let v = conn.shm_query_version()?.reply()?;
    if (v.major_version, v.minor_version) < (1, 2) {
        bail!(
            "MIT-SHM {}.{} lacks ShmAttachFd (1.2)",
            v.major_version,
            v.minor_version
        );
    }
    let fd = rustix::fs::memfd_create("rfb-x11-server", rustix::fs::MemfdFlags::CLOEXEC)
        .context("memfd_create")?;
    let file = File::from(fd);
    file.set_len(u64::try_from(bytes)?)?;
    let theirs = OwnedFd::from(file.try_clone()?);
    let seg = conn.generate_id()?;
    conn.shm_attach_fd(seg, theirs, false)?
        .check()
        .context("ShmAttachFd refused")?;
    conn.shm_get_image(root, 0, 0, 1, 1, !0, ImageFormat::Z_PIXMAP.into(), seg, 0)?
        .reply()
        .context("trial ShmGetImage failed")?;
    Ok(Shm { seg, file })
}

impl std::fmt::Debug for Display {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Display")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl Display {
    /// Connects to `name` (`:N`; `None`: `$DISPLAY`), checks the root window's format
    /// (see the module doc), and sets up DAMAGE and XTEST where the server has them,
    /// and MIT-SHM capture when `use_shm` and the server allows it (else `GetImage`).
    pub fn open(name: Option<&str>, use_shm: bool) -> Result<Display> {
        let (conn, screen_no) = RustConnection::connect(name)
            .with_context(|| format!("connecting to X display {}", name.unwrap_or("$DISPLAY")))?;
        let setup = conn.setup();
        let screen = setup
            .roots
            .get(screen_no)
            .context("the X server has no such screen")?;
        let depth = screen.root_depth;
        let visual = screen
            .allowed_depths
            .iter()
            .flat_map(|d| d.visuals.iter())
            .find(|v| v.visual_id == screen.root_visual)
            .context("root visual not found")?;
        let bpp = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == depth)
            .map(|f| f.bits_per_pixel)
            .unwrap_or(0);
        if depth != 24
            || bpp != 32
            || visual.class != VisualClass::TRUE_COLOR
            || (visual.red_mask, visual.green_mask, visual.blue_mask) != (0xff_0000, 0xff00, 0xff)
        {
            bail!(
                "unsupported screen: depth {depth}, {bpp} bits per pixel, visual class {:?}, \
                 masks {:06x}/{:06x}/{:06x} (only depth 24 TrueColor, 32 bpp, \
                 ff0000/00ff00/0000ff is supported)",
                visual.class,
                visual.red_mask,
                visual.green_mask,
                visual.blue_mask
            );
        }
        let swap = setup.image_byte_order == ImageOrder::MSB_FIRST;
        let (root, width, height) = (screen.root, screen.width_in_pixels, screen.height_in_pixels);
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let km = conn
            .get_keyboard_mapping(min, max.saturating_sub(min).saturating_add(1))?
            .reply()?;
        let keymap = Keymap {
            min,
            per: usize::from(km.keysyms_per_keycode),
            syms: km.keysyms,
        };
        let has =
            |ext: &'static str| -> Result<bool> { Ok(conn.extension_information(ext)?.is_some()) };
        let xfixes = has(xfixes::X11_EXTENSION_NAME)?;
        if xfixes {
            // Negotiated before any XFixes or DAMAGE request is used.
            conn.xfixes_query_version(5, 0)?.reply()?;
            conn.xfixes_select_cursor_input(root, xfixes::CursorNotifyMask::DISPLAY_CURSOR)?
                .check()?;
        }
        let damage = if has(damage::X11_EXTENSION_NAME)? && xfixes {
            conn.damage_query_version(1, 1)?.reply()?;
            let id = conn.generate_id()?;
            conn.damage_create(id, root, damage::ReportLevel::RAW_RECTANGLES)?
                .check()?;
            Some(id)
        } else {
            None
        };
        let xtest = has(x11rb::protocol::xtest::X11_EXTENSION_NAME)?
            && conn.xtest_get_version(2, 2)?.reply().is_ok();
        let screen_bytes = usize::from(width) * usize::from(height) * 4;
        let (shm, shm_note) = if use_shm {
            match attach_shm(&conn, root, screen_bytes) {
                Ok(s) => (Some(s), "yes".to_owned()),
                Err(e) => (None, format!("no ({e:#})")),
            }
        } else {
            (None, "no (--no-shm)".to_owned())
        };
        let description = format!(
            "{width}x{height} depth 24 TrueColor 32bpp {} damage={} xtest={} xfixes={} \
             shm={shm_note}",
            if swap { "msb-first" } else { "lsb-first" },
            if damage.is_some() { "yes" } else { "no" },
            if xtest { "yes" } else { "no" },
            if xfixes { "yes" } else { "no" },
        );
        Ok(Display {
            conn: Arc::new(conn),
            root,
            width,
            height,
            swap,
            damage,
            xtest,
            xfixes,
            keymap,
            keys_down: HashMap::new(),
            buttons: 0,
            shm,
            description,
        })
    }

    /// The screen size.
    pub fn size(&self) -> (u16, u16) {
        (self.width, self.height)
    }

    /// Whether DAMAGE reports changes (otherwise poll the whole screen).
    pub fn has_damage(&self) -> bool {
        self.damage.is_some()
    }

    /// Whether captures go through MIT-SHM (else `GetImage`).
    pub fn has_shm(&self) -> bool {
        self.shm.is_some()
    }

    /// A blocking reader of this display's events (damage, keymap changes), for a
    /// thread of its own; it shares the connection.
    pub fn events(&self) -> Events {
        Events {
            conn: Arc::clone(&self.conn),
            width: self.width,
            height: self.height,
        }
    }

    /// Whether XFixes reports cursor changes (and [`Display::cursor`] works).
    pub fn has_xfixes(&self) -> bool {
        self.xfixes
    }

    /// The cursor shown now (`XFixesGetCursorImage`) and its serial; `None` without
    /// XFixes, or when the cursor is larger than [`MAX_CURSOR_SIDE`] either way. The X
    /// server may refuse with an X error (Xvfb: BadAccess for some cursors whose
    /// creator freed them); the connection is still usable then.
    pub fn cursor(&self) -> Result<Option<(u32, CursorImage)>> {
        if !self.xfixes {
            return Ok(None);
        }
        let r = self.conn.xfixes_get_cursor_image()?.reply()?;
        if r.width > MAX_CURSOR_SIDE || r.height > MAX_CURSOR_SIDE {
            return Ok(None);
        }
        let n = usize::from(r.width) * usize::from(r.height);
        if r.cursor_image.len() < n {
            bail!(
                "XFixesGetCursorImage sent {} pixels for {}x{}",
                r.cursor_image.len(),
                r.width,
                r.height
            );
        }
        let rgba = argb_to_rgba(&r.cursor_image[..n]);
        let (hx, hy) = (
            r.xhot.min(r.width.saturating_sub(1)),
            r.yhot.min(r.height.saturating_sub(1)),
        );
        Ok(Some((
            r.cursor_serial,
            CursorImage::new(r.width, r.height, hx, hy, rgba)?,
        )))
    }

    /// Whether XTEST input injection is available.
    pub fn has_xtest(&self) -> bool {
        self.xtest
    }

    /// One line describing the screen and the extensions in use.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// A new black framebuffer of the screen's size in the native format (RGB888).
    pub fn new_framebuffer(&self) -> Framebuffer {
        Framebuffer::new(self.width, self.height, PixelFormat::RGB888)
    }

    /// Copies `rect` of the root window into `fb` (`ShmGetImage`, or `GetImage` in bands
    /// of whole rows). The padding byte of each pixel is cleared.
    pub fn grab(&mut self, fb: &mut Framebuffer, rect: Rect) -> Result<()> {
        let rect = rect.clip_to(self.width, self.height);
        if rect.is_empty() {
            return Ok(());
        }
        if let Some(shm) = &self.shm {
            let (x16, y16) = (
                i16::try_from(rect.x).context("screen too large")?,
                i16::try_from(rect.y).context("screen too large")?,
            );
            let reply = self
                .conn
                .shm_get_image(
                    self.root,
                    x16,
                    y16,
                    rect.width,
                    rect.height,
                    !0,
                    ImageFormat::Z_PIXMAP.into(),
                    shm.seg,
                    0,
                )?
                .reply()?;
            // Z pixmap rows of 32-bit pixels are packed (no padding beyond 32 bits).
            let row_bytes = usize::from(rect.width) * 4;
            let want = row_bytes * usize::from(rect.height);
            if usize::try_from(reply.size).unwrap_or(0) < want {
                bail!(
                    "ShmGetImage wrote {} bytes for {}x{}",
                    reply.size,
                    rect.width,
                    rect.height
                );
            }
            fb.check(rect)?;
            let stride = fb.stride();
            let data = fb.data_mut();
            let start = usize::from(rect.y) * stride + usize::from(rect.x) * 4;
            if row_bytes == stride {
                // Whole rows: one read straight into the framebuffer.
                let dst = &mut data[start..start + want];
                shm.file
                    .read_exact_at(dst, 0)
                    .context("reading the MIT-SHM segment")?;
                fix_pixels(dst, self.swap);
            } else {
                for (i, at) in (start..)
                    .step_by(stride)
                    .take(usize::from(rect.height))
                    .enumerate()
                {
                    let dst = &mut data[at..at + row_bytes];
                    shm.file
                        .read_exact_at(dst, (i * row_bytes) as u64)
                        .context("reading the MIT-SHM segment")?;
                    fix_pixels(dst, self.swap);
                }
            }
            return Ok(());
        }
        let row_bytes = usize::from(rect.width) * 4;
        let band = u16::try_from((BAND_BYTES / row_bytes).max(1)).unwrap_or(u16::MAX);
        let mut y = rect.y;
        while y < rect.y + rect.height {
            let h = band.min(rect.y + rect.height - y);
            // x, y < 65536 and the screen size fits i16 in practice; larger screens fail
            // the request rather than wrap.
            let (x16, y16) = (
                i16::try_from(rect.x).context("screen too large")?,
                i16::try_from(y).context("screen too large")?,
            );
            let mut reply = self
                .conn
                .get_image(
                    ImageFormat::Z_PIXMAP,
                    self.root,
                    x16,
                    y16,
                    rect.width,
                    h,
                    !0,
                )?
                .reply()?;
            let want = row_bytes * usize::from(h);
            if reply.data.len() < want {
                bail!(
                    "GetImage returned {} bytes for {}x{h}",
                    reply.data.len(),
                    rect.width
                );
            }
            reply.data.truncate(want);
            fix_pixels(&mut reply.data, self.swap);
            fb.put_pixels(Rect::new(rect.x, y, rect.width, h), &reply.data)?;
            y += h;
        }
        Ok(())
    }

    /// Reloads the keyboard mapping (after [`DisplayEvent::KeymapChanged`]).
    pub fn reload_keymap(&mut self) -> Result<()> {
        let min = self.keymap.min;
        let max = self.conn.setup().max_keycode;
        let km = self
            .conn
            .get_keyboard_mapping(min, max.saturating_sub(min).saturating_add(1))?
            .reply()?;
        self.keymap.per = usize::from(km.keysyms_per_keycode);
        self.keymap.syms = km.keysyms;
        Ok(())
    }

    fn fake(&self, kind: u8, detail: u8, x: i16, y: i16) -> Result<()> {
        self.conn
            .xtest_fake_input(kind, detail, x11rb::CURRENT_TIME, self.root, x, y, 0)?;
        Ok(())
    }

    fn shift_held(&self) -> bool {
        self.keys_down.contains_key(&SHIFT_L) || self.keys_down.contains_key(&SHIFT_R)
    }

    /// Presses or releases the key for `keysym`; returns the keycode used (`None`: no
    /// XTEST, or no keycode could be found or bound).
    pub fn key(&mut self, keysym: u32, down: bool) -> Result<Option<u8>> {
        // Keysym 0 (NoSymbol) is what QEMU key events carry for unknown keys.
        if !self.xtest || keysym == 0 {
            return Ok(None);
        }
        if !down {
            let Some(code) = self.keys_down.remove(&keysym) else {
                return Ok(None);
            };
            self.fake(xproto::KEY_RELEASE_EVENT, code, 0, 0)?;
            self.conn.flush()?;
            return Ok(Some(code));
        }
        let found = match self.keymap.find(keysym) {
            Some(f) => Some(f),
            None => self.bind_spare(keysym)?,
        };
        let Some((code, col)) = found else {
            return Ok(None);
        };
        // A shifted-column keysym typed without Shift held gets a Shift around it.
        let shift_code = self.keymap.find(SHIFT_L).map(|(c, _)| c);
        let held = self.shift_held();
        match (col, held, shift_code) {
            (1, false, Some(s)) => {
                self.fake(xproto::KEY_PRESS_EVENT, s, 0, 0)?;
                self.fake(xproto::KEY_PRESS_EVENT, code, 0, 0)?;
                self.fake(xproto::KEY_RELEASE_EVENT, s, 0, 0)?;
            }
            _ => self.fake(xproto::KEY_PRESS_EVENT, code, 0, 0)?,
        }
        self.keys_down.insert(keysym, code);
        self.conn.flush()?;
        Ok(Some(code))
    }

    /// Binds `keysym` to a spare keycode (both columns), for keysyms the keymap lacks.
    fn bind_spare(&mut self, keysym: u32) -> Result<Option<(u8, usize)>> {
        let Some(code) = self.keymap.spare() else {
            return Ok(None);
        };
        let per = self.keymap.per;
        let mut syms = vec![0u32; per];
        for s in syms.iter_mut().take(2) {
            *s = keysym;
        }
        self.conn
            .change_keyboard_mapping(1, code, u8::try_from(per).unwrap_or(2), &syms)?
            .check()?;
        let k = usize::from(code - self.keymap.min);
        self.keymap.syms[k * per..(k + 1) * per].copy_from_slice(&syms);
        // Let clients (which reload their keymap on MappingNotify) catch up.
        std::thread::sleep(Duration::from_millis(50));
        Ok(Some((code, 0)))
    }

    /// Where the pointer is on the screen (`QueryPointer` on the root window), clipped
    /// to the framebuffer.
    pub fn pointer_position(&self) -> Result<(u16, u16)> {
        let r = self.conn.query_pointer(self.root)?.reply()?;
        let clip = |v: i16, max: u16| {
            u16::try_from(v.max(0))
                .unwrap_or(0)
                .min(max.saturating_sub(1))
        };
        Ok((clip(r.root_x, self.width), clip(r.root_y, self.height)))
    }

    /// Moves the pointer to (`x`, `y`) and presses or releases the buttons whose bits
    /// changed in `buttons` (bit N = button N+1).
    pub fn pointer(&mut self, x: u16, y: u16, buttons: u16) -> Result<()> {
        if !self.xtest {
            return Ok(());
        }
        let x = i16::try_from(x.min(self.width.saturating_sub(1))).unwrap_or(i16::MAX);
        let y = i16::try_from(y.min(self.height.saturating_sub(1))).unwrap_or(i16::MAX);
        self.fake(xproto::MOTION_NOTIFY_EVENT, 0, x, y)?;
        let changed = self.buttons ^ buttons;
        for bit in 0..16u8 {
            if changed & (1 << bit) != 0 {
                let kind = if buttons & (1 << bit) != 0 {
                    xproto::BUTTON_PRESS_EVENT
                } else {
                    xproto::BUTTON_RELEASE_EVENT
                };
                self.fake(kind, bit + 1, x, y)?;
            }
        }
        self.buttons = buttons;
        self.conn.flush()?;
        Ok(())
    }

    /// Releases every key and button the viewers left pressed.
    pub fn release_all(&mut self) -> Result<()> {
        let keys: Vec<u32> = self.keys_down.keys().copied().collect();
        for k in keys {
            self.key(k, false)?;
        }
        let b = self.buttons;
        if b != 0 {
            self.buttons = b;
            for bit in 0..16u8 {
                if b & (1 << bit) != 0 {
                    self.fake(xproto::BUTTON_RELEASE_EVENT, bit + 1, 0, 0)?;
                }
            }
            self.buttons = 0;
            self.conn.flush()?;
        }
        Ok(())
    }
}

/// XFixes cursor pixels (`0xAARRGGBB`, colour premultiplied by alpha) as premultiplied
/// RGBA bytes; a colour above its alpha (not validly premultiplied) is clamped to it.
fn argb_to_rgba(pixels: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pixels.len() * 4);
    for &p in pixels {
        let [a, r, g, b] = p.to_be_bytes();
        out.extend_from_slice(&[r.min(a), g.min(a), b.min(a), a]);
    }
    out
}

/// Turns captured 32-bit pixels into RGB888 with a zero padding byte: MSB first
/// (`X R G B` in memory) is reversed into `B G R X`.
fn fix_pixels(data: &mut [u8], swap: bool) {
    if swap {
        for px in data.chunks_exact_mut(4) {
            px.reverse();
            px[3] = 0;
        }
    } else {
        for px in data.chunks_exact_mut(4) {
            px[3] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_pixels_become_premultiplied_rgba() {
        // Opaque red, half-transparent premultiplied grey, transparent, and an invalid
        // pixel whose green exceeds its alpha.
        let px = [0xffff_0000, 0x8040_4040, 0x0000_0000, 0x1000_ff00];
        assert_eq!(
            argb_to_rgba(&px),
            vec![255, 0, 0, 255, 0x40, 0x40, 0x40, 0x80, 0, 0, 0, 0, 0, 0x10, 0, 0x10]
        );
    }

    #[test]
    fn keymap_lookup_prefers_the_unshifted_column() {
        // keycodes 8, 9, 10 with two keysyms each: (a, A), (none), (1, !)
        let k = Keymap {
            min: 8,
            per: 2,
            syms: vec![0x61, 0x41, 0, 0, 0x31, 0x21],
        };
        assert_eq!(k.find(0x61), Some((8, 0)));
        assert_eq!(k.find(0x41), Some((8, 1)));
        assert_eq!(k.find(0x21), Some((10, 1)));
        assert_eq!(k.find(0xffe1), None);
        assert_eq!(k.spare(), Some(9));
    }
}
