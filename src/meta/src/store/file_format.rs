//! On-disk formats of the file backend: log records and snapshots. Integers are little endian.
//!
//! Log file `log-<generation>`: a sequence of frames, one per committed transaction:
//!
//! ```text
//! magic "TBML" | payload length u32 | crc32(length bytes ++ payload) u32 | payload
//! payload = version u8 (1) | op count u32 | ops
//! op      = 1u8 | key length u32 | key | value length u32 | value      (put)
//!         | 2u8 | key length u32 | key                                  (delete)
//! ```
//!
//! The magic lets recovery look past a damaged frame for intact ones, which tells a torn tail
//! (nothing valid follows: truncate) from damage in the middle of the log (valid transactions
//! follow: refuse to open rather than silently drop them).
//!
//! Snapshot file `snapshot`, replaced atomically by rename:
//!
//! ```text
//! magic "TBMSNAP1" | generation u64 | payload length u64 | crc32(generation ++ length ++ payload) u32 | payload
//! payload = entry count u64 | (key length u32 | key | value length u32 | value)*
//! ```
//!
//! `generation` names the log that continues from the snapshot.

use std::collections::BTreeMap;

use super::Operation;

pub(crate) type KeySpace = BTreeMap<Vec<u8>, Vec<u8>>;

pub(crate) const FRAME_MAGIC: [u8; 4] = *b"TBML";
pub(crate) const FRAME_HEADER_LEN: usize = 12;
const RECORD_VERSION: u8 = 1;
const OP_PUT: u8 = 1;
const OP_DELETE: u8 = 2;
/// Well above the largest transaction we accept (`MAX_TXN_BYTES` plus framing), so a longer
/// length field can only be damage.
const MAX_FRAME_PAYLOAD: usize = 8 << 20;

const SNAPSHOT_MAGIC: [u8; 8] = *b"TBMSNAP1";
const SNAPSHOT_HEADER_LEN: usize = 28;

pub(crate) fn encode_txn_frame(ops: &[Operation]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(
        5 + ops
            .iter()
            .map(|op| match op {
                Operation::Put { key, value } => 9 + key.len() + value.len(),
                Operation::Delete { key } => 5 + key.len(),
            })
            .sum::<usize>(),
    );
    payload.push(RECORD_VERSION);
    put_len(&mut payload, ops.len());
    for op in ops {
        match op {
            Operation::Put { key, value } => {
                payload.push(OP_PUT);
                put_bytes(&mut payload, key);
                put_bytes(&mut payload, value);
            }
            Operation::Delete { key } => {
                payload.push(OP_DELETE);
                put_bytes(&mut payload, key);
            }
        }
    }
    let len = (payload.len() as u32).to_le_bytes();
    let mut frame = Vec::with_capacity(FRAME_HEADER_LEN + payload.len());
    frame.extend_from_slice(&FRAME_MAGIC);
    frame.extend_from_slice(&len);
    frame.extend_from_slice(&frame_crc(&len, &payload).to_le_bytes());
    frame.extend_from_slice(&payload);
    frame
}

fn frame_crc(len: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(len);
    hasher.update(payload);
    hasher.finalize()
}

/// Reads the frame starting at `pos`; returns its payload and the offset after it, or why the
/// bytes there are not a whole, intact frame.
fn parse_frame(buf: &[u8], pos: usize) -> Result<(&[u8], usize), &'static str> {
    let rest = buf.get(pos..).unwrap_or_default();
    let (magic, rest) = rest
        .split_first_chunk::<4>()
        .ok_or("incomplete record header")?;
    let (len_bytes, rest) = rest
        .split_first_chunk::<4>()
        .ok_or("incomplete record header")?;
    let (crc_bytes, rest) = rest
        .split_first_chunk::<4>()
        .ok_or("incomplete record header")?;
    if *magic != FRAME_MAGIC {
        return Err("bad record magic");
    }
    let len = u32::from_le_bytes(*len_bytes) as usize;
    if len > MAX_FRAME_PAYLOAD {
        return Err("record length out of range");
    }
    let payload = rest
        .get(..len)
        .ok_or("record extends past the end of the file")?;
    if frame_crc(len_bytes, payload) != u32::from_le_bytes(*crc_bytes) {
        return Err("record checksum mismatch");
    }
    Ok((payload, pos + FRAME_HEADER_LEN + len))
}

