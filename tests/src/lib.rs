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

/// A global allocator that counts the bytes allocated and not yet freed,
/// by everyone in the process: a test binary that checks a byte estimate
/// declares it `#[global_allocator]` and runs one test (a second test
/// running at the same time would be counted too).
///
/// ```
/// // In a test binary: #[global_allocator] static A: persist_tests::Counting = persist_tests::Counting;
/// let before = persist_tests::Counting::live();
/// let _ = before;
/// ```
pub struct Counting;

static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Counting {
    /// Bytes allocated through this allocator and not yet freed.
    pub fn live() -> usize {
        LIVE.load(std::sync::atomic::Ordering::Relaxed)
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        LIVE.fetch_add(new_size, std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

/// Estimated and allocated heap bytes, summed; signed, since what a step
/// frees counts against it.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes {
    /// By the estimate under test.
    pub estimated: i64,
    /// By the allocator.
    pub allocated: i64,
}

impl Bytes {
    /// Estimated over allocated.
    pub fn ratio(self) -> f64 {
        self.estimated as f64 / self.allocated as f64
    }
}

impl std::ops::AddAssign for Bytes {
    fn add_assign(&mut self, other: Self) {
        self.estimated += other.estimated;
        self.allocated += other.allocated;
    }
}

/// The mutations a dispatch (its event name and `d` object) becomes; none
/// when it becomes none or cannot be read.
pub fn mutations_of(event: &str, data: &Value) -> Vec<persist_core::Mutation> {
    use persist_core::gateway::{Applied, Session, to_mutations};
    match to_mutations(event, data, &Session::default()) {
        Ok(Applied::Mutations(mutations)) => mutations,
        _ => Vec::new(),
    }
}
