//! New rows: bulk insert and bulk create, batch by batch through the engine.
//!
//! Each batch is split into multi-row `INSERT`s under the backend's bind limit. `bulk_create`
//! returns the created models in input order:
//!
//! * PostgreSQL and SQLite: `INSERT … RETURNING`.
//! * MySQL/MariaDB, which have no `INSERT … RETURNING`: rows that carry their keys are read
//!   back by key after the insert; rows that leave an auto-increment key to the database are
//!   inserted by one multi-row `INSERT` (a "simple insert", whose keys InnoDB allocates
//!   consecutively in every `innodb_autoinc_lock_mode`), and read back as `LAST_INSERT_ID()`,
//!   `LAST_INSERT_ID() + @@auto_increment_increment`, … (one key range when the increment is
//!   1); the count read back is checked, and a mismatch fails the batch. Rows that mix both are
//!   inserted one by one.

use std::collections::HashMap;
use std::pin::Pin;

use futures::{Stream, StreamExt};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Value, ValueTuple};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, IntoActiveModel,
    Iterable, ModelTrait, PrimaryKeyTrait, QueryFilter, QueryTrait, TryIntoModel,
};

use super::engine::{BatchSource, Done, Plan};
use crate::change::{Verdict, insert_defaults, model_defaults, stamp_insert};
use crate::entity::{self, SoftDelete};
use crate::sql::insert::{InsertSql, RowInsert, RowValues};
use crate::sql::rows::ModelRows;
use crate::sql::{Table, count, count_keys, key_columns, key_condition, rows_per_statement};
use crate::step::{Interrupt, Ran};
use crate::time::now;

type ModelOf<E> = <E as EntityTrait>::Model;
type ActiveModelOf<E> = <E as EntityTrait>::ActiveModel;

/// Batches of rows to insert.
pub(crate) struct InsertSource<E: EntityTrait, S> {
    /// The rows to come, read up to one batch ahead.
    feed: Feed<ActiveModelOf<E>, S>,
    /// The values of the next batch's statements, taken beside the batch before it.
    drafted: Option<Draft>,
    batch_size: super::BatchSize,
    /// How rows are written.
    shape: Shape<E>,
    /// What writes them.
    writer: Writer<E>,
    pub(crate) collected: Vec<ModelOf<E>>,
}

/// One batch: its rows, kept until it commits for a retry, and the values of its statements
/// when they were taken ahead (used by the first attempt).
pub(crate) struct InsertBatch<R> {
    rows: Vec<R>,
    draft: std::sync::Mutex<Option<Draft>>,
}

/// The values of a batch's statements, one per chunk (`None` where SeaORM builds it), taken
/// from the first `rows` rows ahead.
struct Draft {
    rows: usize,
    chunks: Vec<Option<RowValues>>,
}

/// The input stream of rows, with the rows already taken from it but not yet in a batch.
///
/// While a batch runs on the server, the rows of the next one are read from the stream
/// ([`Feed::fill`]), so that producing them (the caller's work) overlaps the database's instead
/// of adding to it; at most one batch (and one row) is held ahead. The next batch's rows are
/// gathered in the vector that becomes the batch, so taking it moves no row.
struct Feed<R, S> {
    rows: Pin<Box<S>>,
    /// The next batch's rows, in order.
    next: Vec<R>,
    /// The row after them, read to learn whether the stream has ended.
    peeked: Option<R>,
    /// True once the stream has ended.
    exhausted: bool,
    /// The rows of the last committed batch, dropped beside the next batch rather than between
    /// two (or here, when the next batch was done before that could start).
    spent: Option<Vec<R>>,
}

