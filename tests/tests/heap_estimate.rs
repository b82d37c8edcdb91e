//! The write queue's memory budget counts each mutation by the rule of
//! `persist_core::HeapSize` (its module docs). This checks the rule against
//! what the allocator really hands out, on the generator's stream and on the
//! real gateway payloads: the estimate must stay within ±20 % of the bytes
//! allocated for the mutations, in total and for each kind of event that
//! makes up the queue's bulk.
//!
//! One test in this binary: the counting allocator is process-wide, and a
//! second test running at the same time would be counted too.

use std::collections::BTreeMap;

use persist_benches::traffic::{TrafficConfig, generate};
use persist_core::{HeapSize, Mutation};
use persist_tests::{Bytes, Counting, mutations_of};
use serde_json::Value;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The heap bytes of a copy of each mutation, as estimated and as
/// allocated (a copy: its vectors and strings are exactly as large as the
/// estimate reads them).
fn measure(mutations: &[Mutation]) -> Bytes {
    let mut bytes = Bytes::default();
    for mutation in mutations {
        let before = Counting::live();
        let copy = mutation.clone();
        let allocated = Counting::live() - before;
        bytes += Bytes {
            estimated: copy.heap_bytes() as i64,
            allocated: allocated as i64,
        };
        drop(copy);
    }
    bytes
}

fn add(totals: &mut BTreeMap<String, Bytes>, event: &str, bytes: Bytes) {
    *totals.entry(event.to_owned()).or_default() += bytes;
}

#[test]
fn the_estimate_is_within_a_fifth_of_what_is_allocated() {
    let mut by_event: BTreeMap<String, Bytes> = BTreeMap::new();
    // The generator's stream: the queue's usual mix.
    let mut stream = Vec::new();
    let config = TrafficConfig {
        largest_guild: 2_000,
        ..TrafficConfig::for_messages(5_000, 3)
    };
    generate(&config, &mut stream).unwrap();
    for line in String::from_utf8(stream).unwrap().lines() {
        let frame: Value = serde_json::from_str(line).unwrap();
        let Some(event) = frame["t"].as_str() else {
            continue;
        };
        let bytes = measure(&mutations_of(event, &frame["d"]));
        add(&mut by_event, event, bytes);
    }
    let mut stream_total = Bytes::default();
    for bytes in by_event.values() {
        stream_total += *bytes;
    }
    // The real payloads, with everything Discord sends that we keep as JSON.
    let mut fixtures = Bytes::default();
    for (_, event, data) in persist_tests::gateway_fixtures() {
        let bytes = measure(&mutations_of(&event, &data));
        fixtures += bytes;
    }
    let report = format!(
        "stream {stream_total:?} ({:.2}), fixtures {fixtures:?} ({:.2}), by event: {:#?}",
        stream_total.ratio(),
        fixtures.ratio(),
        by_event
            .iter()
            .map(|(e, b)| (
                e.as_str(),
                b.estimated,
                b.allocated,
                format!("{:.2}", b.ratio())
            ))
            .collect::<Vec<_>>()
    );
    println!("{report}");
    let within = |b: Bytes| (0.8..=1.2).contains(&b.ratio());
    assert!(stream_total.allocated > 1 << 20, "{report}");
    assert!(within(stream_total), "the stream: {report}");
    assert!(within(fixtures), "the fixtures: {report}");
    // Every kind of event that holds a hundredth of the stream's bytes.
    for (event, bytes) in &by_event {
        if bytes.allocated * 100 >= stream_total.allocated {
            assert!(within(*bytes), "{event}: {report}");
        }
    }
}
