//! Rows chosen by a condition: a walk forward by primary key, for bulk operations `..._where`
//! and purges, each range run by the operation's step.

use sea_orm::sea_query::ValueTuple;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use super::engine::{BatchSource, Done, Split};
use crate::change::Verdict;
use crate::entity::SoftDelete;
use crate::sql::{
    count, count_where, integer, key_at_start, keyset_bound, keyset_last, split_point, up_to,
};
use crate::step::{Interrupt, Ran, Step, Target};

/// The keys from `first` to `last`, when the key is one integer column.
fn integer_span(first: &ValueTuple, last: &ValueTuple) -> Option<u64> {
    match (first, last) {
        (ValueTuple::One(a), ValueTuple::One(b)) => {
            u64::try_from(integer(b)? - integer(a)? + 1).ok()
        }
        _ => None,
    }
}

/// Batches of rows chosen by a condition, walked forward by primary key.
pub(crate) struct KeysetSource<E> {
    step: Step<E>,
    batch_size: super::BatchSize,
    backend: DbBackend,
    cursor: Option<ValueTuple>,
    /// The bound the last batch ran to: what a check of that batch's range needs.
    last_bound: Option<ValueTuple>,
    done: bool,
}

impl<E: SoftDelete> KeysetSource<E> {
    /// Walks the rows the step's condition selects (the step adds its own guard: active rows
    /// for a soft delete, deleted rows for a restore).
    pub(crate) fn new(step: Step<E>, batch_size: super::BatchSize, backend: DbBackend) -> Self {
        KeysetSource {
            step,
            batch_size,
            backend,
            cursor: None,
            last_bound: None,
            done: false,
        }
    }

    /// This walk's part `start < key <= end` (an open end when `None`): the cursor starts at
    /// `start`, and the step's rows are at or below `end`.
    fn narrowed(&self, start: Option<&ValueTuple>, end: Option<&ValueTuple>) -> Self {
        let step = match end {
            Some(end) => self.step.narrowed(up_to::<E>(end)),
            None => self.step.clone(),
        };
        KeysetSource {
            step,
            batch_size: self.batch_size.clone(),
            backend: self.backend,
            cursor: start.cloned(),
            last_bound: None,
            done: false,
        }
    }

    /// Phase one: the key of the batch's last row, or `None` when fewer rows than a batch are
    /// left.
    async fn bound<C: ConnectionTrait>(
        &self,
        conn: &C,
        cursor: Option<&ValueTuple>,
    ) -> Result<Option<ValueTuple>, DbErr> {
        match conn.query_one_raw(self.bound_statement(cursor)).await? {
            Some(row) => Ok(Some(key_at_start::<E>(&row)?)),
            None => Ok(None),
        }
    }

    /// The statement of phase one.
    fn bound_statement(&self, cursor: Option<&ValueTuple>) -> Statement {
        let query = keyset_bound::<E>(self.step.condition(), cursor, self.batch_size.get());
        self.backend.build(&query)
    }
}

impl<E: SoftDelete> BatchSource for KeysetSource<E> {
    type Unit = Option<ValueTuple>;
    type Next = Option<ValueTuple>;
    const SPLIT: Split = Split::Reads;

    fn total(&self) -> Option<u64> {
        None
    }

    async fn next_unit(&mut self) -> Option<Option<ValueTuple>> {
        (!self.done).then(|| self.cursor.clone())
    }