impl<R, S: Stream<Item = R>> Feed<R, S> {
    /// Reads from the stream until the next batch has `size` rows and the row after them is
    /// read, or the stream ends, yielding to the executor every so often so that the batch
    /// running beside it is noticed when it is done.
    async fn fill(&mut self, size: usize) {
        // Room for the whole batch at once: no copies as it grows, no freed halves left behind.
        self.next
            .reserve_exact(size.min(MAX_RESERVED).saturating_sub(self.next.len()));
        let mut read = 0usize;
        loop {
            if self.next.len() < size {
                if let Some(row) = self.peeked.take() {
                    self.next.push(row);
                    continue;
                }
            } else if self.peeked.is_some() {
                break;
            }
            if self.exhausted {
                break;
            }
            match self.rows.next().await {
                Some(row) if self.next.len() < size => self.next.push(row),
                Some(row) => self.peeked = Some(row),
                None => self.exhausted = true,
            }
            read += 1;
            if read.is_multiple_of(FILL_YIELD_EVERY) {
                YieldNow(false).await;
            }
        }
    }

    /// The next batch: up to `size` rows (with the one after them read, when there is one, so
    /// that whether this batch is the last is known now).
    async fn take(&mut self, size: usize) -> Vec<R> {
        self.fill(size).await;
        if self.next.len() > size {
            // The batch size fell since the rows were read: the rest opens the next batch.
            let rest = self.next.split_off(size);
            return std::mem::replace(&mut self.next, rest);
        }
        std::mem::take(&mut self.next)
    }

    /// The rows of the next batch, as far as they are read.
    fn next_rows(&self) -> &[R] {
        &self.next
    }

    /// Rows read and not yet in a batch.
    fn held(&self) -> usize {
        self.next.len() + usize::from(self.peeked.is_some())
    }

    fn is_done(&self) -> bool {
        self.exhausted && self.next.is_empty() && self.peeked.is_none()
    }
}

/// The most rows a batch reserves room for before it reads them.
const MAX_RESERVED: usize = 65_536;

/// Rows read from the stream between two looks at the batch running beside the read.
const FILL_YIELD_EVERY: usize = 256;

/// Returns `Pending` once, waking itself: lets the executor poll the other futures of the task.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// Runs `work`, and `beside` while `work` waits, returning as soon as `work` is done (what
/// `beside` did so far is kept by it; it is never waited for).
async fn while_running<T>(work: impl Future<Output = T>, beside: impl Future<Output = ()>) -> T {
    let work = std::pin::pin!(work);
    let beside = std::pin::pin!(beside);
    match futures::future::select(work, beside).await {
        futures::future::Either::Left((out, _)) => out,
        futures::future::Either::Right(((), work)) => work.await,
    }
}

/// How an entity's rows are written: what every batch of the operation shares.
struct Shape<E: EntityTrait> {
    /// The most rows one `INSERT` can carry under the backend's bind limit.
    rows_per_statement: usize,
    backend: DbBackend,
    /// The audit values every row gets where it leaves them unset.
    defaults: Vec<(E::Column, Value)>,
    returning: bool,
    insert: RowInsert,
}

impl<E: EntityTrait> Shape<E> {
    /// The values of the statements for `rows`, chunk by chunk.
    fn draft(&self, rows: &[ActiveModelOf<E>]) -> Draft {
        Draft {
            rows: rows.len(),
            chunks: rows
                .chunks(self.rows_per_statement)
                .map(|chunk| self.insert.values::<E>(chunk, &self.defaults))
                .collect(),
        }
    }
}

/// Writes batches of rows: makes their statements and reads the rows back when wanted.
struct Writer<E: EntityTrait> {
    sql: InsertSql,
    /// Reads the models of the rows inserted back.
    rows_read: ModelRows<E>,
    /// `@@auto_increment_increment`, read once, on MySQL/MariaDB.
    increment: Option<i128>,
    /// The keys of the rows the last batch inserted, when it read them back: what a check of a
    /// lost `COMMIT` looks for.
    last_keys: Option<Vec<ValueTuple>>,
}

