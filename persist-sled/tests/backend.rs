//! The sled store: the conformance kit, layout upgrades, clear errors for bad
//! input, and crash safety (the suite every key-value backend runs).

use persist_sled::{SledEngine, SledStore};

persist_kv::backend_tests!(
    store: SledStore,
    engine: SledEngine,
    backend: "sled",
    extension: "sled",
    crash_env: "PERSIST_SLED_CRASH_CHILD",
);
