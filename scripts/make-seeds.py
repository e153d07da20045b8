#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets: fuzz/corpus/<target>/<name>.

Every input is a small, valid byte sequence built here field by field from the RFB
specification (the community rfbproto document / RFC 6143), not from our own encoders,
so the fuzzers start from inputs that reach deep into each parser.  Standard library only.

    scripts/make-seeds.py            (re)write every seed file; prints what it wrote
    scripts/make-seeds.py --check    exit 1 if a committed seed differs from what this writes

Targets and what their input is:
  proto_client_stream       client->server messages of the normal phase, back to back
  proto_server_stream       server->client messages of the normal phase. The fuzz function also
                            reads byte 0 as a split point and byte 1 % 3 as the pixel format
                            (2 = RGB888), so updates here carry padding byte 2: RGB888, 32 bpp
  proto_extended_clipboard  Extended Clipboard: the extended body (flags + data); and, read as
                            a formats U16 + an inflated provide stream, the (size, data) pairs
  server_handshake          one byte N (bytes are fed N at a time; 0 counts as 1), then the
                            bytes a client sends from the version string to ClientInit
  client_handshake          one byte N as above, then the bytes a server sends from the
                            version string to ServerInit
"""
import os
import struct
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def u8(v):
    return struct.pack(">B", v)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def s32(v):
    return struct.pack(">i", v)


# ------------------------------------------------------------------ common structures
def pixel_format(bpp=32, depth=24, big_endian=0, true_colour=1,
                 maxes=(255, 255, 255), shifts=(16, 8, 0)):
    """PIXEL_FORMAT (16 bytes): bpp, depth, big-endian, true-colour, r/g/b max (U16),
    r/g/b shift (U8), 3 bytes padding."""
    return (u8(bpp) + u8(depth) + u8(big_endian) + u8(true_colour)
            + u16(maxes[0]) + u16(maxes[1]) + u16(maxes[2])
            + u8(shifts[0]) + u8(shifts[1]) + u8(shifts[2]) + b"\0" * 3)


RGB888 = pixel_format()
RGB565 = pixel_format(16, 16, 0, 1, (31, 63, 31), (11, 5, 0))
BGR233 = pixel_format(8, 8, 0, 1, (7, 7, 3), (0, 3, 6))
COLOUR_MAP8 = pixel_format(8, 8, 0, 0, (0, 0, 0), (0, 0, 0))

# encoding numbers from the spec's encoding table
RAW, COPYRECT, RRE, HEXTILE, TIGHT, ZRLE = 0, 1, 2, 5, 7, 16
DESKTOP_SIZE, LAST_RECT, CURSOR = -223, -224, -239
EXT_CLIPBOARD = struct.unpack(">i", struct.pack(">I", 0xC0A1E5CE))[0]

# Extended Clipboard flag bits
CB_TEXT, CB_RTF, CB_HTML = 1 << 0, 1 << 1, 1 << 2
CB_CAPS, CB_REQUEST, CB_PEEK, CB_NOTIFY, CB_PROVIDE = 1 << 24, 1 << 25, 1 << 26, 1 << 27, 1 << 28


# ------------------------------------------------------------------ client -> server
def set_pixel_format(pf):
    return u8(0) + b"\0" * 3 + pf


def set_encodings(encs):
    return u8(2) + b"\0" + u16(len(encs)) + b"".join(s32(e) for e in encs)


def fb_update_request(incremental, x, y, w, h):
    return u8(3) + u8(incremental) + u16(x) + u16(y) + u16(w) + u16(h)


def key_event(down, keysym):
    return u8(4) + u8(down) + b"\0\0" + u32(keysym)


def pointer_event(mask, x, y):
    return u8(5) + u8(mask) + u16(x) + u16(y)


def client_cut_text(text):
    return u8(6) + b"\0" * 3 + u32(len(text)) + text


# ------------------------------------------------------------------ server -> client
def rect(x, y, w, h, enc, payload=b""):
    return u16(x) + u16(y) + u16(w) + u16(h) + s32(enc) + payload


def fb_update(rects, padding=2):
    """FramebufferUpdate; the padding byte is 2 so the fuzz function picks RGB888."""
    return u8(0) + u8(padding) + u16(len(rects)) + b"".join(rects)


def raw_rgb888(pixels):
    """Raw payload at RGB888 (32 bpp, little-endian, shifts 16/8/0): bytes B, G, R, 0."""
    return b"".join(bytes((b, g, r, 0)) for (r, g, b) in pixels)


def set_colour_map_entries(first, colours):
    return (u8(1) + b"\0" + u16(first) + u16(len(colours))
            + b"".join(u16(r) + u16(g) + u16(b) for (r, g, b) in colours))


def bell():
    return u8(2)


def server_cut_text(text):
    return u8(3) + b"\0" * 3 + u32(len(text)) + text


# ------------------------------------------------------------------ Extended Clipboard
def ext_caps(formats_sizes, actions):
    flags = CB_CAPS | actions
    sizes = b""
    for bit, size in formats_sizes:
        flags |= bit
        sizes += u32(size)
    return u32(flags) + sizes


def ext_provide(items):
    """provide: flags, then ONE zlib stream holding (size U32, data) per format."""
    flags = CB_PROVIDE
    stream = b""
    for bit, data in items:
        flags |= bit
        stream += u32(len(data)) + data
    return u32(flags) + zlib.compress(stream)


# ------------------------------------------------------------------ handshake
def version(minor):
    return b"RFB 003.%03d\n" % minor


def server_init(w, h, pf, name):
    return u16(w) + u16(h) + pf + u32(len(name)) + name


CHALLENGE = bytes(range(0x10, 0x20))  # any 16 bytes: the server's VNC auth challenge
RESPONSE = bytes(range(0xA0, 0xB0))   # any 16 bytes: a client's (possibly wrong) answer


def chunked(inputs):
    """The handshake targets read one byte N first and feed the rest N bytes at a time:
    each input whole (N = 255), and the plain None ones also byte by byte and in 5-byte chunks."""
    out = {}
    for name, data in sorted(inputs.items()):
        out[name] = u8(255) + data
        if name in ("v38-none", "v38-none-shared", "v33-none", "v33-shared"):
            out[name + "-bytewise"] = u8(1) + data
            out[name + "-chunks5"] = u8(5) + data
    return out


def seeds():
    s = {}
    # ---- proto_client_stream
    c = {}
    c["set-pixel-format-rgb888"] = set_pixel_format(RGB888)
    c["set-pixel-format-rgb565"] = set_pixel_format(RGB565)
    c["set-pixel-format-bgr233"] = set_pixel_format(BGR233)
    c["set-pixel-format-colour-map"] = set_pixel_format(COLOUR_MAP8)
    c["set-encodings"] = set_encodings([ZRLE, HEXTILE, COPYRECT, RAW, DESKTOP_SIZE, LAST_RECT,
                                        CURSOR, EXT_CLIPBOARD])
    c["set-encodings-empty"] = set_encodings([])
    c["fbur-full"] = fb_update_request(0, 0, 0, 800, 600)
    c["fbur-incremental"] = fb_update_request(1, 10, 20, 30, 40)
    c["key-a-down-up"] = key_event(1, 0x61) + key_event(0, 0x61)
    c["key-return"] = key_event(1, 0xFF0D) + key_event(0, 0xFF0D)
    c["pointer"] = pointer_event(0, 5, 7) + pointer_event(1, 5, 7) + pointer_event(0, 6, 8)
    c["client-cut-text"] = client_cut_text(b"hello, world\n")
    c["client-cut-text-latin1"] = client_cut_text("caf\u00e9".encode("latin-1"))
    c["session"] = (set_pixel_format(RGB888)
                    + set_encodings([RAW, COPYRECT, HEXTILE, ZRLE, TIGHT, DESKTOP_SIZE, EXT_CLIPBOARD])
                    + fb_update_request(0, 0, 0, 2, 2)
                    + key_event(1, 0x61) + key_event(0, 0x61)
                    + pointer_event(1, 1, 1) + pointer_event(0, 1, 1)
                    + client_cut_text(b"x")
                    + fb_update_request(1, 0, 0, 2, 2))
    s["proto_client_stream"] = c
    # ---- proto_server_stream
    v = {}
    red, green, blue, white = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
    raw2x2 = rect(0, 0, 2, 2, RAW, raw_rgb888([red, green, blue, white]))
    v["fbu-raw-2x2"] = fb_update([raw2x2])
    v["fbu-empty"] = fb_update([])
    v["fbu-copyrect"] = fb_update([rect(1, 0, 1, 1, COPYRECT, u16(0) + u16(0))])
    v["fbu-desktop-size"] = fb_update([rect(0, 0, 4, 3, DESKTOP_SIZE)])
    v["fbu-raw-last-rect"] = fb_update([raw2x2, rect(0, 0, 0, 0, LAST_RECT)])
    v["set-colour-map-entries"] = set_colour_map_entries(0, [(0, 0, 0), (65535, 0, 0), (0, 65535, 65535)])
    v["bell"] = bell()
    v["server-cut-text"] = server_cut_text(b"from the server")
    v["session"] = fb_update([raw2x2]) + bell() + server_cut_text(b"x")
    s["proto_server_stream"] = v
    # ---- proto_extended_clipboard
    e = {}
    caps = ext_caps([(CB_TEXT, 20 << 20), (CB_RTF, 0), (CB_HTML, 0)],
                    CB_REQUEST | CB_PEEK | CB_NOTIFY | CB_PROVIDE)
    provide = ext_provide([(CB_TEXT, b"hello\r\nworld\0")])
    e["body-caps"] = caps
    e["body-request-text"] = u32(CB_REQUEST | CB_TEXT)
    e["body-peek"] = u32(CB_PEEK)
    e["body-notify-text-html"] = u32(CB_NOTIFY | CB_TEXT | CB_HTML)
    e["body-provide-text"] = provide
    e["body-provide-text-html"] = ext_provide([(CB_TEXT, b"hi\0"), (CB_HTML, b"<b>hi</b>\0")])
    e["inflated-provide-text"] = u16(CB_TEXT) + u32(6) + b"hello\0"
    e["inflated-provide-text-rtf"] = u16(CB_TEXT | CB_RTF) + u32(3) + b"hi\0" + u32(9) + b"{\\rtf1 }\0"
    s["proto_extended_clipboard"] = e
    # ---- server_handshake: what a client sends
    h = {}
    h["v38-none-shared"] = version(8) + u8(1) + u8(1)
    h["v38-none-exclusive"] = version(8) + u8(1) + u8(0)
    h["v38-vncauth"] = version(8) + u8(2) + RESPONSE + u8(1)
    h["v37-none"] = version(7) + u8(1) + u8(1)
    h["v33-shared"] = version(3) + u8(1)
    h["v38-none-then-messages"] = (version(8) + u8(1) + u8(1) + set_pixel_format(RGB888)
                                   + set_encodings([RAW]) + fb_update_request(0, 0, 0, 2, 2))
    s["server_handshake"] = chunked(h)
    # ---- client_handshake: what a server sends
    k = {}
    init = server_init(2, 2, RGB888, b"x")
    k["v38-none"] = version(8) + u8(1) + u8(1) + u32(0) + init
    k["v38-vncauth-ok"] = version(8) + u8(1) + u8(2) + CHALLENGE + u32(0) + init
    k["v38-vncauth-failed"] = (version(8) + u8(1) + u8(2) + CHALLENGE + u32(1)
                               + u32(22) + b"Authentication failure")
    k["v38-no-types-reason"] = version(8) + u8(0) + u32(13) + b"not permitted"
    k["v38-two-types"] = version(8) + u8(2) + u8(2) + u8(1) + u32(0) + init
    k["v37-none"] = version(7) + u8(1) + u8(1) + init
    k["v33-none"] = version(3) + u32(1) + init
    k["v33-vncauth"] = version(3) + u32(2) + CHALLENGE + u32(0) + init
    k["v38-none-rgb565-named"] = (version(8) + u8(1) + u8(1) + u32(0)
                                  + server_init(800, 600, RGB565, b"rfb desktop"))
    s["client_handshake"] = chunked(k)
    return s


def main():
    check = "--check" in sys.argv[1:]
    bad = 0
    for target, files in seeds().items():
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(files.items()):
            p = os.path.join(d, name)
            if check:
                try:
                    same = open(p, "rb").read() == data
                except OSError:
                    same = False
                if not same:
                    print(f"differs: {os.path.relpath(p, ROOT)}")
                    bad += 1
                continue
            with open(p, "wb") as f:
                f.write(data)
            print(f"wrote {os.path.relpath(p, ROOT)} ({len(data)} bytes)")
        reg = os.path.join(ROOT, "fuzz", "regressions", target)
        if not check:
            os.makedirs(reg, exist_ok=True)
            keep = os.path.join(reg, ".gitkeep")
            if not os.listdir(reg):
                open(keep, "wb").close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
