//! Layout of state store keys: `table_id (4 bytes BE) | vnode (2 bytes BE) | memcomparable pk`.
//! Big-endian so that one table's keys, and one vnode's keys within it, are contiguous ranges.

pub const TABLE_PREFIX_LEN: usize = 4;
pub const VNODE_PREFIX_LEN: usize = TABLE_PREFIX_LEN + 2;

/// The prefix of every key of a table (to scan or drop it).
pub fn table_key_prefix(table_id: u32) -> [u8; TABLE_PREFIX_LEN] {
    table_id.to_be_bytes()
}

/// The prefix of every key of one vnode of a table (to scan the rows an actor owns).
pub fn table_vnode_prefix(table_id: u32, vnode: u16) -> [u8; VNODE_PREFIX_LEN] {
    let mut out = [0u8; VNODE_PREFIX_LEN];
    out[..TABLE_PREFIX_LEN].copy_from_slice(&table_id.to_be_bytes());
    out[TABLE_PREFIX_LEN..].copy_from_slice(&vnode.to_be_bytes());
    out
}

pub fn table_key(table_id: u32, vnode: u16, pk: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(VNODE_PREFIX_LEN + pk.len());
    key.extend_from_slice(&table_vnode_prefix(table_id, vnode));
    key.extend_from_slice(pk);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        assert_eq!(table_key(0x01020304, 0x0506, b"pk"), b"\x01\x02\x03\x04\x05\x06pk");
        assert!(table_key(1, 0xFFFF, b"\xff") < table_key(2, 0, b""));
        assert!(table_key(7, 3, b"x").starts_with(&table_key_prefix(7)));
        assert!(table_key(7, 3, b"x").starts_with(&table_vnode_prefix(7, 3)));
    }
}
