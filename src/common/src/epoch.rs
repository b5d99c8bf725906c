//! Epochs: physical milliseconds since [`EPOCH_BASE_MS`], shifted left 16 bits so that the low
//! bits can order several epochs within one millisecond.

use std::time::{SystemTime, UNIX_EPOCH};

/// 2025-01-01T00:00:00Z in Unix milliseconds.
pub const EPOCH_BASE_MS: u64 = 1_735_689_600_000;
pub const EPOCH_PHYSICAL_SHIFT: u32 = 16;

/// The epoch before any data: reads at it see nothing.
pub const INVALID_EPOCH: u64 = 0;

pub fn physical_now_ms() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    now.saturating_sub(EPOCH_BASE_MS)
}

/// The next epoch after `prev`: the current physical time, or `prev + 1` when the clock did not
/// move (or went backwards), so epochs strictly increase.
pub fn next_epoch(prev: u64) -> u64 {
    let physical = physical_now_ms() << EPOCH_PHYSICAL_SHIFT;
    physical.max(prev + 1)
}

pub fn epoch_to_unix_ms(epoch: u64) -> u64 {
    (epoch >> EPOCH_PHYSICAL_SHIFT) + EPOCH_BASE_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_increase() {
        let a = next_epoch(0);
        let b = next_epoch(a);
        let c = next_epoch(u64::MAX >> 1);
        assert!(b > a);
        assert_eq!(c, (u64::MAX >> 1) + 1);
        assert!(epoch_to_unix_ms(a) >= EPOCH_BASE_MS);
    }
}
