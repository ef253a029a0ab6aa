//! Rows named by key: batches of keys taken lazily from a stream, for bulk soft delete and
//! restore.

use std::future::Future;

use futures::{Stream, StreamExt};
use sea_orm::sea_query::{IntoValueTuple, ValueTuple};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, PrimaryKeyTrait, Statement};

use super::engine::{BatchSource, Outcome, Plan, Verified, count};
use super::sql::{self, KeyedUpdate};
use crate::entity::{Change, SoftDelete};
use crate::hooks::Returning;

/// The most keys a batch reserves room for up front; larger batches grow as keys arrive.
const PREALLOCATE: usize = 1 << 16;

/// Keys per statement of a hook's `SELECT … FOR UPDATE` of the batch's rows.
const TARGET_KEYS: usize = 1000;

/// Batches of ids from a stream: bulk soft delete and restore of rows named by key.
pub(crate) struct IdSource<E, S> {
    ids: std::pin::Pin<Box<S>>,
    batch_size: super::BatchSize,
    update: KeyedUpdate,
    change: Change,
    returning: Returning,
    /// Whether the operation's batches share one transaction.
    atomic: bool,
    /// What marks the rows this change writes (see `Change::mark`).
    mark: Option<crate::entity::Mark>,
    /// Set when a batch must run again reading its rows first (see `hooks::RERUN`).
    read_first: std::sync::atomic::AtomicBool,
    total: Option<u64>,
    _entity: std::marker::PhantomData<fn() -> E>,
}

impl<E, S, T> IdSource<E, S>
where
    E: SoftDelete,
    S: Stream<Item = T> + Send,
    T: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    pub(crate) fn new(ids: S, plan: &Plan<'_>, backend: DbBackend, change: &Change) -> Self {
        let total = match ids.size_hint() {
            (lower, Some(upper)) if lower == upper => Some(lower as u64),
            _ => None,
        };
        // Keys named up front: the keys changed are known without RETURNING.
        let returning = match crate::hooks::Known::applies::<E>() {
            true => Returning::Nothing,
            false => Returning::of::<E>(backend),
        };
        let mut update =
            KeyedUpdate::new::<E>(backend, change, plan.config.enable_query_optimization);
        update.returning(returning.clause::<E>(backend));
        IdSource {
            ids: Box::pin(ids),
            batch_size: plan.batch_size.clone(),
            update,
            change: change.clone(),
            returning,
            atomic: plan.atomic,
            mark: change.mark::<E>(),
            read_first: std::sync::atomic::AtomicBool::new(false),
            total,
            _entity: std::marker::PhantomData,
        }
    }
}

impl<E, S, T> BatchSource for IdSource<E, S>
where
    E: SoftDelete,
    S: Stream<Item = T> + Send,
    T: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    type Unit = Vec<ValueTuple>;
    type Next = ();

    fn total(&self) -> Option<u64> {
        self.total
    }

    async fn next_unit(&mut self) -> Option<Vec<ValueTuple>> {
        let size = self.batch_size.get();
        let mut unit = Vec::with_capacity(size.min(PREALLOCATE));
        while unit.len() < size {
            match self.ids.next().await {
                Some(id) => unit.push(id.into().into_value_tuple()),
                None => break,
            }
        }
        (!unit.is_empty()).then_some(unit)
    }

    fn execute<'a, C: ConnectionTrait>(
        &'a mut self,
        conn: &'a C,
        unit: &'a Vec<ValueTuple>,
    ) -> impl Future<Output = crate::error::Result<Outcome<()>>> + Send + 'a {
        let statements = self.update.statements(unit);
        let cascade =
            crate::cascade::for_keys::<E>(conn.get_database_backend(), &self.change, unit);
        let first = crate::cascade::cascade_first(&self.change);
        let change = &self.change;
        let returning = self.returning;
        let atomic = self.atomic;
        let mark = self.mark.as_ref();
        let read_first = &self.read_first;
        async move {
            // The batch's rows, in statements below the bind limit, for hooks that lock them.
            let target = || {
                unit.chunks(TARGET_KEYS)
                    .map(|chunk| {
                        crate::cascade::keys_condition::<E>(chunk).add(change.guard::<E>())
                    })
                    .collect()
            };
            let (affected, cascaded) = crate::hooks::run_batch::<E, _>(
                conn,
                &change.hook_context::<E>(),
                target,
                match read_first.swap(false, std::sync::atomic::Ordering::Relaxed) {
                    true => None,
                    false => crate::hooks::Known::of::<E>(unit, atomic, mark),
                },
                first,
                statements,
                returning,
                cascade,
            )
            .await
            .inspect_err(|error| {
                if crate::hooks::is_rerun(error) {
                    read_first.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            })?;
            Ok(Outcome {
                archived: 0,
                affected,
                cascaded,
                processed: unit.len() as u64,
                next: (),
            })
        }
    }

    // Written out, like `execute`: an `async fn` here would need `C: 'a` and `T: 'a` spelled
    // as bounds the trait does not declare.
    #[allow(clippy::manual_async_fn)]
    fn preview<'a, C: ConnectionTrait>(
        &'a mut self,
        conn: &'a C,
    ) -> impl Future<Output = Result<Vec<Statement>, DbErr>> + Send + 'a {
        async move {
            let unit = self.next_unit().await.unwrap_or_default();
            let cascade =
                crate::cascade::for_keys::<E>(conn.get_database_backend(), &self.change, &unit);
            Ok(crate::cascade::in_order(
                crate::cascade::cascade_first(&self.change),
                self.update.statements(&unit),
                cascade,
            ))
        }
    }

    // Written out for the same reason as `preview`.
    #[allow(clippy::manual_async_fn)]
    fn verify<'a, C: ConnectionTrait>(
        &'a mut self,
        conn: &'a C,
        unit: &'a Vec<ValueTuple>,
        outcome: &'a Outcome<()>,
    ) -> impl Future<Output = Result<Verified, DbErr>> + Send + 'a {
        async move {
            let Some(mark) = self.change.mark::<E>() else {
                return Ok(Verified::Unknown);
            };
            let mut found = 0;
            for query in sql::count_keys::<E>(conn.get_database_backend(), unit, &mark.condition) {
                found += count(conn, &query).await?;
            }
            Ok(mark.verdict(found, outcome.affected))
        }
    }

    fn advance(&mut self, _next: ()) {}

    fn is_done(&self) -> bool {
        false
    }

    fn remaining<'a, C: ConnectionTrait>(
        &'a self,
        _conn: &'a C,
        processed: u64,
    ) -> impl Future<Output = Result<Option<u64>, DbErr>> + Send + 'a {
        std::future::ready(Ok(self.total.map(|total| total.saturating_sub(processed))))
    }
}
