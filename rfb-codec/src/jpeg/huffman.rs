//! Huffman coding of quantised blocks: a 64-bit bit accumulator flushed eight bytes at a
//! time (with a word-wide test for 0xFF bytes, which need a stuffed 0x00), and a walk
//! over the block's zigzag non-zero mask with `trailing_zeros`.

use super::tables::{AC_CHROMA, AC_LUMA, DC_CHROMA, DC_LUMA, ZIGZAG_T};
use super::McuOut;

/// Appends bits, most significant first, to a byte vector, stuffing 0x00 after 0xFF.
pub(crate) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Pending bits in the low `64 - free` bits (bits above them are stale).
    acc: u64,
    /// Free bits in `acc` (1..=64).
    free: u32,
}

/// 0x80 in every byte.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// 0x01 in every byte.
const LOW: u64 = 0x0101_0101_0101_0101;

impl<'a> BitWriter<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> BitWriter<'a> {
        BitWriter {
            out,
            acc: 0,
            free: 64,
        }
    }

    /// Appends the low `n` bits of `bits` (`n <= 32`, no bits set above them).
    #[inline(always)]
    pub(crate) fn put(&mut self, bits: u32, n: u32) {
        if n < self.free {
            self.acc = (self.acc << n) | u64::from(bits);
            self.free -= n;
        } else {
            // 1 <= free <= n <= 32: the word is full once the top `free` bits are in.
            let over = n - self.free;
            let word = (self.acc << self.free) | (u64::from(bits) >> over);
            self.word(word);
            self.acc = u64::from(bits);
            self.free = 64 - over;
        }
    }

    #[inline(always)]
    fn word(&mut self, w: u64) {
        // A byte of `w` is 0xFF exactly when that byte of `!w` is zero.
        let n = !w;
        if (n.wrapping_sub(LOW) & !n & HIGH) == 0 {
            self.out.extend_from_slice(&w.to_be_bytes());
        } else {
            for b in w.to_be_bytes() {
                self.out.push(b);
                if b == 0xff {
                    self.out.push(0);
                }
            }
        }
    }

    /// Pads the last byte with one bits (T.81 F.1.2.3) and writes out what is pending.
    pub(crate) fn finish(mut self) {
        let used = 64 - self.free;
        let pad = (8 - used % 8) % 8;
        if pad > 0 {
            self.put((1 << pad) - 1, pad);
        }
        let used = 64 - self.free;
        if used == 0 {
            return;
        }
        let w = self.acc << self.free;
        for b in w.to_be_bytes().into_iter().take((used / 8) as usize) {
            self.out.push(b);
            if b == 0xff {
                self.out.push(0);
            }
        }
    }
}

/// The size category of `v` (bits needed for its magnitude) and its value bits (T.81
/// F.1.2.1: negative values as `v - 1` in `size` bits).
#[inline(always)]
fn category(v: i32) -> (u32, u32) {
    let size = 32 - v.unsigned_abs().leading_zeros();
    let bits = (v + (v >> 31)) as u32 & ((1u32 << size) - 1);
    (size, bits)
}

