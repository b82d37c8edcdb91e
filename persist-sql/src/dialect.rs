//! One statement text for every SQL backend, rendered once per dialect.
//!
//! A template is SQL with four marks where the dialects differ:
//! - `?id`: a snowflake bound as a parameter ([`Bind::Id`]);
//! - `?n`: an integer bound as a parameter ([`Bind::Int`]);
//! - `#column`: a column selected as the backend reads it back (PostgreSQL
//!   reads snowflakes, stored as `numeric`, and `data`, stored as `json`,
//!   as text);
//! - `%column`: a snowflake's timestamp bits (`column >> 22`), what
//!   `shard_of` divides.

/// The SQL dialects of the backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite: `?` parameters, ids as `INTEGER`, `data` as `TEXT`.
    Sqlite = 0,
    /// PostgreSQL: `$n` parameters, ids as `numeric(20)` (bound as text),
    /// `data` as `json`.
    Postgres = 1,
    /// MariaDB (and MySQL's syntax): `?` parameters, ids as `BIGINT
    /// UNSIGNED`, `data` as `JSON`.
    MySql = 2,
}

/// A parameter of a rendered statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bind {
    /// A snowflake (`?id` in a template).
    Id(u64),
    /// An integer (`?n` in a template).
    Int(i64),
}

impl Dialect {
    /// Every dialect, by discriminant.
    pub const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];

    /// The template in this dialect.
    ///
    /// ```
    /// use persist_sql::Dialect;
    /// let sql = "SELECT #id, #data FROM messages WHERE channel_id = ?id LIMIT ?n";
    /// assert_eq!(
    ///     Dialect::Postgres.render(sql),
    ///     "SELECT id::text AS id_text, data::text AS data_text FROM messages WHERE channel_id = $1::numeric LIMIT $2"
    /// );
    /// assert_eq!(
    ///     Dialect::MySql.render(sql),
    ///     "SELECT id, data FROM messages WHERE channel_id = ? LIMIT ?"
    /// );
    /// ```
    pub fn render(self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 16);
        let mut params = 0;
        let mut rest = template;
        while let Some(at) = rest.find(['?', '#', '%']) {
            out.push_str(&rest[..at]);
            let mark = rest.as_bytes()[at];
            rest = &rest[at + 1..];
            let word_end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(rest.len());
            let (word, tail) = rest.split_at(word_end);
            rest = tail;
            if word.is_empty() {
                // A mark alone is SQL's own (`%` is modulo).
                out.push(char::from(mark));
                continue;
            }
            match (mark, self) {
                (b'?', Dialect::Postgres) => {
                    params += 1;
                    out.push_str(&format!("${params}"));
                    if word == "id" {
                        out.push_str("::numeric");
                    }
                }
                (b'?', _) => out.push('?'),
                (b'#', Dialect::Postgres) => {
                    // Aliased: `ORDER BY id` must order by the column, not
                    // by its text.
                    let name = word.rsplit('.').next().unwrap_or(word);
                    out.push_str(&format!("{word}::text AS {name}_text"));
                }
                (b'#', _) => out.push_str(word),
                (_, Dialect::Postgres) => out.push_str(&format!("div({word}, 4194304)")),
                (_, _) => out.push_str(&format!("({word} >> 22)")),
            }
        }
        out.push_str(rest);
        out
    }
}

/// A template rendered in a dialect, once per call site for the process.
///
/// ```
/// use persist_sql::{Dialect, sql};
/// let sql: &'static str = sql!(Dialect::Sqlite, "SELECT #data FROM guilds WHERE id = ?id");
/// assert_eq!(sql, "SELECT data FROM guilds WHERE id = ?");
/// ```
#[macro_export]
macro_rules! sql {
    ($dialect:expr, $template:expr) => {{
        static RENDERED: ::std::sync::OnceLock<[String; 3]> = ::std::sync::OnceLock::new();
        RENDERED.get_or_init(|| $crate::Dialect::ALL.map(|d| d.render($template)))
            [$dialect as usize]
            .as_str()
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_bits_and_plain_text_render_in_each_dialect() {
        let sql = "SELECT #id FROM guilds WHERE %id % ?n = ?n ORDER BY id";
        assert_eq!(
            Dialect::Sqlite.render(sql),
            "SELECT id FROM guilds WHERE (id >> 22) % ? = ? ORDER BY id"
        );
        assert_eq!(
            Dialect::Postgres.render(sql),
            "SELECT id::text AS id_text FROM guilds WHERE div(id, 4194304) % $1 = $2 ORDER BY id"
        );
    }
}
