//! UpdatePlanner: whole updates decoded back, per profile, with moves, solids and
//! pixel-format translation.

use bytes::BytesMut;
use rfb_codec::damage::{DamageTracker, Move};
use rfb_codec::planner::{BenchSession, Profile, UpdatePlanner, WireEncoding};
use rfb_codec::tight::TightDecoder;
use rfb_codec::{CodecLimits, Framebuffer, PixelFormat, Rect, RectDecoder, Region, Translator};
use rfb_proto::{Encoding, Progress};

/// A desktop-like frame: solid background, a "window" with text-like rows, and a
/// photo-like gradient area.
fn desktop(w: u16, h: u16, seed: u32) -> Framebuffer {
    let mut fb = Framebuffer::new(w, h, PixelFormat::RGB888);
    fb.fill(fb.rect(), &[0x30, 0x60, 0x90, 0]).unwrap();
    fb.fill(
        Rect::new(40, 30, 400, 300).clip_to(w, h),
        &[0xff, 0xff, 0xff, 0],
    )
    .unwrap();
    let mut s = seed | 1;
    for y in (40..320.min(h - 8)).step_by(12) {
        for x in 50..430.min(w) {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            if s % 3 == 0 {
                fb.fill(Rect::new(x, y, 1, 8), &[0, 0, 0, 0]).unwrap();
            }
        }
    }
    for y in 200..h.min(400) {
        for x in 460..w.min(700) {
            let px = [
                (x.wrapping_mul(3) ^ y) as u8,
                ((x as f64 / 7.0).sin() * 100.0 + 128.0) as u8,
                ((y as f64 / 5.0).cos() * 100.0 + 128.0) as u8,
                0,
            ];
            fb.fill(Rect::new(x, y, 1, 1), &px).unwrap();
        }
    }
    fb
}

#[test]
fn every_profile_round_trips() {
    let frame = desktop(720, 420, 5);
    for (profile, lossless) in [
        (
            Profile::Tight {
                quality: None,
                compress: 2,
            },
            true,
        ),
        (
            Profile::Tight {
                quality: None,
                compress: 9,
            },
            true,
        ),
        (
            Profile::Tight {
                quality: Some(8),
                compress: 2,
            },
            false,
        ),
        (Profile::Zrle { compress: 2 }, true),
        (Profile::Hextile, true),
        (Profile::Auto, false),
    ] {
        let mut s = BenchSession::new(&frame, profile).unwrap();
        let update = s.encode(&frame, &Region::from(frame.rect()), &[]).unwrap();
        s.apply(&update).unwrap();
        let q = s.psnr(&frame);
        if lossless {
            assert!(q.is_infinite(), "{profile:?}: {q}");
        } else {
            assert!(q >= 30.0, "{profile:?}: {q} dB");
        }
        let raw = frame.data().len();
        assert!(
            update.len() < raw / 4,
            "{profile:?}: {} bytes of {raw}",
            update.len()
        );
    }
}

#[test]
fn moves_come_first_as_copyrect_and_replay() {
    let old = desktop(640, 400, 1);
    let mut new = old.clone();
    new.copy_within(Rect::new(40, 60, 400, 270), 40, 30)
        .unwrap();
    new.fill(Rect::new(40, 300, 400, 30), &[1, 2, 3, 0])
        .unwrap();
    let mut tracker = DamageTracker::new(&old);
    let damage = tracker.refine(&new, &Region::from(new.rect())).unwrap();
    assert_eq!(damage.moves.len(), 1);

    let mut s = BenchSession::new(
        &old,
        Profile::Tight {
            quality: None,
            compress: 2,
        },
    )
    .unwrap();
    let first = s.encode(&old, &Region::from(old.rect()), &[]).unwrap();
    s.apply(&first).unwrap();
    let update = s.encode(&new, &damage.changed, &damage.moves).unwrap();
    // First rectangle after the 4-byte header: CopyRect (encoding 1).
    assert_eq!(
        i32::from_be_bytes([update[12], update[13], update[14], update[15]]),
        1
    );
    s.apply(&update).unwrap();
    assert_eq!(s.mirror(), &new);
}

#[test]
fn solid_areas_become_single_rectangles() {
    let fb = Framebuffer::new(1024, 512, PixelFormat::RGB888);
    let mut p =
        UpdatePlanner::new(*fb.format(), *fb.format(), None, &Profile::Auto.encodings()).unwrap();
    let mut out = BytesMut::new();
    let s = p
        .plan(&fb, &Region::from(fb.rect()), &[], &mut out)
        .unwrap();
    assert_eq!((s.rects, s.solids), (1, 1), "{s:?}");
    assert_eq!(s.bytes, 4 + 12 + 4, "header, rect header, Tight fill");

    // Hextile clients with RRE get RRE solids.
    let mut p = UpdatePlanner::new(
        *fb.format(),
        *fb.format(),
        None,
        &[Encoding::HEXTILE, Encoding::RRE],
    )
    .unwrap();
    assert_eq!(p.wire_encoding(), WireEncoding::Hextile);
    let mut out = BytesMut::new();
    let s = p
        .plan(&fb, &Region::from(fb.rect()), &[], &mut out)
        .unwrap();
    assert_eq!(s.solids, 1);
    assert_eq!(i32::from_be_bytes([out[12], out[13], out[14], out[15]]), 2);
}

