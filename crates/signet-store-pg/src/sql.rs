//! Building statements whose shape depends on the request (filters, keyword terms): every
//! value is a bound parameter, placed with [`Params::bind`], never spliced into the SQL.

use postgres::types::ToSql;

/// The parameters of one statement, numbered `$1..` in the order they were bound.
#[derive(Default)]
pub(crate) struct Params {
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Params {
    /// Binds `v` and returns its placeholder (`$n`).
    pub(crate) fn bind(&mut self, v: impl ToSql + Sync + Send + 'static) -> String {
        self.values.push(Box::new(v));
        format!("${}", self.values.len())
    }

    /// The values as the client takes them.
    pub(crate) fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// A `LIMIT`/`OFFSET` value as PostgreSQL's bigint.
pub(crate) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
