//! A smoke replay: a few thousand generated events through the replay
//! binary's bot path on every backend, checking what ends up stored. The full
//! runs are the commands in BENCHMARKS.md.

use std::process::Command;

use persist_benches::traffic::{TrafficConfig, generate};
use serde_json::Value;

fn run(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(args)
        .output()
        .expect("the replay binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no result: {}", String::from_utf8_lossy(&out.stderr)));
    serde_json::from_str(line).unwrap()
}

#[test]
fn every_backend_stores_what_the_stream_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("traffic.jsonl");
    let config = TrafficConfig {
        seed: 11,
        messages: 3_000,
        guilds: 10,
        largest_guild: 1_200,
    };
    let summary = generate(&config, std::fs::File::create(&input).unwrap()).unwrap();
    let input = input.to_str().unwrap();
    let dir = dir.path().to_str().unwrap();
    let parse = run(&["--child", "parse", "--input", input, "--dir", dir]);
    assert_eq!(parse["events"], summary.events);
    for backend in ["memory", "sqlite", "redb", "sled"] {
        let phase = format!("ours:{backend}");
        let result = run(&[
            "--child", &phase, "--input", input, "--dir", dir, "--reads", "500",
        ]);
        assert_eq!(result["events"], summary.events, "{backend}");
        assert_eq!(result["failed"], 0, "{backend}: {result}");
        assert_eq!(result["messages"], summary.messages_kept, "{backend}");
        assert_eq!(result["members"], summary.members, "{backend}");
        assert!(
            result["after_point_samples"].as_u64() > Some(0),
            "{backend}"
        );
    }
    let floor = run(&["--child", "floor:redb", "--input", input, "--dir", dir]);
    let store = run(&["--child", "store:redb", "--input", input, "--dir", dir]);
    assert_eq!(floor["rows"], store["rows"]);
}