impl<E: SoftDelete, S: Stream<Item = ActiveModelOf<E>>> InsertSource<E, S>
where
    E::ActiveModel: TryIntoModel<E::Model>,
{
    pub(crate) fn new(
        rows: S,
        plan: &Plan<'_>,
        backend: DbBackend,
        by: Option<String>,
        returning: bool,
    ) -> Self {
        let columns = <E::Column as Iterable>::iter().count().max(1);
        // Room for every model the input says it holds, as `collect` makes: the vector is not
        // copied as it grows (a model per row inserted, kept to the end).
        let collected = match returning {
            true => Vec::with_capacity(rows.size_hint().0),
            false => Vec::new(),
        };
        InsertSource {
            feed: Feed {
                rows: Box::pin(rows),
                next: Vec::new(),
                peeked: None,
                exhausted: false,
                spent: None,
            },
            drafted: None,
            batch_size: plan.batch_size.clone(),
            shape: Shape {
                rows_per_statement: rows_per_statement(backend, 0, columns, usize::MAX),
                backend,
                defaults: model_defaults::<ActiveModelOf<E>>(insert_defaults(
                    &entity::columns::<E>(),
                    now(),
                    by.as_deref(),
                )),
                returning,
                insert: RowInsert::new::<E>(backend, returning),
            },
            writer: Writer {
                sql: InsertSql::default(),
                rows_read: ModelRows::new(),
                increment: None,
                last_keys: None,
            },
            collected,
        }
    }
}

impl<E: SoftDelete> Writer<E>
where
    E::ActiveModel: TryIntoModel<E::Model>,
{
    /// The `INSERT` for one chunk, and whether it returns the rows: hand-built where it can be
    /// (from `drafted`, its values taken ahead, when there are), otherwise SeaORM's (which adds
    /// the casts some column types need).
    fn statement(
        &mut self,
        shape: &Shape<E>,
        chunk: &[ActiveModelOf<E>],
        drafted: Option<RowValues>,
    ) -> std::result::Result<(sea_orm::Statement, bool), DbErr> {
        if let Some(values) = drafted.or_else(|| shape.insert.values::<E>(chunk, &shape.defaults)) {
            let statement = self.sql.statement(&shape.insert, values);
            return Ok((statement, shape.insert.returns_rows()));
        }
        let mut rows = chunk.to_vec();
        for row in &mut rows {
            stamp_insert(row, &shape.defaults)?;
        }
        null_where_unset::<E>(&mut rows);
        let mut query = E::insert_many(rows).into_query();
        let returns = shape.returning && shape.backend != DbBackend::MySql;
        if returns {
            query.returning(
                sea_orm::sea_query::Query::returning().exprs(
                    <E::Column as Iterable>::iter()
                        .map(|c| c.select_as(c.into_returning_expr(shape.backend))),
                ),
            );
        }
        Ok((shape.backend.build(&query), returns))
    }
}

/// Sets NULL in every row that leaves unset a column another row of the statement sets, which is
/// what a multi-row `INSERT` writes there anyway. SeaORM's `insert_many` writes that NULL without
/// the column's cast, which PostgreSQL refuses for a native enum ("column is of type … but
/// expression is of type text"); set, it goes through the cast like every other value.
fn null_where_unset<E: EntityTrait>(rows: &mut [ActiveModelOf<E>]) {
    for column in <E::Column as Iterable>::iter() {
        // `is_not_set` looks without copying the value, as `get` would.
        let Some(set) = rows.iter().find(|row| !row.is_not_set(column)) else {
            continue;
        };
        let Some(null) = set.get(column).into_value().map(|value| value.as_null()) else {
            continue;
        };
        for row in rows.iter_mut().filter(|row| row.is_not_set(column)) {
            row.set(column, null.clone());
        }
    }
}

