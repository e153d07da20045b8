//! The X clipboard for `rfb-x11-server`, both ways, on a connection of its own.
//!
//! * **Viewer → X** ([`Clipboard::set_text`]): a small hidden (InputOnly, never mapped)
//!   window takes ownership of the `CLIPBOARD` and `PRIMARY` selections, and the event
//!   loop ([`Clipboard::run`]) answers other clients' `SelectionRequest`s for
//!   `TARGETS`, `UTF8_STRING`, `STRING` (Latin-1; other characters become `?`) and
//!   `TEXT` (answered as `UTF8_STRING`). Anything else is refused (property `None`).
//! * **X → viewers**: XFixes reports every new owner of `CLIPBOARD`; when it is another
//!   client, the selection is converted to `UTF8_STRING` (falling back to `STRING`)
//!   into a property of the hidden window, read back, and handed to the callback of
//!   [`Clipboard::run`] (which pushes it to the viewers).
//! * **Never an echo**: ownership changes to our own window are ignored, and text equal
//!   to the last text transferred in either direction is not passed on again.
//! * **Size cap** [`MAX_CLIPBOARD_BYTES`] (1 MiB) both ways: bigger text from a viewer
//!   is not offered; a bigger selection, or one offered by `INCR` (the incremental
//!   protocol owners use for large transfers), is skipped with a note.
//!
//! Selections are owned with `CurrentTime` (the loop has no event timestamp at hand when
//! a viewer's text arrives); every current client accepts that.

use std::sync::{Mutex, PoisonError};

use anyhow::{Context, Result};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::xfixes::{self, ConnectionExt as _, SelectionEventMask};
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, PropMode, SelectionNotifyEvent,
    SelectionRequestEvent, Window, WindowClass,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::{CURRENT_TIME, NONE};

/// Largest clipboard text passed either way, in bytes (UTF-8).
pub const MAX_CLIPBOARD_BYTES: usize = 1 << 20;

/// The atoms the selection protocol needs.
#[derive(Debug, Clone, Copy)]
struct Atoms {
    clipboard: Atom,
    targets: Atom,
    utf8: Atom,
    text: Atom,
    incr: Atom,
    /// The property of our window conversions are written to.
    dest: Atom,
}

/// What to write for one `SelectionRequest` target: property type, format, bytes.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// `format`-bit items of type `kind`.
    Data {
        kind: Atom,
        format: u8,
        bytes: Vec<u8>,
    },
    /// Refuse the request (property `None` in the SelectionNotify).
    Refuse,
}

impl Atoms {
    /// The answer to a request for `target` while we hold `text`.
    fn answer(&self, target: Atom, text: &str) -> Answer {
        let string: Atom = AtomEnum::STRING.into();
        if target == self.targets {
            let list = [self.targets, self.utf8, string, self.text];
            let bytes = list.iter().flat_map(|a| a.to_ne_bytes()).collect();
            Answer::Data {
                kind: AtomEnum::ATOM.into(),
                format: 32,
                bytes,
            }
        } else if target == self.utf8 || target == self.text {
            Answer::Data {
                kind: self.utf8,
                format: 8,
                bytes: text.as_bytes().to_vec(),
            }
        } else if target == string {
            Answer::Data {
                kind: string,
                format: 8,
                bytes: to_latin1(text),
            }
        } else {
            Answer::Refuse
        }
    }
}

