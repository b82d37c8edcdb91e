//! The database files this process has open: a second store on the same
//! file would be a second writer, so it is refused (as redb and sled refuse
//! a file they hold).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use persist_core::{Error, Result};

static OPEN: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

fn open_files() -> MutexGuard<'static, Option<HashSet<PathBuf>>> {
    // Nothing panics while holding it, so a poisoned set is still whole.
    OPEN.lock().unwrap_or_else(|e| e.into_inner())
}

/// A database file held by one store of this process; released on drop.
#[derive(Debug)]
pub(crate) struct OpenFile {
    /// Canonical, so two spellings of one file are one entry.
    path: PathBuf,
}

impl OpenFile {
    /// Claims `path` (which must exist), or says which store holds it.
    pub(crate) fn claim(path: &Path) -> Result<Self> {
        let canonical = path
            .canonicalize()
            .map_err(|e| Error::backend("sqlite", format!("resolving {}", path.display()), e))?;
        let mut open = open_files();
        if !open
            .get_or_insert_with(HashSet::new)
            .insert(canonical.clone())
        {
            return Err(Error::backend(
                "sqlite",
                format!("opening {}", path.display()),
                "this process already has the file open as a cache (two stores would be two \
                 writers): share the first one (Persist is cheap to clone), or shut it down \
                 before opening the file again",
            ));
        }
        Ok(Self { path: canonical })
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        if let Some(open) = open_files().as_mut() {
            open.remove(&self.path);
        }
    }
}
