//! Writes the uncompressed ZRLE tile bytes of the first 40 updates of a corpus file, as
//! [u32 len][bytes] per rectangle (ZRLE at level 0, inflated again).
use bytes::BytesMut;
use rfb_benches::*;
use rfb_codec::{inflate::Inflater, zrle::ZrleEncoder, Framebuffer, Rect, RectEncoder};
use std::io::Write;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let path = std::path::Path::new(&a[1]);
    let info = corpus_info(path).unwrap();
    let mut r = UpdateReader::open(path).unwrap();
    let mut fb = Framebuffer::new(info.width, info.height, CORPUS_FORMAT);
    let mut enc = ZrleEncoder::new(0);
    let mut inf = Inflater::new();
    let mut out = std::fs::File::create(&a[2]).unwrap();
    let mut up = Update::default();
    for _ in 0..300 {
        if !r.next_update(&mut up).unwrap() { break; }
        for c in &up.rects {
            match *c {
                CorpusRect::Raw { rect, offset } => {
                    fb.put_pixels(rect, raw_pixels(&up, rect, offset)).unwrap();
                    let mut w = BytesMut::new();
                    enc.encode(&fb.view(rect).unwrap(), &mut w).unwrap();
                    let mut rd = inf.reader(&w[4..], "dump").unwrap();
                    let mut tiles = Vec::new();
                    loop { match rd.need(1) { Ok(b) => tiles.push(b[0]), Err(_) => break } }
                    out.write_all(&(tiles.len() as u32).to_be_bytes()).unwrap();
                    out.write_all(&tiles).unwrap();
                    inf = Inflater::new(); // the reader error poisoned it; restart both
                    enc = ZrleEncoder::new(0);
                }
                CorpusRect::Copy { rect, src_x, src_y } => {
                    fb.copy_within(Rect::new(src_x, src_y, rect.width, rect.height), rect.x, rect.y).unwrap();
                }
            }
        }
    }
}