pub(crate) fn decode_txn(payload: &[u8]) -> Result<Vec<Operation>, String> {
    let mut r = Reader::new(payload);
    let version = r.u8()?;
    if version != RECORD_VERSION {
        return Err(format!("unknown record version {version}"));
    }
    let count = r.u32()?;
    let mut ops = Vec::new();
    for _ in 0..count {
        let op = match r.u8()? {
            OP_PUT => Operation::Put {
                key: r.bytes()?.to_vec(),
                value: r.bytes()?.to_vec(),
            },
            OP_DELETE => Operation::Delete {
                key: r.bytes()?.to_vec(),
            },
            other => return Err(format!("unknown operation tag {other}")),
        };
        ops.push(op);
    }
    r.finish()?;
    Ok(ops)
}

/// What replaying a log found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Replay {
    /// Length of the intact prefix of the log: everything past it is to be cut off.
    pub valid_len: usize,
    pub transactions: usize,
    /// Why the bytes at `valid_len` were rejected, when the log does not end cleanly.
    pub torn_tail: Option<&'static str>,
}

/// The log cannot be recovered without losing transactions that were fully written.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LogCorruption {
    pub offset: usize,
    pub reason: String,
}

/// Decodes every intact transaction in `log` in order, handing each to `apply`.
pub(crate) fn replay_log(
    log: &[u8],
    mut apply: impl FnMut(Vec<Operation>),
) -> Result<Replay, LogCorruption> {
    let mut pos = 0;
    let mut transactions = 0;
    while pos < log.len() {
        match parse_frame(log, pos) {
            Ok((payload, next)) => {
                // An intact checksum over an undecodable payload is not damage from a crash.
                let ops = decode_txn(payload).map_err(|reason| LogCorruption {
                    offset: pos,
                    reason: format!("record with a valid checksum does not decode: {reason}"),
                })?;
                apply(ops);
                transactions += 1;
                pos = next;
            }
            Err(reason) => {
                // Each record is synced before the next is written, so a crash can only
                // damage the last one: an intact record further on means real corruption.
                if let Some(later) = next_intact_frame(log, pos + 1) {
                    return Err(LogCorruption {
                        offset: pos,
                        reason: format!(
                            "{reason}, but an intact record follows at offset {later}; \
                             refusing to drop committed transactions"
                        ),
                    });
                }
                return Ok(Replay {
                    valid_len: pos,
                    transactions,
                    torn_tail: Some(reason),
                });
            }
        }
    }
    Ok(Replay {
        valid_len: pos,
        transactions,
        torn_tail: None,
    })
}

fn next_intact_frame(log: &[u8], from: usize) -> Option<usize> {
    let mut pos = from;
    while let Some(found) = log.get(pos..)?.windows(4).position(|w| w == FRAME_MAGIC) {
        let at = pos + found;
        if parse_frame(log, at).is_ok() {
            return Some(at);
        }
        pos = at + 1;
    }
    None
}

