//! Distribution requirements of operators and the exchanges that satisfy them.

use super::plan::{exchange, Distribution, Exchange, Ids, PlanNode};

/// What an operator needs of an input's distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Required {
    Any,
    Single,
    /// Rows with equal values in these columns on one actor: any hash distribution on a
    /// subset of them will do.
    HashOn(Vec<usize>),
    /// Exactly this hash distribution (join sides and union branches must line up).
    ExactHash(Vec<usize>),
    Broadcast,
}

/// `input`, behind an exchange unless it already satisfies `req`.
pub fn enforce(ids: &mut Ids, input: PlanNode, req: Required) -> PlanNode {
    if satisfies(&input.dist, &req) {
        return input;
    }
    let how = match req {
        Required::Any => return input,
        Required::Single => Exchange::Simple,
        Required::HashOn(k) | Required::ExactHash(k) => {
            if k.is_empty() {
                Exchange::Simple
            } else {
                Exchange::Hash(k)
            }
        }
        Required::Broadcast => Exchange::Broadcast,
    };
    exchange(ids, input, how)
}

pub fn satisfies(dist: &Distribution, req: &Required) -> bool {
    match req {
        Required::Any => true,
        Required::Single => *dist == Distribution::Single,
        Required::HashOn(keys) if keys.is_empty() => *dist == Distribution::Single,
        Required::HashOn(keys) => match dist {
            Distribution::Hash(d) | Distribution::UpstreamHash(d, _) => !d.is_empty() && d.iter().all(|c| keys.contains(c)),
            _ => false,
        },
        Required::ExactHash(keys) if keys.is_empty() => *dist == Distribution::Single,
        Required::ExactHash(keys) => *dist == Distribution::Hash(keys.clone()),
        // A broadcast is always an exchange of its own.
        Required::Broadcast => false,
    }
}

/// The distribution an operator keeps when its input is distributed by `input` and its
/// output column `i` is input column `map[i]` (only key columns matter).
pub fn through(input: &Distribution, outputs_of_input: &[Option<usize>]) -> Distribution {
    let map = outputs_of_input
        .iter()
        .enumerate()
        .filter_map(|(out, inp)| inp.map(|i| (i, out)))
        .fold(std::collections::HashMap::new(), |mut m, (i, out)| {
            m.entry(i).or_insert(out);
            m
        });
    input.remap(&map)
}

/// Adds the columns of `extra` missing from `key`, keeping order.
pub fn union_keys(key: &mut Vec<usize>, extra: impl IntoIterator<Item = usize>) {
    for c in extra {
        if !key.contains(&c) {
            key.push(c);
        }
    }
}