/// Huffman-codes one block (transposed layout, `mask` its zigzag non-zero mask), with
/// DC predicted from `*prev_dc` (updated). `dc`/`ac` are `code << 8 | length` per symbol.
#[inline(always)]
pub(crate) fn encode_block(
    writer: &mut BitWriter<'_>,
    coef: &[i16; 64],
    mask: u64,
    prev_dc: &mut i32,
    dc: &[u32; 256],
    ac: &[u32; 256],
) {
    // Work on a local copy of the accumulator so that it lives in registers.
    let mut w = BitWriter {
        out: &mut *writer.out,
        acc: writer.acc,
        free: writer.free,
    };
    let d = i32::from(coef[0]);
    let (size, bits) = category(d - *prev_dc);
    *prev_dc = d;
    // Categories stay <= 11 for 8-bit samples; the mask only keeps indexing in bounds.
    let e = dc[(size & 0xff) as usize];
    w.put(((e >> 8) << size) | bits, (e & 0xff) + size);
    let mut m = mask & !1;
    let mut last = 0u32;
    while m != 0 {
        let k = m.trailing_zeros();
        let mut run = k - last - 1;
        while run >= 16 {
            let e = ac[0xf0];
            w.put(e >> 8, e & 0xff);
            run -= 16;
        }
        let v = i32::from(coef[usize::from(ZIGZAG_T[k as usize])]);
        let (size, bits) = category(v);
        let e = ac[((run << 4) | size) as usize & 0xff];
        w.put(((e >> 8) << size) | bits, (e & 0xff) + size);
        last = k;
        m &= m - 1;
    }
    if last != 63 {
        let e = ac[0x00];
        w.put(e >> 8, e & 0xff);
    }
    let (acc, free) = (w.acc, w.free);
    writer.acc = acc;
    writer.free = free;
}

/// A function that Huffman-codes one block ([`encode_block`], compiled for a kernel).
pub(crate) type BlockFn =
    fn(&mut BitWriter<'_>, &[i16; 64], u64, &mut i32, &[u32; 256], &[u32; 256]);

/// Huffman-codes the blocks of one MCU with `block`; `comps[b]` is block b's component
/// (0 = Y, with the luminance tables; 1, 2 = Cb, Cr, with the chrominance tables).
#[inline(always)]
pub(crate) fn encode_blocks(
    w: &mut BitWriter<'_>,
    mcu: &McuOut,
    comps: &[usize],
    prev: &mut [i32; 3],
    block: BlockFn,
) {
    for ((&c, coef), &mask) in comps.iter().zip(&mcu.coef).zip(&mcu.mask) {
        let (dc, ac) = if c == 0 {
            (&DC_LUMA, &AC_LUMA)
        } else {
            (&DC_CHROMA, &AC_CHROMA)
        };
        if let Some(p) = prev.get_mut(c) {
            block(w, coef, mask, p, dc, ac);
        }
    }
}

/// [`encode_block`] as a function of its own (the scalar kernel's).
pub(crate) fn encode_block_scalar(
    w: &mut BitWriter<'_>,
    coef: &[i16; 64],
    mask: u64,
    prev_dc: &mut i32,
    dc: &[u32; 256],
    ac: &[u32; 256],
) {
    encode_block(w, coef, mask, prev_dc, dc, ac);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_follow_table_f1() {
        assert_eq!(category(0), (0, 0));
        assert_eq!(category(1), (1, 1));
        assert_eq!(category(-1), (1, 0));
        assert_eq!(category(-3), (2, 0b00));
        assert_eq!(category(3), (2, 0b11));
        assert_eq!(category(-4), (3, 0b011));
        assert_eq!(category(1023), (10, 1023));
        assert_eq!(category(-2047), (11, 0));
    }

    #[test]
    fn bits_are_msb_first_padded_with_ones_and_ff_is_stuffed() {
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        w.put(0b101, 3);
        w.finish();
        assert_eq!(out, [0b1011_1111]);

        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        for _ in 0..9 {
            w.put(0xff, 8); // 9 bytes of 0xFF cross a word boundary
        }
        w.put(0x12, 8);
        w.finish();
        let mut want = [0xff, 0].repeat(9);
        want.push(0x12);
        assert_eq!(out, want);

        // Odd lengths across the word boundary: 13 x 5 bits of 10101 = 65 bits; the padded
        // last byte is 0xFF and gets stuffed.
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        for _ in 0..13 {
            w.put(0b10101, 5);
        }
        w.finish();
        let bits: String = std::iter::repeat_n("10101", 13).collect::<String>() + "1111111";
        let want: Vec<u8> = bits
            .as_bytes()
            .chunks(8)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
            .flat_map(|b| if b == 0xff { vec![0xff, 0] } else { vec![b] })
            .collect();
        assert_eq!(out, want);
    }
}
