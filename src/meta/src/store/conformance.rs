//! The behaviour every backend must share, run against each of them by their own tests.
//! Expects an empty store (for etcd: a fresh key prefix). Needs a multi-threaded runtime for
//! the concurrency checks to mean anything.

use std::sync::Arc;

use super::{MetaStore, MetaStoreError, Operation, Precondition, MAX_TXN_BYTES, MAX_TXN_OPS};

type Kvs = Vec<(Vec<u8>, Vec<u8>)>;

pub(crate) async fn conformance(store: Arc<dyn MetaStore>) {
    basic_reads_and_writes(&*store).await;
    scan_order_and_prefixes(&*store).await;
    transactions(&*store).await;
    invalid_transactions(&*store).await;
    large_values_and_many_keys(&*store).await;
    only_one_creator_wins(store.clone()).await;
    compare_and_swap_counter(store.clone()).await;
}

async fn get(store: &dyn MetaStore, key: &[u8]) -> Option<Vec<u8>> {
    match store.get(key).await {
        Ok(v) => v,
        Err(e) => panic!("get {:?}: {e}", String::from_utf8_lossy(key)),
    }
}

async fn scan(store: &dyn MetaStore, prefix: &[u8]) -> Kvs {
    match store.scan_prefix(prefix).await {
        Ok(kvs) => kvs,
        Err(e) => panic!("scan {:?}: {e}", String::from_utf8_lossy(prefix)),
    }
}

async fn txn(store: &dyn MetaStore, pre: Vec<Precondition>, ops: Vec<Operation>) -> bool {
    match store.txn(pre, ops).await {
        Ok(applied) => applied,
        Err(e) => panic!("txn: {e}"),
    }
}

async fn put(store: &dyn MetaStore, key: &[u8], value: &[u8]) {
    if let Err(e) = store.put(key, value).await {
        panic!("put {:?}: {e}", String::from_utf8_lossy(key));
    }
}

fn kv(k: &[u8], v: &[u8]) -> (Vec<u8>, Vec<u8>) {
    (k.to_vec(), v.to_vec())
}

async fn basic_reads_and_writes(store: &dyn MetaStore) {
    assert_eq!(get(store, b"basic/missing").await, None);
    put(store, b"basic/a", b"1").await;
    assert_eq!(get(store, b"basic/a").await, Some(b"1".to_vec()));
    put(store, b"basic/a", b"2").await;
    assert_eq!(get(store, b"basic/a").await, Some(b"2".to_vec()));
    put(store, b"basic/empty", b"").await;
    assert_eq!(get(store, b"basic/empty").await, Some(vec![]));
    assert!(store.delete(b"basic/a").await.is_ok());
    assert_eq!(get(store, b"basic/a").await, None);
    assert!(
        store.delete(b"basic/never-existed").await.is_ok(),
        "deleting an absent key"
    );
    // Non-UTF-8 keys and values are plain bytes.
    put(store, b"basic/\x00\xff\x80", b"\xff\x00\xfe").await;
    assert_eq!(
        get(store, b"basic/\x00\xff\x80").await,
        Some(b"\xff\x00\xfe".to_vec())
    );
}

async fn scan_order_and_prefixes(store: &dyn MetaStore) {
    // Inserted out of order; bytewise order puts "\x00" before "a" and "\xff" last.
    for key in [
        &b"scan/b"[..],
        b"scan/a\xff",
        b"scan/a",
        b"scan/a\x00",
        b"scan/ab",
        b"scan/\xff",
        b"scan0",
        b"sca",
    ] {
        put(store, key, key).await;
    }
    let keys = |kvs: Kvs| kvs.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(
        keys(scan(store, b"scan/").await),
        vec![
            b"scan/a".to_vec(),
            b"scan/a\x00".to_vec(),
            b"scan/ab".to_vec(),
            b"scan/a\xff".to_vec(),
            b"scan/b".to_vec(),
            b"scan/\xff".to_vec(),
        ]
    );
    assert_eq!(
        keys(scan(store, b"scan/a").await),
        vec![
            b"scan/a".to_vec(),
            b"scan/a\x00".to_vec(),
            b"scan/ab".to_vec(),
            b"scan/a\xff".to_vec()
        ]
    );
    assert_eq!(
        keys(scan(store, b"scan/\xff").await),
        vec![b"scan/\xff".to_vec()]
    );
    assert_eq!(scan(store, b"scan/c").await, vec![]);
    assert_eq!(scan(store, b"nothing-here/").await, vec![]);
    // Values come back with their keys.
    assert_eq!(scan(store, b"scan/b").await, vec![kv(b"scan/b", b"scan/b")]);
    // The empty prefix sees every key, in order.
    let everything = keys(scan(store, b"").await);
    let mut sorted = everything.clone();
    sorted.sort();
    assert_eq!(everything, sorted);
    assert!(everything.contains(&b"sca".to_vec()) && everything.contains(&b"basic/empty".to_vec()));
}

