//! Every table as plain rows, and back: the database side of backups.
//!
//! The rows are backend-neutral: every column Candor declares is an integer or text (times are
//! Unix seconds, flags 0/1, structured values JSON text), so a row is a list of JSON integers,
//! strings and nulls, and a dump taken from SQLite loads into PostgreSQL and the other way round.
//! Tables are listed in the order the migrations created them, which is an order where every
//! table comes after the tables it references: loading in that order satisfies foreign keys.
//!
//! [`Snapshot`] reads on a connection of its own inside one read transaction, so the dump is
//! consistent (a transaction that commits meanwhile is either wholly in it or not at all) and the
//! server keeps writing while it runs (SQLite in WAL mode lets a reader and a writer work at once).

use crate::{Backend, Store, StoreError, StoreResult};
use futures_util::stream::{BoxStream, StreamExt};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, ConnectOptions, Connection, Executor, Row};

/// One table's name and columns, in the database's column order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<ColumnSchema>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSchema {
    pub name: String,
    /// An integer column; otherwise text.
    pub integer: bool,
}

/// One value of a row: a JSON integer, string or null.
pub type Cell = serde_json::Value;

/// The table that records applied migrations: not data, and the target has its own.
const MIGRATIONS_TABLE: &str = "candor_migrations";

/// A consistent read of the whole database on a dedicated connection.
pub struct Snapshot {
    conn: AnyConnection,
    backend: Backend,
}

impl Store {
    /// Opens a read transaction on a new connection (not one of the pool's, so the server's
    /// writes go on while the snapshot is read).
    pub async fn snapshot(&self) -> StoreResult<Snapshot> {
        let mut conn = self.pool.connect_options().connect().await?;
        match self.backend {
            Backend::Sqlite => {
                conn.execute("PRAGMA busy_timeout = 5000").await?;
                conn.execute("BEGIN").await?;
                // A deferred SQLite transaction takes its snapshot at its first read.
                conn.execute("SELECT COUNT(*) FROM sqlite_master").await?;
            }
            Backend::Postgres => {
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
            }
        }
        Ok(Snapshot {
            conn,
            backend: self.backend,
        })
    }

    /// Rows per data table, in creation order (a restored copy is compared with a backup's
    /// manifest).
    pub async fn row_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        let mut conn = self.pool.acquire().await?;
        let tables = tables(&mut conn, self.backend).await?;
        let mut counts = vec![];
        for t in tables {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", quote(&t.name)))
                .fetch_one(&mut *conn)
                .await?;
            counts.push((t.name, n));
        }
        Ok(counts)
    }

    /// The newest migration applied: a dump loads only into a database at the same version.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        let mut conn = self.pool.acquire().await?;
        schema_version(&mut conn).await
    }
}

impl Snapshot {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn schema_version(&mut self) -> StoreResult<i64> {
        schema_version(&mut self.conn).await
    }

    /// The data tables, in creation order.
    pub async fn tables(&mut self) -> StoreResult<Vec<TableSchema>> {
        tables(&mut self.conn, self.backend).await
    }

    /// The ids of every stored blob.
    pub async fn blob_ids(&mut self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT id FROM blobs ORDER BY id")
            .fetch_all(&mut self.conn)
            .await?)
    }

    /// The rows of `table` as they are streamed from the database. `sql` is
    /// [`select_all`]`(table)`, kept by the caller for as long as the stream runs.
    pub fn rows<'a>(&'a mut self, table: &'a TableSchema, sql: &'a str) -> BoxStream<'a, StoreResult<Vec<Cell>>> {
        sqlx::query(sql)
            .fetch(&mut self.conn)
            .map(move |row| {
                let row = row?;
                table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| cell(&row, i, c))
                    .collect()
            })
            .boxed()
    }

    /// Ends the read transaction.
    pub async fn close(mut self) -> StoreResult<()> {
        self.conn.execute("ROLLBACK").await?;
        self.conn.close().await?;
        Ok(())
    }
}

/// `SELECT` of every column of `table`, in a stable order.
pub fn select_all(table: &TableSchema) -> String {
    let cols: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    format!("SELECT {} FROM {} ORDER BY 1", cols.join(", "), quote(&table.name))
}

fn cell(row: &sqlx::any::AnyRow, i: usize, column: &ColumnSchema) -> StoreResult<Cell> {
    if column.integer {
        if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            return Ok(v.map_or(Cell::Null, Cell::from));
        }
    }
    match row.try_get::<Option<String>, _>(i) {
        Ok(v) => Ok(v.map_or(Cell::Null, Cell::from)),
        // SQLite keeps what it is given: an integer in a text column is read as one.
        Err(_) => Ok(row.try_get::<Option<i64>, _>(i)?.map_or(Cell::Null, Cell::from)),
    }
}

/// A double-quoted SQL identifier (names come from the database's own catalog).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn schema_version(conn: &mut AnyConnection) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM candor_migrations")
            .fetch_one(conn)
            .await?,
    )
}

