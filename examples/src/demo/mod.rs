//! The built-in desktop of `rfb-demo`: windows that move, a scrolling ticker, a clock, a
//! photo-like picture, and an echo of the viewers' input (pointer clicks paint, typed
//! keys appear, clipboard text is shown). Rendering is deterministic for a given
//! sequence of [`Desktop::step`] calls and inputs, so tests can reproduce frames.

mod font;

use std::collections::VecDeque;

use rfb_codec::Framebuffer;
use rfb_proto::client::PointerEvent;
use rfb_proto::{ClientMessage, PixelFormat, Rect};
use rfb_server::{CopyMove, ServerEvent};

/// Height of the scrolling ticker band at the bottom.
const TICKER_H: u16 = 24;
/// Pixels the ticker moves per frame.
const TICKER_STEP: u16 = 2;
/// Most painted dots remembered (older ones fade out of the list).
const MAX_DOTS: usize = 20_000;
/// Most typed characters shown.
const MAX_TYPED: usize = 60;

const DESKTOP: [u8; 3] = [0x20, 0x60, 0x70];
const BAR: [u8; 3] = [0x18, 0x18, 0x20];
const WHITE: [u8; 3] = [0xff, 0xff, 0xff];
const TICKER_BG: [u8; 3] = [0x10, 0x10, 0x40];
const TICKER_FG: [u8; 3] = [0xff, 0xd0, 0x40];

const TICKER_TEXT: &str = "    RFB-DEMO: A PURE-RUST VNC SERVER (SANS-IO CORE, TOKIO DRIVER).  \
    CLICK TO PAINT, TYPE TO ECHO, COPY TEXT TO SHARE THE CLIPBOARD.  \
    ENCODINGS: ZRLE, TRLE, ZLIB, HEXTILE, RRE, CORRE, RAW, COPYRECT.";

struct Window {
    x: i32,
    y: i32,
    w: u16,
    h: u16,
    dx: i32,
    dy: i32,
    colour: [u8; 3],
    title: &'static str,
}

/// The demo desktop.
///
/// ```
/// use rfb_examples::demo::Desktop;
/// let mut d = Desktop::new(320, 240);
/// let (a, _) = d.step("12:00:00");
/// let (b, mv) = d.step("12:00:00");
/// assert_eq!((a.width(), a.height()), (320, 240));
/// assert_ne!(a.data(), b.data(), "something moves every frame");
/// assert!(mv.is_some(), "the ticker scrolls by a CopyRect move");
/// ```
pub struct Desktop {
    width: u16,
    height: u16,
    background: Vec<u8>,
    windows: Vec<Window>,
    frame_no: u64,
    ticker_offset: usize,
    typed: String,
    clipboard: String,
    pointer: (u16, u16),
    dots: VecDeque<(u16, u16, [u8; 3])>,
    buttons: u16,
}

impl std::fmt::Debug for Desktop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desktop")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("frame_no", &self.frame_no)
            .finish_non_exhaustive()
    }
}

/// The demo's pixel format: 32-bit little-endian true colour, bytes B G R X.
pub const FORMAT: PixelFormat = PixelFormat::RGB888;

