//! Cross-crate integration tests of serenity-persist live in `tests/`; this
//! library holds what several of them read.
#![warn(missing_docs)]

use std::path::PathBuf;

use serde_json::Value;

/// Every real gateway payload in `tests/fixtures/gateway/` (origins and
/// licences in its `SOURCES.md`), sorted by file name: the file name, the
/// event name (the name's part before `__`) and the payload's `d` object.
///
/// # Panics
///
/// If the folder cannot be read or a payload is not JSON (a test helper).
pub fn gateway_fixtures() -> Vec<(String, String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/gateway");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the fixtures folder") {
        let path = entry.expect("a fixture").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let event = file.split("__").next().unwrap_or_default().to_owned();
        let text = std::fs::read_to_string(&path).expect("a readable fixture");
        let data: Value = serde_json::from_str(&text).expect("a fixture in JSON");
        out.push((file, event, data));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