async fn tables(conn: &mut AnyConnection, backend: Backend) -> StoreResult<Vec<TableSchema>> {
    let names: Vec<String> = match backend {
        Backend::Sqlite => {
            sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
            )
            .fetch_all(&mut *conn)
            .await?
        }
        Backend::Postgres => {
            sqlx::query_scalar(
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind = 'r' AND n.nspname = current_schema() ORDER BY c.oid",
            )
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let mut out = vec![];
    for name in names.into_iter().filter(|n| n != MIGRATIONS_TABLE) {
        let columns: Vec<(String, String)> = match backend {
            Backend::Sqlite => {
                sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                    .bind(&name)
                    .fetch_all(&mut *conn)
                    .await?
            }
            Backend::Postgres => {
                sqlx::query_as(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                )
                .bind(&name)
                .fetch_all(&mut *conn)
                .await?
            }
        };
        let columns = columns
            .into_iter()
            .map(|(name, ty)| ColumnSchema {
                name,
                integer: ty.to_ascii_uppercase().contains("INT"),
            })
            .collect();
        out.push(TableSchema { name, columns });
    }
    Ok(out)
}

/// Loads a dump into this database in one transaction: nothing is kept unless all of it is.
pub struct Load {
    tx: crate::Tx,
    tables: Vec<TableSchema>,
}

impl Store {
    /// Starts loading a dump. With `replace`, every row already in the database is deleted
    /// first (in the same transaction); without it, a database holding any row is refused.
    pub async fn begin_load(&self, replace: bool) -> StoreResult<Load> {
        let mut tx = self.begin().await?;
        let tables = tables(&mut tx, self.backend).await?;
        if self.backend == Backend::Sqlite {
            // Checked at commit instead of row by row; the dump's order satisfies them anyway.
            sqlx::query("PRAGMA defer_foreign_keys = ON").execute(&mut *tx).await?;
        }
        let mut held = vec![];
        for t in &tables {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", quote(&t.name)))
                .fetch_one(&mut *tx)
                .await?;
            if n > 0 {
                held.push(format!("{} ({n} rows)", t.name));
            }
        }
        if !held.is_empty() {
            if !replace {
                return Err(StoreError::Conflict(format!(
                    "data in the target database: {}",
                    held.join(", ")
                )));
            }
            for t in tables.iter().rev() {
                sqlx::query(&format!("DELETE FROM {}", quote(&t.name)))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok(Load { tx, tables })
    }
}

/// Rows per INSERT statement: fewer round trips, under both databases' limits on parameters.
const ROWS_PER_INSERT: usize = 200;

impl Load {
    /// The target's tables, to check a dump against before loading it.
    pub fn tables(&self) -> &[TableSchema] {
        &self.tables
    }

    /// Inserts rows of `table` (cells in the order of `table.columns`).
    pub async fn insert(&mut self, table: &TableSchema, rows: &[Vec<Cell>]) -> StoreResult<()> {
        let target = self
            .tables
            .iter()
            .find(|t| t.name == table.name)
            .ok_or_else(|| StoreError::Unsupported(format!("table {} is not in this database", table.name)))?;
        for c in &table.columns {
            if !target.columns.iter().any(|t| t.name == c.name) {
                return Err(StoreError::Unsupported(format!(
                    "column {}.{} is not in this database",
                    table.name, c.name
                )));
            }
        }
        let cols: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
        for batch in rows.chunks(ROWS_PER_INSERT) {
            let mut sql = format!("INSERT INTO {} ({}) VALUES ", quote(&table.name), cols.join(", "));
            let mut n = 0;
            for (r, row) in batch.iter().enumerate() {
                if row.len() != table.columns.len() {
                    return Err(StoreError::Corrupt(format!(
                        "a row of {} has {} values for {} columns",
                        table.name,
                        row.len(),
                        table.columns.len()
                    )));
                }
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for c in 0..row.len() {
                    n += 1;
                    sql.push_str(&format!("{}${n}", if c == 0 { "" } else { ", " }));
                }
                sql.push(')');
            }
            let mut q = sqlx::query(&sql);
            for row in batch {
                for (value, column) in row.iter().zip(&table.columns) {
                    q = bind(q, value, column, &table.name)?;
                }
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Sets PostgreSQL's id sequences past the loaded ids, and commits.
    pub async fn finish(mut self) -> StoreResult<()> {
        if self.tx.backend() == Backend::Postgres {
            for t in &self.tables {
                if t.columns.iter().any(|c| c.name == "id" && c.integer) {
                    let table = quote(&t.name);
                    let sql = format!(
                        "SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false) \
                         WHERE pg_get_serial_sequence('{name}', 'id') IS NOT NULL",
                        name = t.name.replace('\'', "''")
                    );
                    sqlx::query(&sql).execute(&mut *self.tx).await?;
                }
            }
        }
        self.tx.commit().await?;
        Ok(())
    }
}

fn bind<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    value: &Cell,
    column: &ColumnSchema,
    table: &str,
) -> StoreResult<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>> {
    let wrong = || {
        StoreError::Corrupt(format!(
            "{table}.{} holds {value} where {} was expected",
            column.name,
            if column.integer { "an integer" } else { "text" }
        ))
    };
    Ok(match (value, column.integer) {
        (Cell::Null, true) => q.bind(None::<i64>),
        (Cell::Null, false) => q.bind(None::<String>),
        (Cell::Number(n), true) => q.bind(n.as_i64().ok_or_else(wrong)?),
        (Cell::String(s), false) => q.bind(s.clone()),
        // SQLite may hold an integer in a text column; PostgreSQL takes it as text.
        (Cell::Number(n), false) => q.bind(n.to_string()),
        _ => return Err(wrong()),
    })
}
