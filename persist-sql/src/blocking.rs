//! Running a backend's synchronous batch (the cache's write semantics ask
//! for reads one at a time) where it may block on the backend's own
//! runtime.

/// Runs `work` on a thread that may block: on tokio's multi-threaded
/// runtime the worker hands its other tasks off first
/// (`block_in_place`); on a current-thread runtime a scoped thread runs it
/// (blocking that runtime's only thread would also block `work`'s own
/// runtime calls); outside any runtime it runs inline.
///
/// ```
/// assert_eq!(persist_sql::off_runtime(|| 1 + 1), 2);
/// ```
pub fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => work(),
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        Ok(_) => std::thread::scope(|scope| match scope.spawn(work).join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        }),
    }
}