impl<E, S> BatchSource for InsertSource<E, S>
where
    E: SoftDelete,
    E::ActiveModel: Send + Sync,
    E::ActiveModel: TryIntoModel<E::Model>,
    E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
    S: Stream<Item = ActiveModelOf<E>> + Send,
{
    type Unit = InsertBatch<ActiveModelOf<E>>;
    type Next = (Vec<ModelOf<E>>, Option<i128>);

    fn total(&self) -> Option<u64> {
        match self.feed.rows.size_hint() {
            (lower, Some(upper)) if lower == upper => Some((lower + self.feed.held()) as u64),
            _ => None,
        }
    }

    async fn next_unit(&mut self) -> Option<InsertBatch<ActiveModelOf<E>>> {
        let rows = self.feed.take(self.batch_size.get()).await;
        // The values taken ahead are this batch's when they were taken from as many rows: the
        // rows read ahead only ever leave from the front.
        let draft = self.drafted.take().filter(|draft| draft.rows == rows.len());
        (!rows.is_empty()).then(|| InsertBatch {
            rows,
            draft: std::sync::Mutex::new(draft),
        })
    }

    async fn execute<T: ConnectionTrait>(
        &mut self,
        conn: &T,
        unit: &InsertBatch<ActiveModelOf<E>>,
    ) -> Result<Done<Self::Next>, Interrupt> {
        // While this batch runs on the server, the next one's rows are read from the stream and
        // its statements' values taken, so that neither adds to the batches' time.
        let size = self.batch_size.get();
        let shape = &self.shape;
        let feed = &mut self.feed;
        let drafted = &mut self.drafted;
        let ahead = async move {
            feed.spent = None;
            feed.fill(size).await;
            let rows = feed.next_rows();
            if rows.len() >= size || feed.exhausted {
                *drafted = Some(shape.draft(&rows[..size.min(rows.len())]));
            }
        };
        while_running(self.writer.run(shape, conn, unit), ahead).await
    }

    async fn preview<T: ConnectionTrait>(
        &mut self,
        _conn: &T,
    ) -> std::result::Result<Vec<sea_orm::Statement>, DbErr> {
        let Some(unit) = self.next_unit().await else {
            return Ok(Vec::new());
        };
        let chunk = &unit.rows[..unit.rows.len().min(self.shape.rows_per_statement)];
        Ok(vec![self.writer.statement(&self.shape, chunk, None)?.0])
    }

    async fn verify<T: ConnectionTrait>(
        &mut self,
        conn: &T,
        _unit: &InsertBatch<ActiveModelOf<E>>,
        ran: &Ran,
    ) -> std::result::Result<Verdict, DbErr> {
        // Only inserts that read their rows back know their keys.
        let Some(keys) = &self.writer.last_keys else {
            return Ok(Verdict::Unknown);
        };
        let mut found = 0;
        for query in count_keys::<E>(conn.get_database_backend(), keys, &Condition::all()) {
            found += count(conn, &query).await?;
        }
        Ok(if found == ran.affected {
            Verdict::Committed
        } else if found == 0 {
            Verdict::RolledBack
        } else {
            Verdict::Unknown
        })
    }

    fn advance(&mut self, (models, increment): Self::Next) {
        self.collected.extend(models);
        self.writer.increment = increment;
    }

    fn recycle(&mut self, unit: InsertBatch<ActiveModelOf<E>>) {
        // Dropped beside the next batch (see `execute`).
        self.feed.spent = Some(unit.rows);
    }

    fn is_done(&self) -> bool {
        self.feed.is_done()
    }

    fn remaining<'a, T: ConnectionTrait>(
        &'a self,
        _conn: &'a T,
        _processed: u64,
    ) -> impl Future<Output = std::result::Result<Option<u64>, DbErr>> + Send + 'a {
        std::future::ready(Ok(None))
    }
}

