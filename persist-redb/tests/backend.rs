//! The redb store: the conformance kit, layout upgrades, clear errors for bad
//! input, and crash safety (the suite every key-value backend runs).

use persist_redb::{RedbEngine, RedbStore};

persist_kv::backend_tests!(
    store: RedbStore,
    engine: RedbEngine,
    backend: "redb",
    extension: "redb",
    crash_env: "PERSIST_REDB_CRASH_CHILD",
);
