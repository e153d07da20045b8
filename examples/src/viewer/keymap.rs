//! winit keys to X keysyms and XT scan codes.

//!
//! # Dead keys
//!
//! The server's input method composes accents, so a dead key must reach it as the X
//! dead keysym (`dead_acute`, ...) followed by the plain base key. winit on X11 reports
//! a dead key as `Key::Dead(Some(c))`, `c` being what pressing the dead key twice
//! produces in the locale's Compose table (`´` for `dead_acute`, `°` for
//! `dead_abovering`, ...), and as `Key::Unidentified(NativeKey::Xkb(keysym))` when no
//! Compose table is loaded; [`dead_keysym`] maps the first, [`keysym`] passes the
//! second through. winit also composes locally: the key after a dead key arrives as
//! the composed character (`é`); [`base_after_dead`] recovers the base key (`e`) the
//! server must get instead.

use winit::keyboard::{Key, KeyCode, KeyLocation, NamedKey, NativeKey, PhysicalKey};

/// The X keysym for a key as winit reports it, or `None` for keys X has no keysym for.
///
/// Characters map to their Latin-1 keysym below U+0100 and to `0x0100_0000 + code
/// point` above (the X11 Unicode keysym convention); keypad keys (by location) to the
/// `KP_` keysyms; dead keys to the `dead_` keysyms.
pub fn keysym(logical: &Key, location: KeyLocation) -> Option<u32> {
    if location == KeyLocation::Numpad {
        if let Some(k) = keypad(logical) {
            return Some(k);
        }
    }
    match logical {
        Key::Character(s) => {
            let mut chars = s.chars();
            let c = chars.next()?;
            if chars.next().is_some() {
                return None;
            }
            Some(char_keysym(c))
        }
        Key::Named(n) => named(*n, location),
        Key::Dead(Some(c)) => dead_keysym(*c),
        // winit gives keys it has no name for as the X keysym itself (on X11, a dead
        // key when no Compose table is loaded, or a key that cancelled a composition).
        Key::Unidentified(NativeKey::Xkb(sym)) if *sym != 0 => Some(*sym),
        _ => None,
    }
}

/// True for the X dead keysyms (`dead_grave` 0xfe50 to `dead_longsolidusoverlay`
/// 0xfe93, keysymdef.h).
pub fn is_dead_keysym(sym: u32) -> bool {
    (0xfe50..=0xfe93).contains(&sym)
}

/// True for modifier keysyms (Shift, Control, Caps Lock, Meta, Alt, Super, Hyper:
/// 0xffe1 to 0xffee; the ISO level and group shifts and locks: 0xfe01 to 0xfe13). They
/// do not end a dead-key composition.
pub fn is_modifier_keysym(sym: u32) -> bool {
    (0xffe1..=0xffee).contains(&sym) || (0xfe01..=0xfe13).contains(&sym)
}

/// The keysym to send for the key pressed right after a dead key, when it differs from
/// [`keysym`]'s: `composed` is winit's logical key (already composed locally, e.g. `é`
/// or `É`), `unmodified` the key without modifiers (winit's `key_without_modifiers`,
/// e.g. `e`). The server gets the base key, in the case of the composed character, so
/// that its input method composes it with the dead keysym sent before. `None` when
/// winit did not compose (the key is sent as it is).
pub fn base_after_dead(composed: &Key, unmodified: &Key) -> Option<u32> {
    let Key::Character(s) = composed else {
        return None;
    };
    let mut chars = s.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    match unmodified {
        Key::Character(b) => {
            let mut bs = b.chars();
            let base = bs.next()?;
            if bs.next().is_some() || base == c {
                return None;
            }
            let base = if c.is_uppercase() {
                let mut up = base.to_uppercase();
                match (up.next(), up.next()) {
                    (Some(u), None) => u,
                    _ => base,
                }
            } else {
                base
            };
            (base != c).then(|| char_keysym(base))
        }
        // Space after a dead key gives the spacing accent; a second press of the dead
        // key gives it too.
        Key::Named(n) => named(*n, KeyLocation::Standard),
        Key::Dead(Some(d)) => dead_keysym(*d),
        Key::Unidentified(NativeKey::Xkb(sym)) if *sym != 0 => Some(*sym),
        _ => None,
    }
}

