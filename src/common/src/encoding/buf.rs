//! Bounds-checked reading and varint primitives shared by the key and value codecs. Every read
//! returns an error instead of panicking, because the bytes may come from a corrupt file.

use crate::error::{CommonError, Result};

pub(crate) fn corrupt(what: impl std::fmt::Display) -> CommonError {
    CommonError::Encoding(format!("corrupt encoding: {what}"))
}

/// Splits `n` bytes off the front of `buf`.
pub(crate) fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
    if buf.len() < n {
        return Err(corrupt(format_args!("needed {n} bytes, {} left", buf.len())));
    }
    let (head, tail) = buf.split_at(n);
    *buf = tail;
    Ok(head)
}

/// Reads `N` bytes, each XOR-ed with `mask` (0xFF undoes a descending key column's inversion).
pub(crate) fn take_array<const N: usize>(buf: &mut &[u8], mask: u8) -> Result<[u8; N]> {
    let src = take(buf, N)?;
    let mut out = [0u8; N];
    for (o, s) in out.iter_mut().zip(src) {
        *o = s ^ mask;
    }
    Ok(out)
}

pub(crate) fn take_u8(buf: &mut &[u8]) -> Result<u8> {
    Ok(take_array::<1>(buf, 0)?[0])
}

pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// LEB128 decode. Rejects encodings longer than `max_bits` allows so that garbage cannot
/// silently wrap around.
fn get_uvarint(buf: &mut &[u8], max_bits: u32) -> Result<u128> {
    let mut v: u128 = 0;
    let mut shift = 0u32;
    loop {
        let byte = take_u8(buf)?;
        let bits = u128::from(byte & 0x7F);
        if shift >= max_bits || (shift > 0 && bits >> (max_bits - shift).min(127) != 0) {
            return Err(corrupt("varint overflows"));
        }
        v |= bits << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
    }
}

pub(crate) fn get_u64(buf: &mut &[u8]) -> Result<u64> {
    get_uvarint(buf, 64).map(|v| v as u64)
}

/// A length or count: must fit in usize.
pub(crate) fn get_len(buf: &mut &[u8]) -> Result<usize> {
    usize::try_from(get_u64(buf)?).map_err(|_| corrupt("length does not fit in memory"))
}

pub(crate) fn put_i64(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, u128::from(((v << 1) ^ (v >> 63)) as u64));
}

pub(crate) fn get_i64(buf: &mut &[u8]) -> Result<i64> {
    let z = get_u64(buf)?;
    Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
}

pub(crate) fn put_i128(out: &mut Vec<u8>, v: i128) {
    put_uvarint(out, ((v << 1) ^ (v >> 127)) as u128);
}

pub(crate) fn get_i128(buf: &mut &[u8]) -> Result<i128> {
    let z = get_uvarint(buf, 128)?;
    Ok(((z >> 1) as i128) ^ -((z & 1) as i128))
}

/// Number of bytes of a bitmap with one bit per item.
pub(crate) fn bitmap_len(n: usize) -> usize {
    n.div_ceil(8)
}

pub(crate) fn bit_is_set(bitmap: &[u8], i: usize) -> bool {
    bitmap.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

/// Bits past `n` must be zero: a stray bit there means the bytes are not what we wrote.
pub(crate) fn check_bitmap_padding(bitmap: &[u8], n: usize) -> Result<()> {
    let used_in_last = n % 8;
    match bitmap.last() {
        Some(last) if used_in_last > 0 && last >> used_in_last != 0 => {
            Err(corrupt("null bitmap has bits past its length"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        for v in [0i64, 1, -1, 63, -64, 64, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            put_i64(&mut out, v);
            let mut b = out.as_slice();
            assert_eq!(get_i64(&mut b).unwrap(), v);
            assert!(b.is_empty());
        }
        for v in [0i128, -1, i128::MAX, i128::MIN, 1 << 100] {
            let mut out = Vec::new();
            put_i128(&mut out, v);
            let mut b = out.as_slice();
            assert_eq!(get_i128(&mut b).unwrap(), v);
            assert!(b.is_empty());
        }
    }

    #[test]
    fn overlong_varints_are_rejected() {
        let mut b: &[u8] = &[0xFF; 11];
        assert!(get_u64(&mut b).is_err());
        // 10 bytes whose last one carries more than the 64th bit.
        let mut b: &[u8] = &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02];
        assert!(get_u64(&mut b).is_err());
        let mut b: &[u8] = &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        assert_eq!(get_u64(&mut b).unwrap(), u64::MAX);
        let mut b: &[u8] = &[0x80];
        assert!(get_u64(&mut b).is_err());
    }
}
