//! Splitting large changes into transactions the meta store accepts.
//!
//! A cascading drop or a job with many actors can exceed etcd's per-transaction limits
//! ([`MAX_TXN_OPS`], [`MAX_TXN_BYTES`]). Callers order their operations so that every prefix
//! leaves a state they can recover from (e.g. children deleted before their parents), and this
//! module cuts the list into consecutive transactions without reordering it.

use super::{Operation, MAX_TXN_BYTES, MAX_TXN_OPS};

fn op_bytes(op: &Operation) -> usize {
    match op {
        Operation::Put { key, value } => key.len() + value.len(),
        Operation::Delete { key } => key.len(),
    }
}

/// Cuts `items` (an operation with whatever the caller applies once it is committed) into
/// consecutive batches within the transaction limits. A single operation over the byte limit
/// gets a batch of its own, which the store then rejects with a clear error.
pub fn split_into_txns<T>(items: Vec<(Operation, T)>) -> Vec<Vec<(Operation, T)>> {
    let mut batches = Vec::new();
    let mut current: Vec<(Operation, T)> = Vec::new();
    let mut bytes = 0;
    for item in items {
        let size = op_bytes(&item.0);
        if !current.is_empty() && (current.len() == MAX_TXN_OPS || bytes + size > MAX_TXN_BYTES) {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(item);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_both_limits_and_keep_order() {
        let ops: Vec<(Operation, usize)> =
            (0..300).map(|i| (Operation::put(format!("k{i:04}"), vec![0u8; 10]), i)).collect();
        let batches = split_into_txns(ops);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![128, 128, 44]);
        let order: Vec<usize> = batches.into_iter().flatten().map(|(_, i)| i).collect();
        assert_eq!(order, (0..300).collect::<Vec<_>>());

        let big: Vec<(Operation, ())> =
            (0..3).map(|i| (Operation::put(format!("b{i}"), vec![0u8; MAX_TXN_BYTES / 2]), ())).collect();
        assert_eq!(split_into_txns(big).len(), 3);
        assert!(split_into_txns(Vec::<(Operation, ())>::new()).is_empty());
    }
}