impl<E> Writer<E>
where
    E: SoftDelete,
    E::ActiveModel: Send + Sync,
    E::ActiveModel: TryIntoModel<E::Model>,
    E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
{
    /// Inserts `unit` on `conn` (a transaction), in as many `INSERT`s as the bind limit needs.
    /// Leaves what the next call does unchanged but for the keys a lost `COMMIT` is checked by.
    async fn run<T: ConnectionTrait>(
        &mut self,
        shape: &Shape<E>,
        conn: &T,
        unit: &InsertBatch<ActiveModelOf<E>>,
    ) -> Result<Done<(Vec<ModelOf<E>>, Option<i128>)>, Interrupt> {
        let mut models = Vec::new();
        let mut increment = self.increment;
        // The values taken ahead serve the first attempt; a retry takes them from the rows.
        let mut draft = unit
            .draft
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .map(|draft| draft.chunks.into_iter());
        for chunk in unit.rows.chunks(shape.rows_per_statement) {
            let drafted = draft.as_mut().and_then(Iterator::next).flatten();
            let keys: Vec<Option<ValueTuple>> = if shape.returning {
                chunk
                    .iter()
                    .map(|row| row.get_primary_key_value())
                    .collect()
            } else {
                Vec::new()
            };
            let mixed_keys = keys.iter().any(Option::is_some) && keys.iter().any(Option::is_none);
            if shape.returning && shape.backend == DbBackend::MySql && mixed_keys {
                // No single multi-row INSERT can be read back: one at a time.
                for row in chunk {
                    let mut row = row.clone();
                    stamp_insert(&mut row, &shape.defaults)?;
                    models.push(E::insert(row).exec_with_returning(conn).await?);
                }
                continue;
            }
            let (statement, returns_rows) = self.statement(shape, chunk, drafted)?;
            if !shape.returning {
                conn.execute_raw(statement).await?;
            } else if returns_rows {
                let returned = self.rows_read.read(&conn.query_all_raw(statement).await?)?;
                models.extend(in_input_order::<E>(&keys, returned)?);
            } else {
                let done = conn.execute_raw(statement).await?;
                models.extend(
                    read_back::<E, T>(
                        conn,
                        &mut self.rows_read,
                        &keys,
                        done.last_insert_id(),
                        &mut increment,
                    )
                    .await?,
                );
            }
        }
        self.last_keys = shape.returning.then(|| {
            models
                .iter()
                .map(|model: &ModelOf<E>| model.get_primary_key_value())
                .collect()
        });
        Ok(Done {
            ran: Ran {
                affected: unit.rows.len() as u64,
                ..Ran::default()
            },
            processed: unit.rows.len() as u64,
            next: (models, increment),
        })
    }
}

/// The models `INSERT … RETURNING` gave, put in the order of the rows inserted: rows that named
/// their key get the model with that key; the rest get the remaining models in ascending key
/// order, which is the order the database allocated their keys in.
fn in_input_order<E: EntityTrait>(
    keys: &[Option<ValueTuple>],
    returned: Vec<ModelOf<E>>,
) -> std::result::Result<Vec<ModelOf<E>>, DbErr> {
    if returned.len() != keys.len() {
        return Err(DbErr::Custom(format!(
            "INSERT … RETURNING gave {} rows for {} inserted",
            returned.len(),
            keys.len()
        )));
    }
    if keys.iter().all(Option::is_none) {
        let mut models = returned;
        in_key_order::<E>(&mut models);
        return Ok(models);
    }
    let mut slots: Vec<Option<ModelOf<E>>> = (0..keys.len()).map(|_| None).collect();
    let positions: HashMap<&ValueTuple, usize> = keys
        .iter()
        .enumerate()
        .filter_map(|(i, key)| key.as_ref().map(|k| (k, i)))
        .collect();
    let mut generated = Vec::new();
    for model in returned {
        match positions.get(&model.get_primary_key_value()) {
            Some(&i) if slots[i].is_none() => slots[i] = Some(model),
            _ => generated.push(model),
        }
    }
    in_key_order::<E>(&mut generated);
    let mut generated = generated.into_iter();
    for (slot, key) in slots.iter_mut().zip(keys) {
        if key.is_none() {
            *slot = generated.next();
        }
    }
    slots
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| DbErr::Custom("INSERT … RETURNING gave rows that match no input".to_owned()))
}

