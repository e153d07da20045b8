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
  codec_*, client_viewer    rectangle payloads of every encoding (Raw, CopyRect, RRE, CoRRE,
                            Hextile, Cursor, Zlib, ZRLE, TRLE, Tight, TightPNG), pixel sources for the
                            round trips, formats, regions, frames: see codec_seeds() for
                            the header bytes each fuzz function reads first
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



# ------------------------------------------------------------------ rectangle payloads (codec)
# Pixels below are (r, g, b) triples written at RGB888 (32 bpp little-endian, shifts 16/8/0),
# whose CPIXEL/TPIXEL (ZRLE, TRLE, Tight: depth 24 fits in 3 bytes) is the 3 low bytes B, G, R.
RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


def px(c):
    return raw_rgb888([c])


def cpx(c):
    return bytes((c[2], c[1], c[0]))


def rre_payload(bg, subs, compact=False):
    """RRE: U32 count, background pixel, then per subrect a pixel and x, y, w, h
    (U16 each; CoRRE: U8 each)."""
    f = u8 if compact else u16
    return u32(len(subs)) + px(bg) + b"".join(
        px(c) + f(x) + f(y) + f(w) + f(h) for (c, x, y, w, h) in subs)


HT_RAW, HT_BG, HT_FG, HT_ANY, HT_COLOURED = 1, 2, 4, 8, 16


def hextile_tile(mask, bg=None, fg=None, subs=(), raw=None):
    """One Hextile tile: the sub-encoding mask, then the fields it announces. Subrects are
    (colour or None, x, y, w, h): x<<4|y, (w-1)<<4|(h-1)."""
    out = u8(mask)
    if mask & HT_RAW:
        return out + raw_rgb888(raw)
    if mask & HT_BG:
        out += px(bg)
    if mask & HT_FG:
        out += px(fg)
    if mask & HT_ANY:
        out += u8(len(subs))
        for (c, x, y, w, h) in subs:
            if mask & HT_COLOURED:
                out += px(c)
            out += u8(x << 4 | y) + u8((w - 1) << 4 | (h - 1))
    return out


def rle_length(n):
    """ZRLE/TRLE run length n >= 1: bytes of 255 then the remainder, summing to n - 1."""
    n -= 1
    out = b""
    while n >= 255:
        out += u8(255)
        n -= 255
    return out + u8(n)


def zrle_tiles(w, h, size):
    """Tiles of a w x h rectangle (size 64: ZRLE, 16: TRLE), one of each sub-encoding in
    turn: solid, raw, packed palette (2 colours, 1 bit per pixel, rows padded), plain RLE,
    palette RLE."""
    out = b""
    k = 0
    for ty in range(0, h, size):
        for tx in range(0, w, size):
            tw, th = min(size, w - tx), min(size, h - ty)
            n = tw * th
            kind = k % 5
            k += 1
            if kind == 0:
                out += u8(1) + cpx(BLUE)
            elif kind == 1:
                out += u8(0) + b"".join(cpx((i * 7 % 256, i % 256, 255 - i % 256)) for i in range(n))
            elif kind == 2:
                out += u8(2) + cpx(RED) + cpx(WHITE)
                for y in range(th):
                    bits = [(x + y) % 2 for x in range(tw)]
                    row = 0
                    nbits = 0
                    rowbytes = b""
                    for b in bits:
                        row = row << 1 | b
                        nbits += 1
                        if nbits == 8:
                            rowbytes += u8(row)
                            row, nbits = 0, 0
                    if nbits:
                        rowbytes += u8(row << (8 - nbits))
                    out += rowbytes
            elif kind == 3:
                half = n // 2
                out += u8(128)
                if half:
                    out += cpx(GREEN) + rle_length(half)
                out += cpx(BLACK) + rle_length(n - half)
            else:
                out += u8(128 + 2) + cpx(RED) + cpx(BLUE)
                # index 0 once (top bit clear: a single pixel), then index 1 as a run of the rest
                if n == 1:
                    out += u8(0)
                else:
                    out += u8(0) + u8(0x80 | 1) + rle_length(n - 1)
    return out


