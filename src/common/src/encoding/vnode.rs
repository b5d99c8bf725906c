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
