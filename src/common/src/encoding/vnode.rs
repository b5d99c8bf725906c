//! Virtual nodes: the unit of data distribution. Every row hashes, by its distribution key, to
//! one of [`VNODE_COUNT`] vnodes; actors own sets of vnodes and scaling moves vnodes.

use twox_hash::XxHash64;

pub const VNODE_COUNT: usize = 256;

/// Fixed so that every node, on every platform and release, places a key in the same vnode:
/// the vnode is part of the stored key.
const VNODE_HASH_SEED: u64 = 0;

/// The vnode of a row, from the memcomparable encoding of its distribution key columns.
pub fn vnode_of_key(memcomparable_key: &[u8]) -> u16 {
    (XxHash64::oneshot(VNODE_HASH_SEED, memcomparable_key) % VNODE_COUNT as u64) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vnodes_are_stable_and_spread() {
        // Pinned values: a change here silently moves stored rows to other vnodes.
        // XXH64 of the empty input with seed 0 is 0xEF46DB3751D8E999 by the reference spec.
        assert_eq!(XxHash64::oneshot(0, b""), 0xEF46_DB37_51D8_E999);
        let pinned: Vec<u16> = [&b""[..], b"a", b"tributary"].iter().map(|k| vnode_of_key(k)).collect();
        assert_eq!(pinned, PINNED);

        let mut seen = [0usize; VNODE_COUNT];
        for i in 0u32..25_600 {
            seen[vnode_of_key(&i.to_be_bytes()) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (50..=150).contains(&n)), "{seen:?}");
    }

    const PINNED: [u16; 3] = [0x99, 91, 18];
}

/// Bytes of a vnode bitmap: a bit per vnode, vnode `v` at byte `v / 8`, bit `v % 8` (LSB first).
pub const VNODE_BITMAP_BYTES: usize = VNODE_COUNT / 8;

/// The vnodes actor `index` of `parallelism` actors owns: a contiguous share of the 256, so
/// that scaling moves whole ranges.
pub fn vnode_range(index: usize, parallelism: usize) -> std::ops::Range<usize> {
    let n = parallelism.max(1);
    (index * VNODE_COUNT / n)..((index + 1) * VNODE_COUNT / n)
}

/// The bitmap of [`vnode_range`].
pub fn vnode_bitmap(index: usize, parallelism: usize) -> Vec<u8> {
    let mut bitmap = vec![0u8; VNODE_BITMAP_BYTES];
    for v in vnode_range(index, parallelism) {
        bitmap[v / 8] |= 1 << (v % 8);
    }
    bitmap
}

/// Whether `bitmap` (empty = every vnode) contains `vnode`.
pub fn bitmap_has_vnode(bitmap: &[u8], vnode: u16) -> bool {
    bitmap.is_empty() || bitmap.get(vnode as usize / 8).is_some_and(|b| b & (1 << (vnode % 8)) != 0)
}

/// For each vnode, the index of the actor (of `parallelism`) that owns it.
pub fn vnode_owners(parallelism: usize) -> Vec<usize> {
    let n = parallelism.max(1);
    let mut owners = vec![0; VNODE_COUNT];
    for i in 0..n {
        for v in vnode_range(i, n) {
            owners[v] = i;
        }
    }
    owners
}

#[cfg(test)]
mod bitmap_tests {
    use super::*;

    #[test]
    fn ranges_cover_every_vnode_once() {
        for n in [1, 2, 3, 7, 256] {
            let owners = vnode_owners(n);
            for (v, owner) in owners.iter().enumerate() {
                for i in 0..n {
                    assert_eq!(bitmap_has_vnode(&vnode_bitmap(i, n), v as u16), i == *owner);
                }
            }
        }
        assert!(bitmap_has_vnode(&[], 255));
    }
}