def tight_compact_len(n):
    """Tight's compact length: 7 bits per byte, low bits first, at most 3 bytes."""
    out = bytes([n & 0x7F | (0x80 if n > 0x7F else 0)])
    if n > 0x7F:
        out += bytes([(n >> 7) & 0x7F | (0x80 if n > 0x3FFF else 0)])
        if n > 0x3FFF:
            out += bytes([n >> 14])
    return out


def codec_seeds(s):
    """Seeds of the rfb-codec and rfb-client Viewer targets; each matches how its fuzz
    function reads its first bytes (see the function's doc in the crate)."""
    # rfb_codec::fuzzing::{decode_*}: 7 header bytes: format index (0 = RGB888), framebuffer
    # width-1 and height-1 (% 48), rectangle x, y (% 64 below 0x80), w, h (% 64); payload.
    def head(fbw, fbh, x, y, w, h, fmt=0):
        return bytes((fmt, fbw - 1, fbh - 1, x, y, w, h))

    quad = [RED, GREEN, BLUE, WHITE]
    s["codec_decode_raw"] = {
        "raw-2x2": head(4, 4, 1, 1, 2, 2) + raw_rgb888(quad),
        "raw-empty": head(4, 4, 0, 0, 0, 0),
        "raw-rgb565-2x1": head(4, 4, 0, 0, 2, 1, fmt=3) + u16(0xF800)[::-1] + u16(0x07E0)[::-1],
        "raw-outside": head(4, 4, 3, 3, 2, 2) + raw_rgb888(quad),
    }
    s["codec_decode_copy_rect"] = {
        "copyrect": head(8, 8, 4, 4, 3, 3) + u16(0) + u16(1),
        "copyrect-overlap": head(8, 8, 1, 1, 4, 4) + u16(0) + u16(0),
    }
    s["codec_decode_rre"] = {
        "rre-two": head(16, 16, 0, 0, 16, 16) + rre_payload(BLACK, [(RED, 1, 1, 4, 4), (BLUE, 8, 2, 3, 10)]),
        "rre-none": head(8, 8, 0, 0, 8, 8) + rre_payload(GREEN, []),
    }
    s["codec_decode_corre"] = {
        "corre-two": head(16, 16, 0, 0, 16, 16) + rre_payload(BLACK, [(RED, 1, 1, 4, 4), (BLUE, 8, 2, 3, 10)], True),
    }
    # a 20x18 rectangle: four tiles (16x16, 4x16, 16x2, 4x2)
    tiles = (hextile_tile(HT_BG | HT_FG | HT_ANY, bg=BLACK, fg=WHITE, subs=[(None, 0, 0, 4, 4), (None, 8, 8, 8, 8)])
             + hextile_tile(HT_RAW, raw=[quad[i % 4] for i in range(4 * 16)])
             + hextile_tile(HT_BG | HT_ANY | HT_COLOURED, bg=BLUE, subs=[(RED, 0, 0, 1, 1), (GREEN, 15, 1, 1, 1)])
             + hextile_tile(0))
    s["codec_decode_hextile"] = {
        "hextile-4-tiles": head(24, 24, 2, 2, 20, 18) + tiles,
        "hextile-solid": head(16, 16, 0, 0, 16, 16) + hextile_tile(HT_BG, bg=RED),
    }
    # decode_cursor: byte 0 % 3 picks Cursor / XCursor / Cursor With Alpha, then the header.
    mask4x2 = bytes((0b11110000, 0b10010000))
    s["codec_decode_cursor"] = {
        "rich-4x2": u8(0) + head(8, 8, 1, 1, 4, 2) + raw_rgb888(quad + quad) + mask4x2,
        "xcursor-4x2": u8(1) + head(8, 8, 1, 1, 4, 2) + bytes((255, 0, 0, 0, 0, 255))
        + bytes((0b10100000, 0b01010000)) + mask4x2,
        "alpha-2x2": u8(2) + head(8, 8, 0, 0, 2, 2) + s32(RAW)
        + bytes((255, 0, 0, 255, 0, 128, 0, 128, 0, 0, 0, 0, 64, 64, 64, 64)),
    }
    # roundtrip_{hextile,raw}: format, w % 40, h % 40, colours % 8 + 1, then colour choices.
    picks = bytes(range(64))
    s["codec_roundtrip_hextile"] = {
        "rgb888-20x18": bytes((0, 20, 18, 3)) + picks,
        "rgb565-33x17": bytes((3, 33, 17, 7)) + picks[::-1],
        "colour-map-16x16": bytes((6, 16, 16, 1)) + bytes(8),
    }
    s["codec_roundtrip_raw"] = {"rgb888-5x3": bytes((0, 5, 3, 4)) + picks, "bgr888-7x2": bytes((1, 7, 2, 2)) + picks}
    # roundtrip_rre: byte 0 odd = CoRRE, even = RRE; then as above.
    s["codec_roundtrip_rre"] = {
        "rre-rgb888-20x18": bytes((0, 0, 20, 18, 3)) + picks,
        "corre-rgb565-30x30": bytes((1, 3, 30, 30, 2)) + bytes(30) + b"\x01" * 10,
    }
    # translate: two 3-byte format selectors (even byte 0: named format index byte0 >> 1;
    # odd: bpp/channel bits/order built from the bytes), then source pixels.
    s["codec_translate"] = {
        "rgb888-to-bgr888": bytes((0, 0, 0, 2, 0, 0)) + raw_rgb888(quad * 8),
        "rgb888-to-rgb565": bytes((0, 0, 0, 6, 0, 0)) + raw_rgb888(quad * 8),
        "rgb565-to-rgb888": bytes((6, 0, 0, 0, 0, 0)) + bytes(range(64)),
        "custom-32-to-16": bytes((5, 77, 45, 3, 54, 4)) + bytes(range(128)),
    }
    # region: rectangles of 4 bytes x, y, w, h; even ones form region a, odd ones b.
    s["codec_region"] = {
        "overlapping": bytes((0, 0, 10, 10, 5, 5, 10, 10, 20, 0, 4, 4, 22, 2, 4, 4)),
        "nested-and-empty": bytes((0, 0, 30, 30, 10, 10, 5, 5, 40, 40, 0, 3, 0, 0, 30, 30)),
    }
    # decode_{zlib,zrle,trle}: format index (0 = RGB888), framebuffer w, h (% 81), then
    # per rectangle x, y, w, h (% 96 each) and its payload; one zlib stream for all.
    def zstream(chunks):
        z = zlib.compressobj(6)
        return [z.compress(c) + z.flush(zlib.Z_SYNC_FLUSH) for c in chunks]

    geo = [(0, 0, 70, 66), (70, 66, 10, 14)]
    raw_a = raw_rgb888([quad[(i // 3) % 4] for i in range(70 * 66)])
    raw_b = raw_rgb888([WHITE] * (10 * 14))
    za, zb = zstream([raw_a, raw_b])
    s["codec_decode_zlib"] = {
        "two-rects-one-stream": bytes((0, 80, 80)) + bytes(geo[0]) + u32(len(za)) + za
        + bytes(geo[1]) + u32(len(zb)) + zb,
    }
    ta, tb = zrle_tiles(70, 66, 64), zrle_tiles(10, 14, 64)
    za, zb = zstream([ta, tb])
    s["codec_decode_zrle"] = {
        "two-rects-every-subencoding": bytes((0, 80, 80)) + bytes(geo[0]) + u32(len(za)) + za
        + bytes(geo[1]) + u32(len(zb)) + zb,
    }
    s["codec_decode_trle"] = {
        "every-subencoding-40x33": bytes((0, 80, 80)) + bytes((0, 0, 40, 33)) + zrle_tiles(40, 33, 16),
        "two-rects": bytes((0, 80, 80)) + bytes((5, 5, 16, 16)) + zrle_tiles(16, 16, 16)
        + bytes((30, 30, 17, 3)) + zrle_tiles(17, 3, 16),
    }
    # roundtrip_{zlib,zrle,trle}: format, w % 151, h % 151, colours - 1, the colours'
    # pixel bytes, then picks (index % colours, run (b >> 4) * 3 + 1).
    four = raw_rgb888(quad)
    s["codec_roundtrip_zlib"] = {"rgb888-70x66": bytes((0, 70, 66, 3)) + four + bytes(range(0, 256, 3))}
    s["codec_roundtrip_zrle"] = {
        "rgb888-70x66": bytes((0, 70, 66, 3)) + four + bytes(range(0, 256, 3)),
        "rgb565-65x20": bytes((7, 65, 20, 1)) + bytes((0x00, 0xF8, 0xE0, 0x07)) + bytes(range(200)),
    }
    s["codec_roundtrip_trle"] = {
        "rgb888-40x33": bytes((0, 40, 33, 3)) + four + bytes(range(0, 256, 5)),
        "many-colours": bytes((0, 20, 20, 40)) + bytes(range(160)) + bytes(range(255, 0, -1)),
    }
    # decode_tight: format index, then per rectangle x, y, w, h (1 byte each, 48x40
    # framebuffer) and its payload: compression control byte, then fill / basic data.
    fill = u8(0x80) + cpx(RED)
    basic_small = u8(0x00) + cpx(RED) + cpx(GREEN)  # 2x1: 6 bytes < 12, sent uncompressed
    raw_tp = b"".join(cpx(quad[i % 4]) for i in range(8 * 8))
    z = zlib.compressobj(6)
    zdata = z.compress(raw_tp) + z.flush(zlib.Z_SYNC_FLUSH)
    basic_z = u8(0x00) + tight_compact_len(len(zdata)) + zdata
    # palette filter (explicit filter bit 0x40, filter 1): 2 colours, 1 bit per pixel;
    # 8x2 = 2 bytes of indices, under 12: uncompressed; stream 1 (bits 4-5 = 1).
    palette = u8(0x50) + u8(1) + u8(1) + cpx(BLUE) + cpx(WHITE) + bytes((0b10101010, 0b01010101))
    s["codec_decode_tight"] = {
        "fill-basic-zlib-palette": u8(0) + bytes((0, 0, 4, 4)) + fill + bytes((4, 0, 2, 1)) + basic_small
        + bytes((8, 8, 8, 8)) + basic_z + bytes((16, 16, 8, 2)) + palette,
        "reset-streams-fill": u8(0) + bytes((1, 1, 10, 10)) + u8(0x80 | 0x0F) + cpx(GREEN),
    }
    # decode_tight_png: read like decode_tight. TightPNG rectangles (rfbproto "Tight PNG
    # Encoding"): control 0x80 fill (TPIXEL red, green, blue for a 32-bit depth-24 format),
    # or 0xA0, a compact length and a PNG file (PNG spec: signature, IHDR, [PLTE], IDAT
    # holding a zlib stream of filter-byte-prefixed rows, IEND; chunk CRC-32 over type + data).
    def png_chunk(ty, data):
        return u32(len(data)) + ty + data + u32(zlib.crc32(ty + data) & 0xFFFFFFFF)

    def png_file(w, h, colour_type, rows, depth=8, plte=None):
        f = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", u32(w) + u32(h) + bytes((depth, colour_type, 0, 0, 0)))
        if plte is not None:
            f += png_chunk(b"PLTE", plte)
        return f + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b"")

    def png_rect(f):
        return u8(0xA0) + tight_compact_len(len(f)) + f

    def tpx(c):
        return bytes(c)

    # 4x3 RGB (colour type 2), rows filtered None, Sub, Up.
    rgb_rows = (b"\0" + b"".join(tpx(quad[i % 4]) for i in range(4))
                + b"\1" + bytes((10, 20, 30)) + bytes(9)
                + b"\2" + bytes(12))
    # 8x2 indexed (colour type 3), 1 bit per index, 2 PLTE entries.
    idx_rows = b"\0" + bytes((0b10110010,)) + b"\0" + bytes((0b01001101,))
    s["codec_decode_tight_png"] = {
        "fill-png-rgb-png-indexed": u8(0) + bytes((0, 0, 6, 6)) + u8(0x80) + tpx(RED)
        + bytes((6, 0, 4, 3)) + png_rect(png_file(4, 3, 2, rgb_rows))
        + bytes((10, 10, 8, 2)) + png_rect(png_file(8, 2, 3, idx_rows, depth=1, plte=tpx(BLUE) + tpx(WHITE))),
        "reset-bits-fill-rgb565": u8(7) + bytes((1, 1, 10, 10)) + u8(0x80 | 0x0F) + bytes((0x1F, 0xF8)),
        "png-size-mismatch": u8(0) + bytes((0, 0, 5, 3)) + png_rect(png_file(4, 3, 2, rgb_rows)),
    }
    # roundtrip_tight: format, w % 64 + 1, h % 64 + 1, compress level % 10 and gradient
    # mode (top 2 bits), then pixel bytes (repeated to fill).
    s["codec_roundtrip_tight"] = {
        "rgb888-30x20-palette": bytes((0, 29, 19, 6)) + four,
        "rgb888-gradient": bytes((0, 15, 15, 0x40 | 9)) + bytes(range(256)),
        "rgb565-auto": bytes((7, 40, 9, 0x80 | 1)) + bytes(range(0, 256, 7)),
    }
    # roundtrip_jpeg: format, w % 128 + 1, h % 128 + 1, quality % 100 + 1, sampling % 4
    # (4:4:4, 4:2:2, 4:2:0, grey), then pixel bytes (repeated to fill).
    s["codec_roundtrip_jpeg"] = {
        "rgb888-17x9-q92-444": bytes((0, 16, 8, 91, 0)) + bytes(range(256)),
        "rgb888-64x64-q50-420": bytes((0, 63, 63, 49, 2)) + bytes(range(0, 256, 3)),
        "rgb565-9x33-q100-422": bytes((7, 8, 32, 99, 1)) + bytes(range(0, 256, 5)),
        "grey-1x1": bytes((0, 0, 0, 0, 3, 200, 100, 50, 0)),
        "colour-map": bytes((12, 4, 4, 80, 0)) + bytes(range(64)),
    }
    # damage_compare: width - 1 (% 128), height - 1 (% 96), then frame bytes; the same bytes
    # give a scroll offset and up to 8 edits (x, y, w, h, value).
    s["codec_damage_compare"] = {
        "64x48-scroll-edits": bytes((63, 47)) + bytes((8, 1, 2, 10, 10, 0x33)) + bytes(range(200)),
        "small": bytes((3, 2)) + bytes((0, 0, 0, 1, 1, 9)),
    }
    # client_viewer: chunk size, command bits, then what a server sends after ServerInit
    # (the function does a 3.8 None handshake with a 64x48 RGB888 desktop first).
    fbu = fb_update([rect(0, 0, 2, 2, RAW, raw_rgb888(quad)),
                     rect(2, 0, 2, 2, COPYRECT, u16(0) + u16(0)),
                     rect(0, 2, 16, 16, HEXTILE, hextile_tile(HT_BG, bg=RED)),
                     rect(0, 0, 64, 48, RRE, rre_payload(BLACK, [(WHITE, 1, 1, 2, 2)])),
                     rect(0, 0, 0, 0, LAST_RECT)])
    s["client_viewer"] = {
        "updates-whole": u8(255) + u8(0) + fbu + bell() + server_cut_text(b"clip"),
        "updates-bytewise-commands": u8(1) + u8(0xFF) + fbu,
        "desktop-size-then-raw": u8(7) + u8(0x21) + fb_update([rect(0, 0, 4, 3, DESKTOP_SIZE)])
        + fb_update([rect(0, 0, 4, 3, RAW, raw_rgb888(quad * 3))]),
    }


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
    # ---- server_normal_phase: byte 0 is the chunk size, then the same client streams
    s["server_normal_phase"] = {k: b"\x20" + v for k, v in c.items()}
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
    codec_seeds(s)
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
