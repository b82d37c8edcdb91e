//! The sled store passes the conformance kit every backend runs.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use persist_core::testkit::{StoreFactory, run_conformance};
use persist_core::{Migrations, Result, Store};
use persist_kv::{KvEngine, Space, WriteSet};
use persist_sled::{SledEngine, SledStore};

struct Factory {
    dir: tempfile::TempDir,
}

impl Factory {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.sled"))
    }
}

#[async_trait]
impl StoreFactory for Factory {
    async fn open(&self, name: &str, migrations: &Migrations) -> Result<Arc<dyn Store>> {
        Ok(Arc::new(
            SledStore::open(self.path(name), migrations).await?,
        ))
    }

    async fn make_schema_newer(&self, name: &str) -> Result<()> {
        let engine = SledEngine::open(self.path(name))?;
        let mut writes = WriteSet::default();
        writes.put(Space::Meta, b"layout", 99u32.to_be_bytes().to_vec());
        engine.commit(writes)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sled_store_passes_the_conformance_kit() {
    let factory = Factory {
        dir: tempfile::tempdir().unwrap(),
    };
    run_conformance(&factory).await;
}