/// Latin-1 bytes of `text`; characters beyond U+00FF become `?`.
fn to_latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// Text of a property of type `STRING` (Latin-1) or anything else (taken as UTF-8,
/// invalid sequences replaced).
fn property_text(is_latin1: bool, bytes: &[u8]) -> String {
    if is_latin1 {
        bytes.iter().map(|&b| char::from(b)).collect()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// Shared state: the text we offer, and the last text moved either way.
#[derive(Debug, Default)]
struct State {
    ours: Option<String>,
    last: Option<String>,
}

/// The X clipboard on its own connection: set it with [`Clipboard::set_text`], follow
/// it with [`Clipboard::run`] (blocking, on a thread of its own).
///
/// ```no_run
/// use std::sync::Arc;
/// use rfb_examples::x11::clipboard::Clipboard;
/// let clip = Arc::new(Clipboard::open(Some(":1"))?);
/// let follower = Arc::clone(&clip);
/// std::thread::spawn(move || follower.run(|text| println!("X clipboard: {text}")));
/// clip.set_text("from a viewer")?; // now owner of CLIPBOARD and PRIMARY
/// # Ok::<(), anyhow::Error>(())
/// ```
pub struct Clipboard {
    conn: RustConnection,
    window: Window,
    atoms: Atoms,
    state: Mutex<State>,
}

impl std::fmt::Debug for Clipboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clipboard")
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl Clipboard {
    /// Connects to `name` (`None`: `$DISPLAY`), creates the hidden window and asks
    /// XFixes (required) for `CLIPBOARD` owner changes.
    pub fn open(name: Option<&str>) -> Result<Clipboard> {
        let (conn, screen_no) = RustConnection::connect(name)
            .with_context(|| format!("connecting to X display {}", name.unwrap_or("$DISPLAY")))?;
        if conn
            .extension_information(xfixes::X11_EXTENSION_NAME)?
            .is_none()
        {
            anyhow::bail!("the X server has no XFixes (needed to follow the clipboard)");
        }
        conn.xfixes_query_version(5, 0)?.reply()?;
        let root = conn
            .setup()
            .roots
            .get(screen_no)
            .context("the X server has no such screen")?
            .root;
        let intern = |n: &[u8]| -> Result<Atom> { Ok(conn.intern_atom(false, n)?.reply()?.atom) };
        let atoms = Atoms {
            clipboard: intern(b"CLIPBOARD")?,
            targets: intern(b"TARGETS")?,
            utf8: intern(b"UTF8_STRING")?,
            text: intern(b"TEXT")?,
            incr: intern(b"INCR")?,
            dest: intern(b"RFB_X11_SERVER_SELECTION")?,
        };
        let window = conn.generate_id()?;
        conn.create_window(
            0,
            window,
            root,
            -10,
            -10,
            1,
            1,
            0,
            WindowClass::INPUT_ONLY,
            0,
            &CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE),
        )?
        .check()
        .context("creating the clipboard window")?;
        conn.change_property8(
            PropMode::REPLACE,
            window,
            AtomEnum::WM_NAME,
            AtomEnum::STRING,
            b"rfb-x11-server clipboard",
        )?;
        conn.xfixes_select_selection_input(
            window,
            atoms.clipboard,
            SelectionEventMask::SET_SELECTION_OWNER,
        )?
        .check()?;
        conn.flush()?;
        Ok(Clipboard {
            conn,
            window,
            atoms,
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Offers `text` as the `CLIPBOARD` and `PRIMARY` selections (a viewer's cut text).
    /// Returns false, changing nothing, when it exceeds [`MAX_CLIPBOARD_BYTES`].
    pub fn set_text(&self, text: &str) -> Result<bool> {
        if text.len() > MAX_CLIPBOARD_BYTES {
            return Ok(false);
        }
        {
            let mut s = self.state();
            s.ours = Some(text.to_owned());
            s.last = Some(text.to_owned());
        }
        for selection in [self.atoms.clipboard, AtomEnum::PRIMARY.into()] {
            self.conn
                .set_selection_owner(self.window, selection, CURRENT_TIME)?;
        }
        self.conn.flush()?;
        Ok(true)
    }

    /// Serves selection requests and follows the `CLIPBOARD` until the connection
    /// fails; `on_text` gets each new text another X client put on it. Skipped
    /// transfers (too big, `INCR`) are noted on stderr. Losing a selection needs no
    /// action: requests only come while we own it.
    pub fn run(&self, mut on_text: impl FnMut(String)) -> Result<()> {
        loop {
            match self.conn.wait_for_event()? {
                Event::SelectionRequest(r) => self.answer(&r)?,
                Event::XfixesSelectionNotify(n)
                    if n.selection == self.atoms.clipboard
                        && n.owner != NONE
                        && n.owner != self.window =>
                {
                    self.convert(self.atoms.utf8, n.timestamp)?;
                }
                Event::SelectionNotify(n) if n.requestor == self.window => {
                    if let Some(text) = self.fetch(&n)? {
                        let fresh = {
                            let mut s = self.state();
                            let fresh = s.last.as_deref() != Some(text.as_str());
                            s.last = Some(text.clone());
                            fresh
                        };
                        if fresh {
                            on_text(text);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn convert(&self, target: Atom, time: u32) -> Result<()> {
        self.conn.convert_selection(
            self.window,
            self.atoms.clipboard,
            target,
            self.atoms.dest,
            time,
        )?;
        self.conn.flush()?;
        Ok(())
    }

    /// Reads the converted selection; `None` when refused, skipped or retried.
    fn fetch(&self, n: &SelectionNotifyEvent) -> Result<Option<String>> {
        if n.selection != self.atoms.clipboard {
            return Ok(None);
        }
        if n.property == NONE {
            // UTF8_STRING refused: older clients may still give STRING.
            if n.target == self.atoms.utf8 {
                self.convert(AtomEnum::STRING.into(), n.time)?;
            }
            return Ok(None);
        }
        let cap_words = u32::try_from(MAX_CLIPBOARD_BYTES / 4).unwrap_or(u32::MAX);
        let reply = self
            .conn
            .get_property(true, self.window, n.property, AtomEnum::ANY, 0, cap_words)?
            .reply()?;
        if reply.type_ == self.atoms.incr {
            eprintln!("x clipboard: skipped an INCR (large) transfer");
            return Ok(None);
        }
        if reply.bytes_after > 0 {
            // Delete what is left (the partial read did not).
            self.conn.delete_property(self.window, n.property)?;
            self.conn.flush()?;
            eprintln!(
                "x clipboard: skipped {} bytes (more than {MAX_CLIPBOARD_BYTES})",
                reply.value.len() as u64 + u64::from(reply.bytes_after)
            );
            return Ok(None);
        }
        if reply.format != 8 {
            return Ok(None);
        }
        let latin1 = reply.type_ == Atom::from(AtomEnum::STRING);
        Ok(Some(property_text(latin1, &reply.value)))
    }

    /// Answers one request for our selection (ICCCM §2.2).
    fn answer(&self, r: &SelectionRequestEvent) -> Result<()> {
        let text = self.state().ours.clone();
        // Obsolete clients pass no property: use the target's name.
        let property = if r.property == NONE {
            r.target
        } else {
            r.property
        };
        let answer = match (&text, r.owner == self.window) {
            (Some(t), true) => self.atoms.answer(r.target, t),
            _ => Answer::Refuse,
        };
        let property = match answer {
            Answer::Data {
                kind,
                format,
                bytes,
            } => {
                let len = u32::try_from(bytes.len() / usize::from(format / 8))
                    .context("selection too large")?;
                self.conn.change_property(
                    PropMode::REPLACE,
                    r.requestor,
                    property,
                    kind,
                    format,
                    len,
                    &bytes,
                )?;
                property
            }
            Answer::Refuse => NONE,
        };
        let notify = SelectionNotifyEvent {
            response_type: x11rb::protocol::xproto::SELECTION_NOTIFY_EVENT,
            sequence: 0,
            time: r.time,
            requestor: r.requestor,
            selection: r.selection,
            target: r.target,
            property,
        };
        self.conn
            .send_event(false, r.requestor, EventMask::NO_EVENT, notify)?;
        self.conn.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atoms() -> Atoms {
        Atoms {
            clipboard: 100,
            targets: 101,
            utf8: 102,
            text: 103,
            incr: 104,
            dest: 105,
        }
    }

    #[test]
    fn requests_get_utf8_latin1_targets_or_a_refusal() {
        let a = atoms();
        let text = "café €";
        assert_eq!(
            a.answer(a.utf8, text),
            Answer::Data {
                kind: 102,
                format: 8,
                bytes: "café €".as_bytes().to_vec()
            }
        );
        // STRING is ISO Latin-1: é is 0xe9, the euro sign has no code.
        assert_eq!(
            a.answer(31, text),
            Answer::Data {
                kind: 31,
                format: 8,
                bytes: vec![b'c', b'a', b'f', 0xe9, b' ', b'?']
            }
        );
        let Answer::Data {
            kind,
            format,
            bytes,
        } = a.answer(a.targets, text)
        else {
            panic!("TARGETS refused");
        };
        assert_eq!((kind, format), (4, 32)); // ATOM
        let listed: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(listed, vec![101, 102, 31, 103]);
        assert_eq!(a.answer(999, text), Answer::Refuse);
    }

    #[test]
    fn property_text_decodes_latin1_and_utf8() {
        assert_eq!(property_text(true, &[b'a', 0xe9]), "aé");
        assert_eq!(property_text(false, "aé".as_bytes()), "aé");
        assert_eq!(property_text(false, &[b'a', 0xff]), "a\u{fffd}");
    }
}
