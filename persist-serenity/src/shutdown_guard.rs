//! [`ShutdownGuard`]: shuts the cache down when `main` leaves early.

use crate::Persist;

/// Shuts the cache down when dropped, unless [`Persist::shutdown`] already
/// ran: hold one in `main`, and a `?` that returns early (the client failed
/// to start, the gateway refused the token) or a panic still commits what
/// was queued and closes the store. Calling [`Persist::shutdown`] yourself
/// is still the better way, as its error can be reported; the guard logs
/// it instead.
///
/// Dropping it blocks the thread until shutdown ends, which needs tokio's
/// multi-threaded runtime (`#[tokio::main]`'s default); on a
/// current-thread runtime it logs an error and leaves the store as a crash
/// would (everything committed is safe).
///
/// ```
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// use persist_serenity::prelude::*;
/// async fn bot(persist: &Persist) -> Result<(), Box<dyn std::error::Error>> {
///     let _guard = persist.shutdown_on_drop();
///     persist.apply_dispatch("GUILD_CREATE", &serde_json::json!({"id": "1", "name": "crabs"}));
///     Err("the client could not start")? // returns early: the guard shuts down
/// }
/// let persist = Persist::builder().memory().open().await?;
/// assert!(bot(&persist).await.is_err());
/// let stats = persist.stats().cache;
/// assert!(stats.mutations_committed > 0);
/// assert_eq!(stats.queued, 0);
/// # Ok::<(), PersistError>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
#[must_use = "the guard shuts down when dropped: bind it (`let _guard = ...`)"]
pub struct ShutdownGuard {
    persist: Persist,
}

impl Persist {
    /// A guard that shuts the cache down when dropped (see [`ShutdownGuard`]).
    pub fn shutdown_on_drop(&self) -> ShutdownGuard {
        ShutdownGuard {
            persist: self.clone(),
        }
    }
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(
                "a ShutdownGuard was dropped outside a tokio runtime; call Persist::shutdown before leaving the runtime"
            );
            return;
        };
        if runtime.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            tracing::error!(
                "a ShutdownGuard was dropped on a current-thread runtime, where it cannot wait; call Persist::shutdown yourself"
            );
            return;
        }
        let persist = &self.persist;
        let shut = tokio::task::block_in_place(|| runtime.block_on(persist.shutdown()));
        if let Err(error) = shut {
            tracing::error!(%error, "shutting the cache down on drop failed");
        }
    }
}
