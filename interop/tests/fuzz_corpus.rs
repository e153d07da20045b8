//! Replays every committed fuzz input (seed corpora and crash regressions) through the
//! function its cargo-fuzz target calls, so fixed crashes stay fixed on every `cargo test`,
//! in a debug build with overflow checks, without cargo-fuzz or a nightly toolchain.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// What every fuzz target calls: must not panic for any input.
type FuzzFn = fn(&[u8]);

/// Fuzz target name (fuzz/fuzz_targets/<name>.rs) -> the function it calls.
const TARGETS: &[(&str, FuzzFn)] = &[
    ("proto_client_stream", rfb_proto::fuzzing::client_stream),
    ("proto_server_stream", rfb_proto::fuzzing::server_stream),
    (
        "proto_extended_clipboard",
        rfb_proto::fuzzing::extended_clipboard,
    ),
    ("server_handshake", rfb_server::fuzzing::handshake),
    ("client_handshake", rfb_client::fuzzing::handshake),
    ("client_viewer", rfb_client::fuzzing::viewer),
    ("server_normal_phase", rfb_server::fuzzing::normal_phase),
    ("codec_decode_raw", rfb_codec::fuzzing::decode_raw),
    (
        "codec_decode_copy_rect",
        rfb_codec::fuzzing::decode_copy_rect,
    ),
    ("codec_decode_rre", rfb_codec::fuzzing::decode_rre),
    ("codec_decode_corre", rfb_codec::fuzzing::decode_corre),
    ("codec_decode_hextile", rfb_codec::fuzzing::decode_hextile),
    ("codec_decode_cursor", rfb_codec::fuzzing::decode_cursor),
    (
        "codec_roundtrip_hextile",
        rfb_codec::fuzzing::roundtrip_hextile,
    ),
    ("codec_roundtrip_rre", rfb_codec::fuzzing::roundtrip_rre),
    ("codec_roundtrip_raw", rfb_codec::fuzzing::roundtrip_raw),
    ("codec_translate", rfb_codec::fuzzing::translate),
    ("codec_region", rfb_codec::fuzzing::region),
    ("codec_decode_zlib", rfb_codec::fuzzing_zlib::decode_zlib),
    ("codec_decode_zrle", rfb_codec::fuzzing_zlib::decode_zrle),
    ("codec_decode_trle", rfb_codec::fuzzing_zlib::decode_trle),
    (
        "codec_roundtrip_zlib",
        rfb_codec::fuzzing_zlib::roundtrip_zlib,
    ),
    (
        "codec_roundtrip_zrle",
        rfb_codec::fuzzing_zlib::roundtrip_zrle,
    ),
    (
        "codec_roundtrip_trle",
        rfb_codec::fuzzing_zlib::roundtrip_trle,
    ),
    ("codec_decode_tight", rfb_codec::fuzzing_tight::decode_tight),
    (
        "codec_decode_tight_png",
        rfb_codec::fuzzing_tight::decode_tight_png,
    ),
    (
        "codec_roundtrip_tight",
        rfb_codec::fuzzing_tight::roundtrip_tight,
    ),
    (
        "codec_roundtrip_jpeg",
        rfb_codec::fuzzing_tight::roundtrip_jpeg,
    ),
    (
        "codec_damage_compare",
        rfb_codec::fuzzing_tight::damage_compare,
    ),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz")
}

/// The input files of one directory (missing directory: none), skipping dot files.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_fuzz_target_is_in_the_table() {
    let dir = fuzz_dir().join("fuzz_targets");
    let mut on_disk: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_suffix(".rs")
                .map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "fuzz/fuzz_targets and the TARGETS table of this test must match"
    );
}

#[test]
fn corpora_and_regressions_replay_without_panic() {
    let mut failures = Vec::new();
    let mut total = 0;
    for (target, f) in TARGETS {
        let corpus = inputs(&fuzz_dir().join("corpus").join(target));
        let regressions = inputs(&fuzz_dir().join("regressions").join(target));
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{target}/ is empty: run scripts/make-seeds.py"
        );
        assert!(
            fuzz_dir().join("regressions").join(target).is_dir(),
            "fuzz/regressions/{target}/ is missing (keep it, with a .gitkeep)"
        );
        for path in corpus.iter().chain(&regressions) {
            let data = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            total += 1;
            if panic::catch_unwind(AssertUnwindSafe(|| f(&data))).is_err() {
                failures.push(format!("{target}: {}", path.display()));
            }
        }
        println!(
            "{target}: {} corpus + {} regression inputs",
            corpus.len(),
            regressions.len()
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {total} inputs panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