/// The keysym of a character.
pub fn char_keysym(c: char) -> u32 {
    let cp = c as u32;
    if (0x20..0x7f).contains(&cp) || (0xa0..0x100).contains(&cp) {
        cp
    } else {
        0x0100_0000 + cp
    }
}

/// The X dead keysym for the character winit reports with a dead key: the spacing
/// accent the Compose table gives for the dead key pressed twice (X.Org's
/// `en_US.UTF-8/Compose`, `<dead_X> <dead_X>` lines), the combining accent (U+03xx),
/// and the ASCII stand-ins other platforms use (`'` and `"`).
pub fn dead_keysym(c: char) -> Option<u32> {
    Some(match c {
        '`' | '\u{300}' => 0xfe50,        // dead_grave
        '´' | '\'' | '\u{301}' => 0xfe51, // dead_acute
        '^' | 'ˆ' | '\u{302}' => 0xfe52,  // dead_circumflex
        '~' | '˜' | '\u{303}' => 0xfe53,  // dead_tilde
        '¯' | '\u{304}' => 0xfe54,        // dead_macron
        '˘' | '\u{306}' => 0xfe55,        // dead_breve
        '˙' | '\u{307}' => 0xfe56,        // dead_abovedot
        '¨' | '"' | '\u{308}' => 0xfe57,  // dead_diaeresis
        '°' | '˚' | '\u{30a}' => 0xfe58,  // dead_abovering
        '˝' | '\u{30b}' => 0xfe59,        // dead_doubleacute
        'ˇ' | '\u{30c}' => 0xfe5a,        // dead_caron
        '¸' | '\u{327}' => 0xfe5b,        // dead_cedilla
        '˛' | '\u{328}' => 0xfe5c,        // dead_ogonek
        'ͺ' | '\u{345}' => 0xfe5d,        // dead_iota
        '゛' | '\u{3099}' => 0xfe5e,      // dead_voiced_sound
        '゜' | '\u{309a}' => 0xfe5f,      // dead_semivoiced_sound
        '\u{323}' => 0xfe60,              // dead_belowdot
        '\u{309}' => 0xfe61,              // dead_hook
        '\u{31b}' => 0xfe62,              // dead_horn
        '/' | '\u{338}' => 0xfe63,        // dead_stroke
        ',' | '\u{326}' => 0xfe6e,        // dead_belowcomma
        '¤' => 0xfe6f,                    // dead_currency
        'µ' => 0xfe8c,                    // dead_greek
        _ => return None,
    })
}

fn keypad(k: &Key) -> Option<u32> {
    Some(match k {
        Key::Character(s) => match s.as_str() {
            "0" => 0xffb0,
            "1" => 0xffb1,
            "2" => 0xffb2,
            "3" => 0xffb3,
            "4" => 0xffb4,
            "5" => 0xffb5,
            "6" => 0xffb6,
            "7" => 0xffb7,
            "8" => 0xffb8,
            "9" => 0xffb9,
            "*" => 0xffaa,
            "+" => 0xffab,
            "-" => 0xffad,
            "." | "," => 0xffae,
            "/" => 0xffaf,
            "=" => 0xffbd,
            _ => return None,
        },
        Key::Named(NamedKey::Enter) => 0xff8d,
        Key::Named(NamedKey::Home) => 0xff95,
        Key::Named(NamedKey::ArrowLeft) => 0xff96,
        Key::Named(NamedKey::ArrowUp) => 0xff97,
        Key::Named(NamedKey::ArrowRight) => 0xff98,
        Key::Named(NamedKey::ArrowDown) => 0xff99,
        Key::Named(NamedKey::PageUp) => 0xff9a,
        Key::Named(NamedKey::PageDown) => 0xff9b,
        Key::Named(NamedKey::End) => 0xff9c,
        Key::Named(NamedKey::Clear) => 0xff9d,
        Key::Named(NamedKey::Insert) => 0xff9e,
        Key::Named(NamedKey::Delete) => 0xff9f,
        _ => return None,
    })
}