async fn transactions(store: &dyn MetaStore) {
    // Absent-key guard: creates once.
    assert!(
        txn(
            store,
            vec![Precondition::key_absent("t/a")],
            vec![Operation::put("t/a", "1")]
        )
        .await
    );
    assert!(
        !txn(
            store,
            vec![Precondition::key_absent("t/a")],
            vec![Operation::put("t/a", "X")]
        )
        .await
    );
    assert_eq!(get(store, b"t/a").await, Some(b"1".to_vec()));

    // Value guard, with several writes applied together.
    assert!(
        txn(
            store,
            vec![
                Precondition::value_equals("t/a", "1"),
                Precondition::key_exists("t/a")
            ],
            vec![
                Operation::put("t/a", "2"),
                Operation::put("t/b", "b"),
                Operation::delete("t/none")
            ],
        )
        .await
    );
    assert_eq!(
        scan(store, b"t/").await,
        vec![kv(b"t/a", b"2"), kv(b"t/b", b"b")]
    );

    // One failing precondition among several: nothing applies.
    assert!(
        !txn(
            store,
            vec![
                Precondition::value_equals("t/a", "2"),
                Precondition::value_equals("t/b", "wrong")
            ],
            vec![
                Operation::put("t/a", "3"),
                Operation::delete("t/b"),
                Operation::put("t/c", "c")
            ],
        )
        .await
    );
    assert_eq!(
        scan(store, b"t/").await,
        vec![kv(b"t/a", b"2"), kv(b"t/b", b"b")]
    );

    // An absent key matches no value, not even the empty one; an empty value matches itself.
    assert!(
        !txn(
            store,
            vec![Precondition::value_equals("t/none", "")],
            vec![Operation::put("t/x", "")]
        )
        .await
    );
    assert!(
        !txn(
            store,
            vec![Precondition::key_exists("t/none")],
            vec![Operation::put("t/x", "")]
        )
        .await
    );
    put(store, b"t/empty", b"").await;
    assert!(
        txn(
            store,
            vec![Precondition::value_equals("t/empty", "")],
            vec![Operation::delete("t/empty")]
        )
        .await
    );
    assert_eq!(get(store, b"t/empty").await, None);
    assert_eq!(get(store, b"t/x").await, None);
    // A value guard compares whole values, not prefixes.
    assert!(
        !txn(
            store,
            vec![Precondition::value_equals("t/a", "")],
            vec![Operation::delete("t/a")]
        )
        .await
    );
    assert!(
        !txn(
            store,
            vec![Precondition::value_equals("t/a", "22")],
            vec![Operation::delete("t/a")]
        )
        .await
    );

    // No operations: just evaluates the preconditions.
    assert!(txn(store, vec![Precondition::key_exists("t/a")], vec![]).await);
    assert!(!txn(store, vec![Precondition::key_absent("t/a")], vec![]).await);
    assert!(txn(store, vec![], vec![]).await);

    // Delete guarded on the value, then the key is absent again.
    assert!(
        txn(
            store,
            vec![Precondition::value_equals("t/a", "2")],
            vec![Operation::delete("t/a")]
        )
        .await
    );
    assert!(txn(store, vec![Precondition::key_absent("t/a")], vec![]).await);

    // Preconditions may name keys the transaction writes, and may repeat.
    assert!(
        txn(
            store,
            vec![
                Precondition::key_exists("t/b"),
                Precondition::key_exists("t/b")
            ],
            vec![Operation::delete("t/b"), Operation::put("t/moved", "b")],
        )
        .await
    );
    assert_eq!(scan(store, b"t/").await, vec![kv(b"t/moved", b"b")]);
}