impl Desktop {
    /// A desktop of `width` x `height` (at least 320 x 240 recommended).
    pub fn new(width: u16, height: u16) -> Desktop {
        let (w, h) = (usize::from(width), usize::from(height));
        let mut background = vec![0u8; w * h * 4];
        for y in 0..h {
            for x in 0..w {
                put(&mut background, w, x, y, DESKTOP);
            }
        }
        // The photo-like area: sky, sun, hills, water; smooth gradients and detail.
        let (px, py) = (w * 11 / 20, h / 12);
        let (pw, ph) = (w * 2 / 5, h * 2 / 5);
        for y in 0..ph {
            for x in 0..pw {
                let (fx, fy) = (x as f32 / pw as f32, y as f32 / ph as f32);
                let hill = 0.55 + 0.12 * (fx * 9.0).sin() + 0.05 * (fx * 23.0 + 1.0).sin();
                let aspect = pw as f32 / ph.max(1) as f32;
                let sun = (((fx - 0.7) * aspect).powi(2) + (fy - 0.25).powi(2)).sqrt();
                let rgb = if sun < 0.08 {
                    [255, 230, 140]
                } else if fy < hill {
                    let glow = (0.35 - sun).max(0.0) * 300.0;
                    [
                        (90.0 + 120.0 * fy + glow).min(255.0) as u8,
                        (140.0 + 80.0 * fy + glow * 0.6).min(255.0) as u8,
                        (230.0 - 60.0 * fy) as u8,
                    ]
                } else if fy < 0.85 {
                    let t = (fy - hill) / (0.85 - hill).max(0.01);
                    let grain = ((x * 7 + y * 13) % 17) as f32;
                    [
                        (40.0 + 30.0 * t + grain) as u8,
                        (120.0 - 40.0 * t + grain) as u8,
                        (40.0 + grain) as u8,
                    ]
                } else {
                    let ripple = (fx * 60.0 + fy * 40.0).sin() * 20.0;
                    [
                        (30.0 + ripple.abs()) as u8,
                        (70.0 + ripple) as u8,
                        (150.0 + ripple) as u8,
                    ]
                };
                put(&mut background, w, px + x, py + y, rgb);
            }
        }
        let windows = vec![
            Window {
                x: 30,
                y: 60,
                w: (width / 3).max(80),
                h: (height / 4).max(60),
                dx: 3,
                dy: 2,
                colour: [0xe8, 0xe8, 0xe0],
                title: "HELLO FROM RUST",
            },
            Window {
                x: i32::from(width / 2),
                y: i32::from(height / 2),
                w: (width / 4).max(80),
                h: (height / 5).max(50),
                dx: -2,
                dy: 3,
                colour: [0xf0, 0xe0, 0xd0],
                title: "STATS",
            },
        ];
        Desktop {
            width,
            height,
            background,
            windows,
            frame_no: 0,
            ticker_offset: 0,
            typed: String::new(),
            clipboard: String::new(),
            pointer: (0, 0),
            dots: VecDeque::new(),
            buttons: 0,
        }
    }

    /// Changes the desktop size (a viewer's SetDesktopSize): the background is redrawn
    /// and the windows kept inside; input state and the frame counter carry over.
    pub fn resize(&mut self, width: u16, height: u16) {
        let fresh = Desktop::new(width, height);
        self.width = width;
        self.height = height;
        self.background = fresh.background;
        for (win, new) in self.windows.iter_mut().zip(fresh.windows) {
            win.w = new.w;
            win.h = new.h;
            win.x = win.x.clamp(0, (i32::from(width) - i32::from(win.w)).max(0));
            win.y = win
                .y
                .clamp(28, (i32::from(height) - i32::from(win.h) - 30).max(28));
        }
        self.ticker_offset = 0;
    }

    /// Frames rendered so far.
    pub fn frame_no(&self) -> u64 {
        self.frame_no
    }

    /// Reacts to a viewer's event: pointer (a pressed button paints), keys (printable
    /// characters are echoed; BackSpace deletes; Return clears), clipboard text.
    pub fn handle(&mut self, event: &ServerEvent) {
        match event {
            ServerEvent::Message(ClientMessage::PointerEvent(p)) => {
                self.pointer = (p.x, p.y);
                self.buttons = p.buttons;
                if p.buttons & (PointerEvent::LEFT | PointerEvent::RIGHT) != 0 {
                    let colour = if p.buttons & PointerEvent::LEFT != 0 {
                        [0xff, 0x30, 0x30]
                    } else {
                        [0x30, 0x30, 0xff]
                    };
                    if self.dots.len() >= MAX_DOTS {
                        self.dots.pop_front();
                    }
                    self.dots.push_back((p.x, p.y, colour));
                }
            }
            ServerEvent::Message(ClientMessage::KeyEvent(k)) if k.down => self.key(k.keysym),
            ServerEvent::Message(ClientMessage::QemuKeyEvent(k)) if k.down => self.key(k.keysym),
            ServerEvent::ClipboardText(t) => {
                self.clipboard = t.chars().filter(|c| !c.is_control()).take(40).collect();
            }
            _ => {}
        }
    }

    fn key(&mut self, keysym: u32) {
        match keysym {
            0xff08 => {
                self.typed.pop();
            }
            0xff0d => self.typed.clear(),
            0x20..=0x7e => {
                if self.typed.len() >= MAX_TYPED {
                    self.typed.remove(0);
                }
                if let Some(c) = char::from_u32(keysym) {
                    self.typed.push(c);
                }
            }
            _ => {}
        }
    }

