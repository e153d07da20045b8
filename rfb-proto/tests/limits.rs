//! Limits are enforced from the counts and lengths alone, before bodies arrive.

use rfb_proto::{
    ClientMessage, ClientParseState, Error, Limit, LimitExceeded, Limits, Malformed, ServerMessage,
};

fn exceeded(limit: Limit, requested: u64, allowed: u64) -> Error {
    LimitExceeded {
        limit,
        requested,
        allowed,
    }
    .into()
}

#[test]
fn cut_text_over_the_limit_fails_before_the_body() {
    let limits = Limits {
        max_cut_text: 4096,
        ..Limits::default()
    };
    let st = ClientParseState::default();
    // Classic, length 4097: only the 8-byte header is present.
    assert_eq!(
        ClientMessage::decode(&[6, 0, 0, 0, 0, 0, 0x10, 0x01], &st, &limits),
        Err(exceeded(Limit::CutText, 4097, 4096))
    );
    assert_eq!(
        ServerMessage::decode(&[3, 0, 0, 0, 0, 0, 0x10, 0x01], &limits),
        Err(exceeded(Limit::CutText, 4097, 4096))
    );
    // Extended, length -4097.
    assert_eq!(
        ClientMessage::decode(&[6, 0, 0, 0, 0xff, 0xff, 0xef, 0xff], &st, &limits),
        Err(exceeded(Limit::CutText, 4097, 4096))
    );
    // i32::MIN has no positive twin: still just a length over the limit.
    assert_eq!(
        ServerMessage::decode(&[3, 0, 0, 0, 0x80, 0, 0, 0], &limits),
        Err(exceeded(Limit::CutText, 1 << 31, 4096))
    );
    // Exactly at the limit is fine (and needs the body).
    assert_eq!(
        ClientMessage::decode(&[6, 0, 0, 0, 0, 0, 0x10, 0x00], &st, &limits),
        Ok(rfb_proto::Progress::NeedMore { at_least: 8 + 4096 })
    );
}

#[test]
fn set_encodings_count() {
    let st = ClientParseState::default();
    // Default limit 1024; 1025 asked.
    assert_eq!(
        ClientMessage::decode(&[2, 0, 0x04, 0x01], &st, &Limits::default()),
        Err(exceeded(Limit::Encodings, 1025, 1024))
    );
    let limits = Limits {
        max_encodings: 2,
        ..Limits::default()
    };
    assert_eq!(
        ClientMessage::decode(&[2, 0, 0, 3], &st, &limits),
        Err(exceeded(Limit::Encodings, 3, 2))
    );
}

#[test]
fn colour_map_entries_count() {
    let limits = Limits {
        max_colour_map_entries: 256,
        ..Limits::default()
    };
    assert_eq!(
        ServerMessage::decode(&[1, 0, 0, 0, 1, 1], &limits),
        Err(exceeded(Limit::ColourMapEntries, 257, 256))
    );
}

#[test]
fn set_desktop_size_screens_and_size() {
    let st = ClientParseState::default();
    let limits = Limits {
        max_screens: 2,
        max_framebuffer_width: 4000,
        ..Limits::default()
    };
    assert_eq!(
        ClientMessage::decode(&[251, 0, 4, 0, 3, 0, 3, 0], &st, &limits),
        Err(exceeded(Limit::Screens, 3, 2))
    );
    assert_eq!(
        ClientMessage::decode(&[251, 0, 0x0f, 0xa1, 3, 0, 1, 0], &st, &limits),
        Err(exceeded(Limit::FramebufferWidth, 4001, 4000))
    );
}

#[test]
fn fence_payload_over_64() {
    let st = ClientParseState::default();
    assert_eq!(
        ClientMessage::decode(&[248, 0, 0, 0, 0, 0, 0, 0, 0xff], &st, &Limits::default()),
        Err(Malformed::FencePayload(255).into())
    );
}