/// Puts `models` in ascending key order. They mostly come so already (the order the rows were
/// inserted in), which is checked first; each key is read once either way.
fn in_key_order<E: EntityTrait>(models: &mut [ModelOf<E>]) {
    let key = |m: &ModelOf<E>| integer_key(&m.get_primary_key_value());
    if !models.iter().map(key).is_sorted() {
        models.sort_by_cached_key(key);
    }
}

/// A single integer key, for ordering generated keys; `None` sorts first.
fn integer_key(key: &ValueTuple) -> Option<i128> {
    match key {
        ValueTuple::One(value) => crate::sql::integer(value),
        _ => None,
    }
}

/// MySQL/MariaDB, after a multi-row `INSERT` without `RETURNING`: read the rows back (see the
/// module docs), by their given keys or from the first generated key on.
async fn read_back<E, C>(
    conn: &C,
    rows_read: &mut ModelRows<E>,
    keys: &[Option<ValueTuple>],
    first_generated: u64,
    increment: &mut Option<i128>,
) -> std::result::Result<Vec<ModelOf<E>>, DbErr>
where
    E: SoftDelete,
    E::ActiveModel: TryIntoModel<E::Model>,
    C: ConnectionTrait,
{
    let count = keys.len();
    if count == 0 {
        return Ok(Vec::new());
    }
    if keys.iter().all(Option::is_some) {
        let matching = keys.iter().flatten().fold(Condition::any(), |any, key| {
            any.add(key_condition::<E>(key.clone()))
        });
        let found = select(conn, rows_read, E::find().filter(matching)).await?;
        return in_input_order::<E>(keys, found);
    }
    let single_auto_key = <E::PrimaryKey as PrimaryKeyTrait>::auto_increment()
        && <E::PrimaryKey as Iterable>::iter().count() == 1;
    if !single_auto_key {
        return Err(DbErr::Custom(format!(
            "cannot read back rows inserted into `{}` without their keys: the key is not a \
             single auto-increment column",
            Table::of::<E>()
        )));
    }
    let step = match *increment {
        Some(step) => step,
        None => {
            let row = conn
                .query_one_raw(sea_orm::Statement::from_string(
                    DbBackend::MySql,
                    "SELECT @@auto_increment_increment",
                ))
                .await?
                .ok_or_else(|| DbErr::Custom("no @@auto_increment_increment".to_owned()))?;
            // BIGINT UNSIGNED on MariaDB and MySQL.
            let step = i128::from(row.try_get_by_index::<u64>(0)?);
            *increment = Some(step);
            step
        }
    };
    let first = i128::from(first_generated);
    let key_at = |i: usize| {
        i64::try_from(first + i as i128 * step)
            .map_err(|_| DbErr::Custom("generated keys out of range".to_owned()))
    };
    let key = Expr::col(key_columns::<E>()[0]);
    // One step apart, the keys are every key from the first to the last: a range, which the
    // server reads as one (the same rows as the list of them).
    let keys = match step {
        1 => key.between(key_at(0)?, key_at(count - 1)?),
        _ => key.is_in(
            (0..count)
                .map(key_at)
                .collect::<std::result::Result<Vec<_>, _>>()?,
        ),
    };
    let mut found = select(conn, rows_read, E::find().filter(keys)).await?;
    if found.len() != count {
        return Err(DbErr::Custom(format!(
            "read back {} of {count} inserted rows by their generated keys; the keys were not \
             allocated as one run",
            found.len()
        )));
    }
    in_key_order::<E>(&mut found);
    Ok(found)
}

/// The models `query` selects, read by position.
async fn select<E, C>(
    conn: &C,
    rows_read: &mut ModelRows<E>,
    query: sea_orm::Select<E>,
) -> std::result::Result<Vec<ModelOf<E>>, DbErr>
where
    E: EntityTrait,
    E::ActiveModel: TryIntoModel<E::Model>,
    C: ConnectionTrait,
{
    let statement = conn.get_database_backend().build(&query.into_query());
    rows_read.read(&conn.query_all_raw(statement).await?)
}