    /// Advances one frame and renders it; `clock` is the text shown as the clock. The
    /// move, when present, is the ticker's scroll (hand it to the session with the
    /// frame so CopyRect viewers get it as a copy).
    pub fn step(&mut self, clock: &str) -> (Framebuffer, Option<CopyMove>) {
        self.frame_no += 1;
        let (w, h) = (usize::from(self.width), usize::from(self.height));
        let work_bottom = i32::from(self.height.saturating_sub(TICKER_H));
        for win in &mut self.windows {
            win.x += win.dx;
            win.y += win.dy;
            let max_x = i32::from(self.width) - i32::from(win.w);
            let max_y = work_bottom - i32::from(win.h);
            if win.x < 0 || win.x > max_x {
                win.dx = -win.dx;
                win.x = win.x.clamp(0, max_x.max(0));
            }
            if win.y < 28 || win.y > max_y {
                win.dy = -win.dy;
                win.y = win.y.clamp(28, max_y.max(28));
            }
        }
        self.ticker_offset += usize::from(TICKER_STEP);
        let mut px = self.background.clone();
        // Top bar with title and clock.
        fill(&mut px, w, 0, 0, w, 24, BAR);
        text(&mut px, w, 8, 5, 2, "RFB DEMO", WHITE);
        let clock_x = w.saturating_sub(clock.len() * font::ADVANCE * 2 + 8);
        text(&mut px, w, clock_x, 5, 2, clock, WHITE);
        // Typed text and clipboard panel.
        let panel_y = h.saturating_sub(usize::from(TICKER_H) + 70);
        fill(
            &mut px,
            w,
            10,
            panel_y,
            w.saturating_sub(20).min(520),
            60,
            BAR,
        );
        let typed = format!("TYPED: {}_", self.typed);
        text(&mut px, w, 16, panel_y + 8, 2, &typed, WHITE);
        let clip = format!("CLIPBOARD: {}", self.clipboard);
        text(&mut px, w, 16, panel_y + 34, 2, &clip, [0xa0, 0xe0, 0xff]);
        // Windows.
        for (i, win) in self.windows.iter().enumerate() {
            let (x, y) = (win.x as usize, win.y as usize);
            let (ww, wh) = (usize::from(win.w), usize::from(win.h));
            fill(&mut px, w, x + 4, y + 4, ww, wh, [0x10, 0x30, 0x38]); // shadow
            fill(&mut px, w, x, y, ww, wh, win.colour);
            fill(&mut px, w, x, y, ww, 18, [0x30, 0x50, 0xa0]);
            text(&mut px, w, x + 6, y + 4, 1, win.title, WHITE);
            let body = if i == 0 {
                format!("FRAME {}", self.frame_no)
            } else {
                format!("POINTER {},{}", self.pointer.0, self.pointer.1)
            };
            text(&mut px, w, x + 8, y + 28, 2, &body, [0x20, 0x20, 0x20]);
            if i == 1 {
                let buttons = format!("BUTTONS {:03b}", self.buttons & 7);
                text(&mut px, w, x + 8, y + 50, 1, &buttons, [0x20, 0x20, 0x20]);
            }
        }
        // Painted dots, above everything but the bars.
        for &(dx, dy, c) in &self.dots {
            let (dx, dy) = (usize::from(dx), usize::from(dy));
            if dy + 3 < usize::from(work_bottom as u16) && dy >= 24 {
                fill(&mut px, w, dx.saturating_sub(2), dy - 2, 5, 5, c);
            }
        }
        // Ticker: the text drawn at a position that moves TICKER_STEP pixels per frame.
        let ty = h.saturating_sub(usize::from(TICKER_H));
        fill(&mut px, w, 0, ty, w, usize::from(TICKER_H), TICKER_BG);
        let text_w = TICKER_TEXT.len() * font::ADVANCE * 2;
        let period = text_w + w;
        let shift = self.ticker_offset % period;
        let start = w as i64 - shift as i64;
        text_clipped(&mut px, w, start, ty + 5, 2, TICKER_TEXT, TICKER_FG, ty, h);
        // The ticker scrolls as a move, except on the frame it wraps around.
        let mv =
            (shift >= usize::from(TICKER_STEP) && self.width > TICKER_STEP).then(|| CopyMove {
                src: Rect::new(TICKER_STEP, ty as u16, self.width - TICKER_STEP, TICKER_H),
                dst_x: 0,
                dst_y: ty as u16,
            });
        let fb = Framebuffer::from_data(self.width, self.height, FORMAT, px)
            .unwrap_or_else(|_| Framebuffer::new(self.width, self.height, FORMAT));
        (fb, mv)
    }
}

