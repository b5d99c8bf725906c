//! Row ids for tables without a primary key: snowflake-style 64-bit values —
//! milliseconds since the epoch base (41 bits) | worker id (10 bits) | sequence (12 bits) —
//! unique across workers and restarts, and increasing per worker.

use parking_lot::Mutex;
use tributary_common::epoch::physical_now_ms;

const WORKER_BITS: u32 = 10;
const SEQUENCE_BITS: u32 = 12;

pub struct RowIdGenerator {
    worker_id: u64,
    /// (last millisecond used, next sequence within it)
    state: Mutex<(u64, u64)>,
}

impl RowIdGenerator {
    pub fn new(worker_id: u32) -> Self {
        RowIdGenerator { worker_id: (worker_id as u64) & ((1 << WORKER_BITS) - 1), state: Mutex::new((0, 0)) }
    }

    /// Reserves `n` consecutive ids.
    pub fn next_ids(&self, n: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(n);
        let mut state = self.state.lock();
        for _ in 0..n {
            let now = physical_now_ms();
            if now > state.0 {
                *state = (now, 0);
            } else if state.1 >= (1 << SEQUENCE_BITS) {
                // Sequence exhausted within this millisecond: borrow the next millisecond.
                *state = (state.0 + 1, 0);
            }
            let id = (state.0 << (WORKER_BITS + SEQUENCE_BITS)) | (self.worker_id << SEQUENCE_BITS) | state.1;
            state.1 += 1;
            out.push(id as i64);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_increasing() {
        let g = RowIdGenerator::new(3);
        let ids = g.next_ids(10_000);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let other = RowIdGenerator::new(4).next_ids(10);
        assert!(other.iter().all(|id| !ids.contains(id)));
    }
}