    async fn execute<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        cursor: &Option<ValueTuple>,
    ) -> Result<Done<Option<ValueTuple>>, Interrupt> {
        let cursor = cursor.as_ref();
        let bound = self.bound(conn, cursor).await?;
        self.last_bound = bound.clone();
        let ran = self
            .step
            .run(
                conn,
                Target::Range {
                    cursor,
                    bound: bound.as_ref(),
                },
            )
            .await?;
        Ok(Done {
            processed: ran.affected,
            ran,
            next: bound,
        })
    }

    async fn preview<C: ConnectionTrait>(&mut self, conn: &C) -> Result<Vec<Statement>, DbErr> {
        let cursor = self.cursor.clone();
        let bound = self.bound(conn, cursor.as_ref()).await?;
        let mut statements = vec![self.bound_statement(cursor.as_ref())];
        statements.extend(
            self.step
                .preview(
                    conn,
                    Target::Range {
                        cursor: cursor.as_ref(),
                        bound: bound.as_ref(),
                    },
                )
                .await?,
        );
        Ok(statements)
    }

    async fn verify<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        cursor: &Option<ValueTuple>,
        ran: &Ran,
    ) -> Result<Verdict, DbErr> {
        // The range the batch ran on: its bound was read by the batch itself.
        let bound = self.last_bound.clone();
        self.step
            .verify(
                conn,
                Target::Range {
                    cursor: cursor.as_ref(),
                    bound: bound.as_ref(),
                },
                ran,
            )
            .await
    }

    fn advance(&mut self, next: Option<ValueTuple>) {
        match next {
            Some(bound) => self.cursor = Some(bound),
            None => self.done = true,
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    async fn remaining<C: ConnectionTrait>(
        &self,
        conn: &C,
        _processed: u64,
    ) -> Result<Option<u64>, DbErr> {
        let condition = self.step.remaining(self.cursor.as_ref());
        count(conn, &count_where::<E>(&condition)).await.map(Some)
    }

    /// Splits the walk's key range into `workers` parts (each at least a batch), before
    /// anything is written. An integer key's range is cut evenly between the first and the
    /// last key the walk would visit (two reads at the index's ends); any other key's by
    /// counting the rows the walk visits and reading the key at each part's end
    /// (`ORDER BY key LIMIT 1 OFFSET n`), which costs a scan. Each part is the same walk, its
    /// rows also at or below its end key and its cursor at the end of the part before. Rows
    /// that come to match after the split are walked by the part whose range holds their key.
    async fn split<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        workers: usize,
    ) -> Result<Vec<Self>, DbErr> {
        let batch = self.batch_size.get().max(1) as u64;
        let condition = self.step.condition();
        let cursor = self.cursor.as_ref();
        let first = conn
            .query_one_raw(self.backend.build(&keyset_bound::<E>(condition, cursor, 1)))
            .await?;
        let last = conn
            .query_one_raw(self.backend.build(&keyset_last::<E>(condition, cursor)))
            .await?;
        let (Some(first), Some(last)) = (first, last) else {
            // Nothing to walk.
            return Ok(Vec::new());
        };
        let (first, last) = (key_at_start::<E>(&first)?, key_at_start::<E>(&last)?);
        let ends: Vec<ValueTuple> = match integer_span(&first, &last) {
            Some(span) => {
                let parts = (workers as u64).min(span / batch).max(1);
                (1..parts)
                    .filter_map(|part| split_point(&first, &last, part, parts))
                    .collect()
            }
            None => {
                // The rows the walk visits (its batches are that many of them), not only those
                // it changes.
                let visited = crate::sql::remaining::<E>(condition, cursor);
                let rows = count(conn, &count_where::<E>(&visited)).await?;
                let parts = (workers as u64).min(rows / batch).max(1);
                let mut ends = Vec::new();
                for part in 1..parts {
                    let offset = (rows * part / parts) as usize;
                    let query = keyset_bound::<E>(condition, cursor, offset);
                    if let Some(row) = conn.query_one_raw(self.backend.build(&query)).await? {
                        ends.push(key_at_start::<E>(&row)?);
                    }
                }
                ends
            }
        };
        let mut others = Vec::with_capacity(ends.len());
        for (at, start) in ends.iter().enumerate() {
            others.push(self.narrowed(Some(start), ends.get(at + 1)));
        }
        if let Some(first_end) = ends.first() {
            let cursor = self.cursor.clone();
            *self = self.narrowed(cursor.as_ref(), Some(first_end));
        }
        Ok(others)
    }
}
