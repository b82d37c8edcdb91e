//! What a server backend's store holds besides its read pool: the writer
//! connection and the leases its batches check (none when read-only).

use std::sync::Arc;

use persist_core::{AppliedHook, Error, Mutation, Result};
use tokio::sync::Mutex;

use crate::lease::{LeaseConfig, LeaseTable, Leases};
use crate::off_runtime;
use crate::writer::{Connector, Writer};

/// The writing side of a server store shared by several processes.
pub struct SharedWriter<C: Connector> {
    /// One batch at a time; `None` when read-only.
    writer: Option<Mutex<Writer<C>>>,
    leases: Option<Held>,
}

/// The leases held, their table, and the task renewing them.
struct Held {
    leases: Arc<Leases>,
    table: Arc<dyn LeaseTable>,
    renewal: tokio::task::JoinHandle<()>,
}

impl<C: Connector> std::fmt::Debug for SharedWriter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedWriter")
            .field("backend", &C::BACKEND)
            .field("read_only", &self.writer.is_none())
            .finish_non_exhaustive()
    }
}

impl<C: Connector> SharedWriter<C> {
    /// Takes the leases of `config`'s shards (waiting up to its
    /// `acquire_timeout`), connects the writer and starts renewing them.
    pub async fn start(
        connector: C,
        table: Arc<dyn LeaseTable>,
        config: LeaseConfig,
    ) -> Result<Self> {
        let leases = Arc::new(Leases::acquire(table.as_ref(), config).await?);
        let opened = {
            let leases = Arc::clone(&leases);
            off_runtime(move || Writer::open(connector, leases))
        };
        let writer = match opened {
            Ok(writer) => writer,
            Err(error) => {
                let _ = leases.release(table.as_ref()).await;
                return Err(error);
            }
        };
        let renewal = leases.renew_until_dropped(Arc::clone(&table));
        Ok(Self {
            writer: Some(Mutex::new(writer)),
            leases: Some(Held {
                leases,
                table,
                renewal,
            }),
        })
    }

    /// No writer: every write is refused with [`Error::ReadOnly`].
    pub fn read_only() -> Self {
        Self {
            writer: None,
            leases: None,
        }
    }

    /// Whether writes are refused.
    pub fn is_read_only(&self) -> bool {
        self.writer.is_none()
    }

    /// The leases held (`None` when read-only).
    pub fn leases(&self) -> Option<&Leases> {
        self.leases.as_ref().map(|held| held.leases.as_ref())
    }

    fn writer(&self) -> Result<&Mutex<Writer<C>>> {
        self.writer.as_ref().ok_or(Error::ReadOnly {
            backend: C::BACKEND,
        })
    }

    /// Applies a batch (one transaction, fenced by the leases).
    pub async fn apply(&self, batch: &[Mutation]) -> Result<()> {
        let mut writer = self.writer()?.lock().await;
        off_runtime(|| writer.apply(batch))
    }

    /// Records an application migration hook as run.
    pub async fn record_hook(&self, hook: &AppliedHook) -> Result<()> {
        let mut writer = self.writer()?.lock().await;
        off_runtime(|| writer.record_hook(hook))
    }

    /// Ends the leases (another process may take the shards at once) and
    /// closes the writer.
    pub async fn close(&self) -> Result<()> {
        let mut released = Ok(());
        if let Some(held) = &self.leases {
            held.renewal.abort();
            released = held.leases.release(held.table.as_ref()).await;
        }
        if let Some(writer) = &self.writer {
            let mut writer = writer.lock().await;
            off_runtime(|| writer.close());
        }
        released
    }
}

impl<C: Connector> Drop for SharedWriter<C> {
    fn drop(&mut self) {
        if let Some(held) = &self.leases {
            held.renewal.abort();
        }
    }
}