fn named(n: NamedKey, location: KeyLocation) -> Option<u32> {
    let right = location == KeyLocation::Right;
    Some(match n {
        NamedKey::Backspace => 0xff08,
        NamedKey::Tab => 0xff09,
        NamedKey::Enter => 0xff0d,
        NamedKey::Pause => 0xff13,
        NamedKey::ScrollLock => 0xff14,
        NamedKey::Escape => 0xff1b,
        NamedKey::Home => 0xff50,
        NamedKey::ArrowLeft => 0xff51,
        NamedKey::ArrowUp => 0xff52,
        NamedKey::ArrowRight => 0xff53,
        NamedKey::ArrowDown => 0xff54,
        NamedKey::PageUp => 0xff55,
        NamedKey::PageDown => 0xff56,
        NamedKey::End => 0xff57,
        NamedKey::PrintScreen => 0xff61,
        NamedKey::Insert => 0xff63,
        NamedKey::ContextMenu => 0xff67,
        NamedKey::NumLock => 0xff7f,
        NamedKey::Shift => {
            if right {
                0xffe2
            } else {
                0xffe1
            }
        }
        NamedKey::Control => {
            if right {
                0xffe4
            } else {
                0xffe3
            }
        }
        NamedKey::CapsLock => 0xffe5,
        NamedKey::Meta | NamedKey::Super => {
            if right {
                0xffec
            } else {
                0xffeb
            }
        }
        NamedKey::Alt => {
            if right {
                0xffea
            } else {
                0xffe9
            }
        }
        NamedKey::AltGraph => 0xfe03,
        NamedKey::Delete => 0xffff,
        NamedKey::Space => 0x20,
        NamedKey::F1 => 0xffbe,
        NamedKey::F2 => 0xffbf,
        NamedKey::F3 => 0xffc0,
        NamedKey::F4 => 0xffc1,
        NamedKey::F5 => 0xffc2,
        NamedKey::F6 => 0xffc3,
        NamedKey::F7 => 0xffc4,
        NamedKey::F8 => 0xffc5,
        NamedKey::F9 => 0xffc6,
        NamedKey::F10 => 0xffc7,
        NamedKey::F11 => 0xffc8,
        NamedKey::F12 => 0xffc9,
        _ => return None,
    })
}