async fn invalid_transactions(store: &dyn MetaStore) {
    let invalid = |r: Result<bool, MetaStoreError>| matches!(r, Err(MetaStoreError::InvalidTxn(_)));
    assert!(invalid(
        store
            .txn(
                vec![],
                vec![Operation::put("inv/a", "1"), Operation::put("inv/a", "2")]
            )
            .await
    ));
    assert!(invalid(
        store.txn(vec![], vec![Operation::put("", "1")]).await
    ));
    let too_many = (0..=MAX_TXN_OPS)
        .map(|i| Operation::put(format!("inv/{i}"), ""))
        .collect();
    assert!(invalid(store.txn(vec![], too_many).await));
    assert!(invalid(
        store
            .txn(
                vec![],
                vec![Operation::put("inv/big", vec![0u8; MAX_TXN_BYTES + 1])]
            )
            .await
    ));
    assert_eq!(
        scan(store, b"inv/").await,
        vec![],
        "rejected transactions must not write"
    );
}

async fn large_values_and_many_keys(store: &dyn MetaStore) {
    let big: Vec<u8> = (0..MAX_TXN_BYTES - 64).map(|i| (i % 251) as u8).collect();
    put(store, b"big/value", &big).await;
    assert_eq!(get(store, b"big/value").await.as_deref(), Some(&big[..]));

    // More keys than fit in one etcd page, written at the maximum batch size.
    let total = 3 * MAX_TXN_OPS + 17;
    let keys: Vec<Vec<u8>> = (0..total)
        .map(|i| format!("many/{i:05}").into_bytes())
        .collect();
    for batch in keys.chunks(MAX_TXN_OPS) {
        let ops = batch
            .iter()
            .map(|k| Operation::put(k.clone(), k.clone()))
            .collect();
        assert!(txn(store, vec![], ops).await);
    }
    let scanned = scan(store, b"many/").await;
    assert_eq!(scanned.len(), total);
    assert!(scanned
        .iter()
        .zip(&keys)
        .all(|((k, v), want)| k == want && v == want));
    // Page boundaries in the middle of large values.
    let fat: Vec<u8> = vec![7u8; 60_000];
    for i in 0..12 {
        put(store, format!("fat/{i:02}").as_bytes(), &fat).await;
    }
    let scanned = scan(store, b"fat/").await;
    assert_eq!(scanned.len(), 12);
    assert!(scanned.iter().all(|(_, v)| v == &fat));
}

async fn only_one_creator_wins(store: Arc<dyn MetaStore>) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let applied = store
                .txn(
                    vec![Precondition::key_absent("race/leader")],
                    vec![
                        Operation::put("race/leader", format!("node-{i}")),
                        Operation::put(format!("race/won-by/{i}"), ""),
                    ],
                )
                .await;
            match applied {
                Ok(applied) => (i, applied),
                Err(e) => panic!("racing txn: {e}"),
            }
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await {
            Ok((i, true)) => winners.push(i),
            Ok((_, false)) => {}
            Err(e) => panic!("task: {e}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one creator must win: {winners:?}"
    );
    let leader = get(&*store, b"race/leader").await;
    assert_eq!(leader, Some(format!("node-{}", winners[0]).into_bytes()));
    assert_eq!(scan(&*store, b"race/won-by/").await.len(), 1);
}

async fn compare_and_swap_counter(store: Arc<dyn MetaStore>) {
    const TASKS: u64 = 4;
    const EACH: u64 = 10;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            let mut attempts = 0;
            while done < EACH {
                attempts += 1;
                assert!(attempts < 10_000, "compare-and-swap never made progress");
                let current = match store.get(b"cas/counter").await {
                    Ok(v) => v,
                    Err(e) => panic!("get: {e}"),
                };
                let n: u64 = current
                    .as_deref()
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let guard = match current {
                    Some(v) => Precondition::value_equals("cas/counter", v),
                    None => Precondition::key_absent("cas/counter"),
                };
                let ops = vec![
                    Operation::put("cas/counter", (n + 1).to_string()),
                    Operation::put(format!("cas/step/{:04}", n + 1), ""),
                ];
                match store.txn(vec![guard], ops).await {
                    Ok(true) => done += 1,
                    Ok(false) => {}
                    Err(e) => panic!("txn: {e}"),
                }
            }
        }));
    }
    for t in tasks {
        assert!(t.await.is_ok());
    }
    let total = TASKS * EACH;
    assert_eq!(
        get(&*store, b"cas/counter").await,
        Some(total.to_string().into_bytes())
    );
    // Every increment applied exactly once: no lost updates, no duplicates.
    assert_eq!(scan(&*store, b"cas/step/").await.len() as u64, total);
}