/// Writes one pixel (B G R X bytes) if inside the buffer.
fn put(px: &mut [u8], w: usize, x: usize, y: usize, rgb: [u8; 3]) {
    if x >= w {
        return;
    }
    let i = (y * w + x) * 4;
    if let Some(p) = px.get_mut(i..i + 4) {
        p.copy_from_slice(&[rgb[2], rgb[1], rgb[0], 0]);
    }
}

fn fill(px: &mut [u8], w: usize, x: usize, y: usize, rw: usize, rh: usize, rgb: [u8; 3]) {
    let h = px.len() / 4 / w.max(1);
    for yy in y..(y + rh).min(h) {
        for xx in x..(x + rw).min(w) {
            put(px, w, xx, yy, rgb);
        }
    }
}

fn text(px: &mut [u8], w: usize, x: usize, y: usize, scale: usize, s: &str, rgb: [u8; 3]) {
    let h = px.len() / 4 / w.max(1);
    text_clipped(px, w, x as i64, y, scale, s, rgb, 0, h);
}

/// Draws `s` at (`x`, `y`), keeping to rows `y0..y1`; `x` may be negative.
#[allow(clippy::too_many_arguments)]
fn text_clipped(
    px: &mut [u8],
    w: usize,
    x: i64,
    y: usize,
    scale: usize,
    s: &str,
    rgb: [u8; 3],
    y0: usize,
    y1: usize,
) {
    let adv = (font::ADVANCE * scale) as i64;
    for (i, c) in s.chars().enumerate() {
        let gx = x + i as i64 * adv;
        if gx + adv < 0 || gx >= w as i64 {
            continue;
        }
        let g = font::glyph(c);
        for (row, bits) in g.iter().enumerate() {
            for col in 0..5 {
                if bits & (0x10 >> col) == 0 {
                    continue;
                }
                for sy in 0..scale {
                    let yy = y + row * scale + sy;
                    if yy < y0 || yy >= y1 {
                        continue;
                    }
                    for sx in 0..scale {
                        let xx = gx + (col * scale + sx) as i64;
                        if xx >= 0 {
                            put(px, w, xx as usize, yy, rgb);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rfb_proto::client::KeyEvent;

    #[test]
    fn ticker_move_explains_the_scroll() {
        let mut d = Desktop::new(400, 300);
        let (a, _) = d.step("00:00:00");
        let (b, mv) = d.step("00:00:00");
        let mv = mv.unwrap();
        let mut moved = a.clone();
        moved.copy_within(mv.src, mv.dst_x, mv.dst_y).unwrap();
        // Everything in the ticker band but the newly exposed right edge is the move.
        let band = Rect::new(0, mv.dst_y, 400 - TICKER_STEP, TICKER_H);
        assert_eq!(
            moved.view(band).unwrap().to_packed(),
            b.view(band).unwrap().to_packed()
        );
    }

    #[test]
    fn typed_keys_and_clicks_show_up() {
        let mut d = Desktop::new(400, 300);
        let (before, _) = d.step("x");
        d.handle(&ServerEvent::Message(ClientMessage::KeyEvent(KeyEvent {
            down: true,
            keysym: u32::from(b'A'),
        })));
        assert_eq!(d.typed, "A");
        d.handle(&ServerEvent::Message(ClientMessage::PointerEvent(
            PointerEvent {
                buttons: PointerEvent::LEFT,
                x: 200,
                y: 150,
            },
        )));
        let (after, _) = d.step("x");
        let red = after.view(Rect::new(200, 150, 1, 1)).unwrap().to_packed();
        assert_eq!(red, [0x30, 0x30, 0xff, 0]);
        assert_ne!(before.data(), after.data());
    }
}