/// The XT (scan code set 1) code of a physical key, extended codes (0xe0 prefix) with
/// the high bit set as QEMU's extended key event wants them.
pub fn xt_keycode(physical: &PhysicalKey) -> Option<u32> {
    let PhysicalKey::Code(code) = physical else {
        return None;
    };
    use KeyCode::*;
    Some(match code {
        Escape => 0x01,
        Digit1 => 0x02,
        Digit2 => 0x03,
        Digit3 => 0x04,
        Digit4 => 0x05,
        Digit5 => 0x06,
        Digit6 => 0x07,
        Digit7 => 0x08,
        Digit8 => 0x09,
        Digit9 => 0x0a,
        Digit0 => 0x0b,
        Minus => 0x0c,
        Equal => 0x0d,
        Backspace => 0x0e,
        Tab => 0x0f,
        KeyQ => 0x10,
        KeyW => 0x11,
        KeyE => 0x12,
        KeyR => 0x13,
        KeyT => 0x14,
        KeyY => 0x15,
        KeyU => 0x16,
        KeyI => 0x17,
        KeyO => 0x18,
        KeyP => 0x19,
        BracketLeft => 0x1a,
        BracketRight => 0x1b,
        Enter => 0x1c,
        ControlLeft => 0x1d,
        KeyA => 0x1e,
        KeyS => 0x1f,
        KeyD => 0x20,
        KeyF => 0x21,
        KeyG => 0x22,
        KeyH => 0x23,
        KeyJ => 0x24,
        KeyK => 0x25,
        KeyL => 0x26,
        Semicolon => 0x27,
        Quote => 0x28,
        Backquote => 0x29,
        ShiftLeft => 0x2a,
        Backslash => 0x2b,
        KeyZ => 0x2c,
        KeyX => 0x2d,
        KeyC => 0x2e,
        KeyV => 0x2f,
        KeyB => 0x30,
        KeyN => 0x31,
        KeyM => 0x32,
        Comma => 0x33,
        Period => 0x34,
        Slash => 0x35,
        ShiftRight => 0x36,
        NumpadMultiply => 0x37,
        AltLeft => 0x38,
        Space => 0x39,
        CapsLock => 0x3a,
        F1 => 0x3b,
        F2 => 0x3c,
        F3 => 0x3d,
        F4 => 0x3e,
        F5 => 0x3f,
        F6 => 0x40,
        F7 => 0x41,
        F8 => 0x42,
        F9 => 0x43,
        F10 => 0x44,
        NumLock => 0x45,
        ScrollLock => 0x46,
        Numpad7 => 0x47,
        Numpad8 => 0x48,
        Numpad9 => 0x49,
        NumpadSubtract => 0x4a,
        Numpad4 => 0x4b,
        Numpad5 => 0x4c,
        Numpad6 => 0x4d,
        NumpadAdd => 0x4e,
        Numpad1 => 0x4f,
        Numpad2 => 0x50,
        Numpad3 => 0x51,
        Numpad0 => 0x52,
        NumpadDecimal => 0x53,
        IntlBackslash => 0x56,
        F11 => 0x57,
        F12 => 0x58,
        NumpadEnter => 0x9c,
        ControlRight => 0x9d,
        NumpadDivide => 0xb5,
        PrintScreen => 0xb7,
        AltRight => 0xb8,
        Home => 0xc7,
        ArrowUp => 0xc8,
        PageUp => 0xc9,
        ArrowLeft => 0xcb,
        ArrowRight => 0xcd,
        End => 0xcf,
        ArrowDown => 0xd0,
        PageDown => 0xd1,
        Insert => 0xd2,
        Delete => 0xd3,
        SuperLeft => 0xdb,
        SuperRight => 0xdc,
        ContextMenu => 0xdd,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keysyms_follow_x11() {
        // Values from X11's keysymdef.h.
        assert_eq!(
            keysym(&Key::Character("a".into()), KeyLocation::Standard),
            Some(0x61)
        );
        assert_eq!(
            keysym(&Key::Character("é".into()), KeyLocation::Standard),
            Some(0xe9)
        );
        assert_eq!(
            keysym(&Key::Character("€".into()), KeyLocation::Standard),
            Some(0x0100_20ac)
        );
        assert_eq!(
            keysym(&Key::Named(NamedKey::Enter), KeyLocation::Standard),
            Some(0xff0d)
        );
        assert_eq!(
            keysym(&Key::Named(NamedKey::Enter), KeyLocation::Numpad),
            Some(0xff8d)
        );
        assert_eq!(
            keysym(&Key::Character("7".into()), KeyLocation::Numpad),
            Some(0xffb7)
        );
        assert_eq!(
            keysym(&Key::Named(NamedKey::Control), KeyLocation::Right),
            Some(0xffe4)
        );
        assert_eq!(
            keysym(&Key::Named(NamedKey::F12), KeyLocation::Standard),
            Some(0xffc9)
        );
        assert_eq!(
            keysym(&Key::Dead(Some('^')), KeyLocation::Standard),
            Some(0xfe52)
        );
        assert_eq!(
            keysym(
                &Key::Unidentified(NativeKey::Xkb(0xfe51)),
                KeyLocation::Standard
            ),
            Some(0xfe51)
        );
        assert_eq!(
            xt_keycode(&PhysicalKey::Code(KeyCode::ArrowRight)),
            Some(0xcd)
        );
        assert_eq!(xt_keycode(&PhysicalKey::Code(KeyCode::KeyA)), Some(0x1e));
    }
}

#[cfg(test)]
mod dead_key_tests {
    use super::*;

    /// Each `<dead_X> <dead_X> : "c"` line of X.Org's en_US.UTF-8 Compose file (what
    /// winit reports as `Key::Dead(Some(c))`), with the keysym of `dead_X` from
    /// keysymdef.h.
    const COMPOSE_DOUBLES: &[(char, u32, &str)] = &[
        ('~', 0xfe53, "dead_tilde"),
        ('´', 0xfe51, "dead_acute"),
        ('`', 0xfe50, "dead_grave"),
        ('^', 0xfe52, "dead_circumflex"),
        ('°', 0xfe58, "dead_abovering"),
        ('¯', 0xfe54, "dead_macron"),
        ('˘', 0xfe55, "dead_breve"),
        ('˙', 0xfe56, "dead_abovedot"),
        ('¨', 0xfe57, "dead_diaeresis"),
        ('˝', 0xfe59, "dead_doubleacute"),
        ('ˇ', 0xfe5a, "dead_caron"),
        ('¸', 0xfe5b, "dead_cedilla"),
        ('˛', 0xfe5c, "dead_ogonek"),
        ('ͺ', 0xfe5d, "dead_iota"),
        ('\u{323}', 0xfe60, "dead_belowdot"),
        (',', 0xfe6e, "dead_belowcomma"),
        ('¤', 0xfe6f, "dead_currency"),
        ('µ', 0xfe8c, "dead_greek"),
        ('\u{309}', 0xfe61, "dead_hook"),
        ('\u{31b}', 0xfe62, "dead_horn"),
        ('/', 0xfe63, "dead_stroke"),
    ];

    #[test]
    fn dead_keys_map_to_x_dead_keysyms() {
        for &(c, sym, name) in COMPOSE_DOUBLES {
            assert_eq!(
                keysym(&Key::Dead(Some(c)), KeyLocation::Standard),
                Some(sym),
                "{name} ({c:?})"
            );
            assert!(is_dead_keysym(sym), "{name}");
        }
        // Combining accents (other platforms) and the ASCII stand-ins.
        assert_eq!(dead_keysym('\u{301}'), Some(0xfe51));
        assert_eq!(dead_keysym('\u{308}'), Some(0xfe57));
        assert_eq!(dead_keysym('\''), Some(0xfe51));
        assert_eq!(dead_keysym('"'), Some(0xfe57));
        // A dead key winit could not name: nothing to send.
        assert_eq!(keysym(&Key::Dead(None), KeyLocation::Standard), None);
        assert_eq!(dead_keysym('q'), None);
        // Without a Compose table, winit passes the dead keysym itself.
        assert_eq!(
            keysym(
                &Key::Unidentified(NativeKey::Xkb(0xfe57)),
                KeyLocation::Standard
            ),
            Some(0xfe57)
        );
        assert!(!is_dead_keysym(0xff08) && !is_dead_keysym(0x61));
        assert!(is_modifier_keysym(0xffe1) && is_modifier_keysym(0xfe03));
        assert!(!is_modifier_keysym(0xfe51));
    }

    fn ch(s: &str) -> Key {
        Key::Character(s.into())
    }

    #[test]
    fn the_key_after_a_dead_key_is_sent_uncomposed() {
        // dead_acute, then e: winit composed "é"; the server must get "e" (0x65).
        assert_eq!(base_after_dead(&ch("é"), &ch("e")), Some(0x65));
        // With Shift (or Caps Lock): "É" composed, "e" unmodified: send "E" (0x45).
        assert_eq!(base_after_dead(&ch("É"), &ch("e")), Some(0x45));
        // dead_circumflex, then Shift+a: "Â" -> "A".
        assert_eq!(base_after_dead(&ch("Â"), &ch("a")), Some(0x41));
        // dead_diaeresis then u: "ü" -> "u".
        assert_eq!(base_after_dead(&ch("ü"), &ch("u")), Some(0x75));
        // dead_acute then space gives the spacing accent: send space.
        assert_eq!(
            base_after_dead(&ch("´"), &Key::Named(NamedKey::Space)),
            Some(0x20)
        );
        // The dead key pressed twice: send the dead keysym again.
        assert_eq!(
            base_after_dead(&ch("´"), &Key::Unidentified(NativeKey::Xkb(0xfe51))),
            Some(0xfe51)
        );
        // Nothing composed (the key is what it is): send it unchanged.
        assert_eq!(base_after_dead(&ch("q"), &ch("q")), None);
        assert_eq!(
            base_after_dead(&Key::Unidentified(NativeKey::Xkb(0x71)), &ch("q")),
            None
        );
        assert_eq!(
            base_after_dead(&Key::Named(NamedKey::Enter), &ch("x")),
            None
        );
    }
}