/// Noise everywhere except the given solid areas.
fn noise_with(w: u16, h: u16, solids: &[(Rect, [u8; 4])]) -> Framebuffer {
    let mut fb = Framebuffer::new(w, h, PixelFormat::RGB888);
    let mut s = 0x1234_5678u32;
    for y in 0..h {
        for x in 0..w {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let b = s.to_le_bytes();
            fb.fill(Rect::new(x, y, 1, 1), &[b[0], b[1], b[2], 0])
                .unwrap();
        }
    }
    for (r, px) in solids {
        fb.fill(*r, px).unwrap();
    }
    fb
}

#[test]
fn solid_areas_reach_their_exact_edges_and_small_ones_stay() {
    // A 101x53 area at odd offsets (its whole 16-pixel blocks: 96x32, a fill grown to
    // the exact edges) and a 40x40 one (1600 < SOLID_MIN_AREA: encoded with its
    // neighbours).
    let big = Rect::new(13, 21, 101, 53);
    let small = Rect::new(150, 70, 40, 40);
    let fb = noise_with(256, 128, &[(big, [9, 8, 7, 0]), (small, [1, 2, 3, 0])]);
    let mut s = BenchSession::new(
        &Framebuffer::new(256, 128, PixelFormat::RGB888),
        Profile::Tight {
            quality: None,
            compress: 2,
        },
    )
    .unwrap();
    let update = s
        .encode(&fb, &Region::from(fb.rect()), &[])
        .unwrap()
        .to_vec();
    s.apply(&update).unwrap();
    assert_eq!(s.mirror(), &fb);
    // Tight rectangles whose compression control byte says fill (0x80).
    let mut fills = Vec::new();
    let mut i = 4;
    let count = u16::from_be_bytes([update[2], update[3]]);
    let mut dec = TightDecoder::new();
    for _ in 0..count {
        let r = Rect::new(
            u16::from_be_bytes([update[i], update[i + 1]]),
            u16::from_be_bytes([update[i + 2], update[i + 3]]),
            u16::from_be_bytes([update[i + 4], update[i + 5]]),
            u16::from_be_bytes([update[i + 6], update[i + 7]]),
        );
        i += 12;
        if update[i] == 0x80 {
            fills.push(r);
        }
        let Progress::Done { consumed, .. } = dec
            .frame(r, fb.format(), &update[i..], &CodecLimits::default())
            .unwrap()
        else {
            panic!("truncated update");
        };
        i += consumed;
    }
    assert_eq!(i, update.len());
    assert_eq!(fills, vec![big], "the big area exactly, the small one not");
}

#[test]
fn translates_to_the_client_format() {
    let frame = desktop(600, 360, 9);
    let client = PixelFormat::RGB565;
    let mut p = UpdatePlanner::new(
        *frame.format(),
        client,
        None,
        &[Encoding::TIGHT, Encoding::for_compress_level(1)],
    )
    .unwrap();
    let mut out = BytesMut::new();
    let s = p
        .plan(&frame, &Region::from(frame.rect()), &[], &mut out)
        .unwrap();
    // Decode by hand with a client-side framebuffer.
    let mut mirror = Framebuffer::new(600, 360, client);
    let mut dec = TightDecoder::new();
    let limits = CodecLimits::default();
    let mut at = 4;
    for _ in 0..s.rects {
        let h = &out[at..at + 12];
        let be = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        let rect = Rect::new(be(0), be(2), be(4), be(6));
        assert_eq!(i32::from_be_bytes([h[8], h[9], h[10], h[11]]), 7);
        at += 12;
        let Progress::Done { consumed, .. } =
            dec.frame(rect, &client, &out[at..], &limits).unwrap()
        else {
            panic!("incomplete");
        };
        dec.decode(rect, &out[at..at + consumed], &mut mirror, &limits)
            .unwrap();
        at += consumed;
    }
    assert_eq!(at, out.len());
    let t = Translator::new(frame.format(), None, &client, None).unwrap();
    let want = t.translate(&frame.view(frame.rect()).unwrap()).unwrap();
    assert_eq!(mirror.data(), &want[..]);
}

#[test]
fn without_copyrect_moves_are_encoded() {
    let old = desktop(320, 240, 2);
    let mut new = old.clone();
    new.copy_within(Rect::new(0, 20, 320, 200), 0, 0).unwrap();
    let m = Move {
        dst: Rect::new(0, 0, 320, 200),
        src_x: 0,
        src_y: 20,
    };
    let mut p = UpdatePlanner::new(*old.format(), *old.format(), None, &[Encoding::ZRLE]).unwrap();
    let mut out = BytesMut::new();
    let s = p.plan(&new, &Region::new(), &[m], &mut out).unwrap();
    assert_eq!(s.copies, 0);
    assert!(s.rects >= 1);
}

