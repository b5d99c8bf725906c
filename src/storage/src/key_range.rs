//! Key ranges of scans.

use std::ops::Bound;

use bytes::Bytes;

pub type KeyRange = (Bound<Bytes>, Bound<Bytes>);

/// The range of the whole key space.
pub fn full_range() -> KeyRange {
    (Bound::Unbounded, Bound::Unbounded)
}

/// The range of every key starting with `prefix`.
pub fn prefix_range(prefix: &[u8]) -> KeyRange {
    let start = Bound::Included(Bytes::copy_from_slice(prefix));
    // The first key after the prefix: drop trailing 0xFF bytes and increment the last byte
    // left; a prefix of only 0xFF bytes (or none) extends to the end of the key space.
    let end = match prefix.iter().rposition(|&b| b != 0xFF) {
        Some(i) => {
            let mut end = prefix[..=i].to_vec();
            end[i] += 1;
            Bound::Excluded(Bytes::from(end))
        }
        None => Bound::Unbounded,
    };
    (start, end)
}

/// Whether no key lies in the range. Ordered maps panic on such ranges (start after end, or
/// equal exclusive bounds), so scans check first.
pub fn range_is_empty<K: AsRef<[u8]>>(start: Bound<K>, end: Bound<K>) -> bool {
    match (start, end) {
        (Bound::Included(s), Bound::Included(e)) => s.as_ref() > e.as_ref(),
        (Bound::Included(s) | Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e)) => {
            s.as_ref() >= e.as_ref()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges() {
        let b = |s: &'static [u8]| Bytes::from_static(s);
        assert_eq!(prefix_range(b"ab"), (Bound::Included(b(b"ab")), Bound::Excluded(b(b"ac"))));
        assert_eq!(prefix_range(b"a\xff\xff"), (Bound::Included(b(b"a\xff\xff")), Bound::Excluded(b(b"b"))));
        assert_eq!(prefix_range(b"\xff"), (Bound::Included(b(b"\xff")), Bound::Unbounded));
        assert_eq!(prefix_range(b""), (Bound::Included(b(b"")), Bound::Unbounded));
    }

    #[test]
    fn empty_ranges() {
        use Bound::*;
        assert!(!range_is_empty(Included(b"a"), Included(b"a")));
        assert!(range_is_empty(Included(b"a"), Excluded(b"a")));
        assert!(range_is_empty(Excluded(b"a"), Excluded(b"a")));
        assert!(range_is_empty(Included(b"b"), Included(b"a")));
        assert!(!range_is_empty(Excluded(b"a"), Unbounded));
        assert!(!range_is_empty::<&[u8]>(Unbounded, Unbounded));
    }
}