pub(crate) fn encode_snapshot(generation: u64, map: &KeySpace) -> Vec<u8> {
    let mut payload = Vec::with_capacity(
        8 + map
            .iter()
            .map(|(k, v)| 8 + k.len() + v.len())
            .sum::<usize>(),
    );
    payload.extend_from_slice(&(map.len() as u64).to_le_bytes());
    for (k, v) in map {
        put_bytes(&mut payload, k);
        put_bytes(&mut payload, v);
    }
    let mut out = Vec::with_capacity(SNAPSHOT_HEADER_LEN + payload.len());
    let generation = generation.to_le_bytes();
    let len = (payload.len() as u64).to_le_bytes();
    out.extend_from_slice(&SNAPSHOT_MAGIC);
    out.extend_from_slice(&generation);
    out.extend_from_slice(&len);
    out.extend_from_slice(&snapshot_crc(&generation, &len, &payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Returns the generation of the log that continues the snapshot, and its contents.
pub(crate) fn decode_snapshot(buf: &[u8]) -> Result<(u64, KeySpace), String> {
    let mut r = Reader::new(buf);
    if r.take(SNAPSHOT_MAGIC.len())? != SNAPSHOT_MAGIC {
        return Err("bad snapshot magic".into());
    }
    let generation_bytes = r.array::<8>()?;
    let len_bytes = r.array::<8>()?;
    let crc = r.u32()?;
    let payload = r.rest();
    let len = u64::from_le_bytes(len_bytes);
    if payload.len() as u64 != len {
        return Err(format!(
            "snapshot payload is {} bytes, header says {len}",
            payload.len()
        ));
    }
    if snapshot_crc(&generation_bytes, &len_bytes, payload) != crc {
        return Err("snapshot checksum mismatch".into());
    }
    let generation = u64::from_le_bytes(generation_bytes);
    let mut r = Reader::new(payload);
    let count = r.u64()?;
    let mut map = BTreeMap::new();
    for _ in 0..count {
        let key = r.bytes()?.to_vec();
        let value = r.bytes()?.to_vec();
        map.insert(key, value);
    }
    r.finish()?;
    Ok((generation, map))
}

fn snapshot_crc(generation: &[u8], len: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(generation);
    hasher.update(len);
    hasher.update(payload);
    hasher.finalize()
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Lengths are bounded by `MAX_TXN_BYTES` when written through a transaction.
    out.extend_from_slice(&(len as u32).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Bounds-checked reads: malformed input becomes an error, never an out-of-range panic.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.buf.len() {
            return Err(format!(
                "truncated: needed {n} more bytes, {} left",
                self.buf.len()
            ));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, String> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    fn finish(&self) -> Result<(), String> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(format!("{} unexpected trailing bytes", self.buf.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(n: u8) -> Vec<Operation> {
        vec![
            Operation::put(vec![n], vec![n; n as usize]),
            Operation::delete(vec![n, 0]),
        ]
    }

    fn log_of(n: u8) -> Vec<u8> {
        (1..=n).flat_map(|i| encode_txn_frame(&ops(i))).collect()
    }

    fn replay(log: &[u8]) -> (Result<Replay, LogCorruption>, Vec<Vec<Operation>>) {
        let mut seen = Vec::new();
        let r = replay_log(log, |o| seen.push(o));
        (r, seen)
    }

    #[test]
    fn frames_round_trip() {
        let log = log_of(3);
        let (r, seen) = replay(&log);
        assert_eq!(
            r,
            Ok(Replay {
                valid_len: log.len(),
                transactions: 3,
                torn_tail: None
            })
        );
        assert_eq!(seen, vec![ops(1), ops(2), ops(3)]);
    }

    #[test]
    fn every_truncation_point_recovers_the_complete_prefix() {
        let log = log_of(3);
        let ends: Vec<usize> = (0..=3)
            .map(|n| (1..=n).map(|i| encode_txn_frame(&ops(i)).len()).sum())
            .collect();
        for cut in 0..log.len() {
            let (r, seen) = replay(&log[..cut]);
            let complete = ends.iter().filter(|&&e| e <= cut).count() - 1;
            let Ok(r) = r else {
                panic!("cut at {cut} should recover, got {r:?}");
            };
            assert_eq!(r.transactions, complete, "cut at {cut}");
            assert_eq!(r.valid_len, ends[complete], "cut at {cut}");
            assert_eq!(r.torn_tail.is_some(), cut != ends[complete]);
            assert_eq!(seen.len(), complete);
        }
    }

    #[test]
    fn damage_in_the_last_record_is_a_torn_tail() {
        let mut log = log_of(3);
        let last = log.len() - 2;
        log[last] ^= 0xff;
        let (r, seen) = replay(&log);
        assert_eq!(
            r.map(|r| (r.transactions, r.torn_tail)),
            Ok((2, Some("record checksum mismatch")))
        );
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn damage_before_intact_records_is_corruption() {
        let mut log = log_of(3);
        log[FRAME_HEADER_LEN + 2] ^= 0x01;
        let (r, _) = replay(&log);
        assert!(matches!(r, Err(LogCorruption { offset: 0, .. })), "{r:?}");
    }

    #[test]
    fn undecodable_payload_with_valid_checksum_is_corruption() {
        let payload = [9u8, 0, 0, 0, 0];
        let len = (payload.len() as u32).to_le_bytes();
        let mut log = FRAME_MAGIC.to_vec();
        log.extend_from_slice(&len);
        log.extend_from_slice(&frame_crc(&len, &payload).to_le_bytes());
        log.extend_from_slice(&payload);
        assert!(replay(&log).0.is_err());
    }

    #[test]
    fn snapshot_round_trip_and_damage() {
        let mut map = BTreeMap::new();
        map.insert(b"a".to_vec(), b"1".to_vec());
        map.insert(vec![0xff, 0], vec![]);
        let snap = encode_snapshot(7, &map);
        assert_eq!(decode_snapshot(&snap), Ok((7, map)));
        for cut in 0..snap.len() {
            assert!(decode_snapshot(&snap[..cut]).is_err());
        }
        for i in 0..snap.len() {
            let mut bad = snap.clone();
            bad[i] ^= 0x10;
            assert!(decode_snapshot(&bad).is_err(), "flip at {i}");
        }
    }
}