#[test]
fn gradient_only_for_viewers_that_decode_it() {
    // Smooth, busy content: the gradient filter applies (Tight filter id 2 follows a
    // compression-control byte with bit 6 set).
    let mut fb = Framebuffer::new(128, 64, PixelFormat::RGB888);
    for y in 0..64u16 {
        for x in 0..128u16 {
            let px = [(x * 2) as u8, (y * 4) as u8, (x + y) as u8, 0];
            fb.fill(Rect::new(x, y, 1, 1), &px).unwrap();
        }
    }
    let uses_gradient = |encs: &[Encoding]| {
        let mut p = UpdatePlanner::new(*fb.format(), *fb.format(), None, encs).unwrap();
        let mut out = BytesMut::new();
        p.plan(&fb, &Region::from(fb.rect()), &[], &mut out)
            .unwrap();
        out[16] & 0x40 != 0 && out[17] == 2
    };
    assert!(uses_gradient(&[Encoding::TIGHT]));
    // noVNC lists TightPNG and cannot decode the gradient filter.
    assert!(!uses_gradient(&[Encoding::TIGHT, Encoding::TIGHT_PNG]));
}

/// Parallel Tight (2 and 3 threads) writes the same bytes as one thread, update after
/// update (the zlib lanes carry state across updates), through a compress-level change
/// (lane resets), with JPEG and without, in the server format and translated to RGB565;
/// and a client decodes the parallel stream to the same framebuffer.
#[test]
fn parallel_tight_matches_sequential() {
    let frames: Vec<Framebuffer> = (0..4).map(|i| desktop(720, 420, 3 + i)).collect();
    let hints = [
        Region::from(Rect::new(0, 0, 720, 420)),
        Region::from(Rect::new(30, 20, 500, 380)),
        [Rect::new(440, 180, 280, 240), Rect::new(0, 0, 100, 50)]
            .into_iter()
            .collect(),
        Region::from(Rect::new(0, 0, 720, 420)),
    ];
    for quality in [None, Some(8)] {
        for client in [PixelFormat::RGB888, PixelFormat::RGB565] {
            let list = |c: u8| {
                let mut v = vec![Encoding::TIGHT, Encoding::for_compress_level(c)];
                v.extend(quality.map(Encoding::for_quality_level));
                v
            };
            let server = *frames[0].format();
            let mut planners: Vec<UpdatePlanner> = [1usize, 2, 3]
                .iter()
                .map(|&n| {
                    let mut p = UpdatePlanner::new(server, client, None, &list(2)).unwrap();
                    p.set_threads(n);
                    p
                })
                .collect();
            let mut mirror = Framebuffer::new(720, 420, client);
            let mut dec = TightDecoder::new();
            let limits = CodecLimits::default();
            for (i, (frame, hint)) in frames.iter().zip(&hints).enumerate() {
                if i == 2 {
                    for p in &mut planners {
                        p.set_encodings(&list(6)); // restarts the lanes used so far
                    }
                }
                let outs: Vec<BytesMut> = planners
                    .iter_mut()
                    .map(|p| {
                        let mut out = BytesMut::new();
                        p.plan(frame, hint, &[], &mut out).unwrap();
                        out
                    })
                    .collect();
                assert!(outs[0].len() > 100);
                assert_eq!(
                    outs[1], outs[0],
                    "2 threads, update {i}, {quality:?} {client:?}"
                );
                assert_eq!(
                    outs[2], outs[0],
                    "3 threads, update {i}, {quality:?} {client:?}"
                );
                // Decode the 2-thread stream.
                let out = &outs[1];
                let count = u16::from_be_bytes([out[2], out[3]]);
                let mut at = 4;
                for _ in 0..count {
                    let h = &out[at..at + 12];
                    let be = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
                    let rect = Rect::new(be(0), be(2), be(4), be(6));
                    at += 12;
                    let Progress::Done { consumed, .. } =
                        dec.frame(rect, &client, &out[at..], &limits).unwrap()
                    else {
                        panic!("incomplete");
                    };
                    dec.decode(rect, &out[at..at + consumed], &mut mirror, &limits)
                        .unwrap();
                    at += consumed;
                }
                assert_eq!(at, out.len());
            }
            if quality.is_none() {
                // Lossless: the mirror holds the last frame inside every hinted area;
                // the last hint is the whole frame.
                let t = Translator::new(&server, None, &client, None).unwrap();
                let want = t
                    .translate(&frames[3].view(frames[3].rect()).unwrap())
                    .unwrap();
                assert_eq!(mirror.data(), &want[..], "{client:?}");
            }
        }
    }
}
