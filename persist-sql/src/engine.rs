//! The committed state as the cache's write semantics read it
//! ([`persist_core::write::Engine`]), for every SQL backend: the backend
//! reads one table's rows by key and runs a key listing
//! ([`CommittedRows`]); which table each key is in and which statement
//! lists each scope is written once, here.

use persist_core::write::{Engine, Scope};
use persist_core::{EntityKey, Record, Result};

use crate::{Bind, Dialect, Table};

/// A SQL backend's reads inside a batch's transaction.
pub trait CommittedRows {
    /// The dialect its statements are rendered in.
    const DIALECT: Dialect;

    /// Reads the stored rows of `keys` (all of `table`; each with its
    /// position in `out`) into `out`, leaving absent keys `None`.
    fn get_table(
        &mut self,
        table: Table,
        keys: &[(usize, EntityKey)],
        out: &mut [Option<Record>],
    ) -> Result<()>;

    /// The id columns of each row a listing statement returns: the first,
    /// and the second (0 when the statement selects one).
    fn list(&mut self, sql: &'static str, binds: &[Bind]) -> Result<Vec<(u64, u64)>>;
}

/// Puts the row a batch read found for its `ordinality`-th key (numbered
/// from 1, as SQL's `WITH ORDINALITY` / `FOR ORDINALITY` number a list of
/// keys bound as one parameter) into `out`; a number outside the keys is
/// ignored.
pub fn place_row(
    table: Table,
    keys: &[(usize, EntityKey)],
    ordinality: i64,
    data: std::result::Result<&str, impl std::fmt::Display>,
    out: &mut [Option<Record>],
) -> Result<()> {
    let found = usize::try_from(ordinality)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|at| keys.get(at));
    if let Some((position, key)) = found {
        out[*position] = Some(crate::decode_data(table, key, data)?);
    }
    Ok(())
}

/// A backend's [`CommittedRows`] as the semantics' [`Engine`].
pub struct SqlEngine<C>(pub C);

impl<C: CommittedRows> Engine for SqlEngine<C> {
    fn get_many(&mut self, keys: &[EntityKey]) -> Result<Vec<Option<Record>>> {
        let mut out = vec![None; keys.len()];
        let mut by_table: Vec<Vec<(usize, EntityKey)>> = vec![Vec::new(); Table::ALL.len()];
        for (position, key) in keys.iter().enumerate() {
            by_table[Table::of(key) as usize].push((position, *key));
        }
        for (table, keys) in Table::ALL.into_iter().zip(&by_table) {
            if !keys.is_empty() {
                self.0.get_table(table, keys, &mut out)?;
            }
        }
        Ok(out)
    }

    fn scope_keys(&mut self, scope: Scope) -> Result<Vec<EntityKey>> {
        let (sql, binds) = crate::scope::listing(scope, C::DIALECT);
        Ok(self
            .0
            .list(sql, &binds)?
            .into_iter()
            .map(|(first, second)| crate::scope::key_of(scope, first, second))
            .collect())
    }
}
