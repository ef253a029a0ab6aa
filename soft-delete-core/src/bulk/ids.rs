//! Rows named by key: batches of keys taken lazily from a stream (bulk soft delete and restore),
//! or the one key of a one-record operation.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::{Stream, StreamExt};
use sea_orm::sea_query::{IntoValueTuple, ValueTuple};
use sea_orm::{ConnectionTrait, DbErr, PrimaryKeyTrait, Statement};

use super::engine::{BatchSource, Done, Split};
use crate::change::Verdict;
use crate::entity::SoftDelete;
use crate::step::{Interrupt, Ran, Step, Target};

/// The most keys a batch reserves room for up front; larger batches grow as keys arrive.
const PREALLOCATE: usize = 1 << 16;

/// The stream of keys, shared by the workers: each takes a batch at a time from it, so that
/// no more than a batch per worker is ever held.
struct Feed<S> {
    ids: std::pin::Pin<Box<S>>,
    /// The key after the last batch, taken to learn whether the stream has ended (so that no
    /// pause follows the last batch).
    peeked: Option<ValueTuple>,
    /// True once the stream has ended.
    exhausted: bool,
}

/// Batches of keys from a stream, each run by the operation's step.
pub(crate) struct IdSource<E, S> {
    feed: Arc<futures::lock::Mutex<Feed<S>>>,
    /// True once the feed has handed out its last key, to whichever worker.
    drained: Arc<AtomicBool>,
    batch_size: super::BatchSize,
    step: Step<E>,
    /// The stream's length when known, held by the first part only (see `remaining`).
    total: Option<u64>,
}

impl<E, S, T> IdSource<E, S>
where
    E: SoftDelete,
    S: Stream<Item = T> + Send,
    T: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    pub(crate) fn new(ids: S, batch_size: super::BatchSize, step: Step<E>) -> Self {
        let total = match ids.size_hint() {
            (lower, Some(upper)) if lower == upper => Some(lower as u64),
            _ => None,
        };
        IdSource {
            feed: Arc::new(futures::lock::Mutex::new(Feed {
                ids: Box::pin(ids),
                peeked: None,
                exhausted: false,
            })),
            drained: Arc::new(AtomicBool::new(false)),
            batch_size,
            step,
            total,
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
    const SPLIT: Split = Split::Free;

    fn total(&self) -> Option<u64> {
        self.total
    }

    async fn next_unit(&mut self) -> Option<Vec<ValueTuple>> {
        let size = self.batch_size.get();
        let mut feed = self.feed.lock().await;
        let feed = &mut *feed;
        let mut unit = Vec::with_capacity(size.min(PREALLOCATE));
        unit.extend(feed.peeked.take());
        while unit.len() < size && !feed.exhausted {
            match feed.ids.next().await {
                Some(id) => unit.push(id.into().into_value_tuple()),
                None => feed.exhausted = true,
            }
        }
        // One key more, to know now whether this is the last batch.
        if !feed.exhausted {
            match feed.ids.next().await {
                Some(id) => feed.peeked = Some(id.into().into_value_tuple()),
                None => feed.exhausted = true,
            }
        }
        if feed.exhausted && feed.peeked.is_none() {
            self.drained.store(true, Ordering::SeqCst);
        }
        (!unit.is_empty()).then_some(unit)
    }

    // Written out: an `async fn` here would need `C: 'a` and `T: 'a` spelled as bounds the
    // trait does not declare.
    #[allow(clippy::manual_async_fn)]
    fn execute<'a, C: ConnectionTrait>(
        &'a mut self,
        conn: &'a C,
        unit: &'a Vec<ValueTuple>,
    ) -> impl Future<Output = Result<Done<()>, Interrupt>> + Send + 'a {
        async move {
            let ran = self.step.run(conn, Target::Keys(unit)).await?;
            Ok(Done {
                ran,
                processed: unit.len() as u64,
                next: (),
            })
        }
    }

    // Written out for the same reason as `execute`.
    #[allow(clippy::manual_async_fn)]
    fn preview<'a, C: ConnectionTrait>(
        &'a mut self,
        conn: &'a C,
    ) -> impl Future<Output = Result<Vec<Statement>, DbErr>> + Send + 'a {
        async move {
            let unit = self.next_unit().await.unwrap_or_default();
            self.step.preview(conn, Target::Keys(&unit)).await
        }
    }

    // Written out for the same reason as `execute`.
    #[allow(clippy::manual_async_fn)]
    fn verify<'a, C: ConnectionTrait>(
        &'a mut self,
        conn: &'a C,
        unit: &'a Vec<ValueTuple>,
        ran: &'a Ran,
    ) -> impl Future<Output = Result<Verdict, DbErr>> + Send + 'a {
        async move { self.step.verify(conn, Target::Keys(unit), ran).await }
    }

    fn advance(&mut self, _next: ()) {}

    fn is_done(&self) -> bool {
        self.drained.load(Ordering::SeqCst)
    }

    fn remaining<'a, C: ConnectionTrait>(
        &'a self,
        _conn: &'a C,
        processed: u64,
    ) -> impl Future<Output = Result<Option<u64>, DbErr>> + Send + 'a {
        std::future::ready(Ok(self.total.map(|total| total.saturating_sub(processed))))
    }

    /// Workers that share the stream: each takes the next batch of keys when it is ready for
    /// one. Only this part keeps the stream's length, so that the rows left are counted once.
    fn split<'a, C: ConnectionTrait>(
        &'a mut self,
        _conn: &'a C,
        workers: usize,
    ) -> impl Future<Output = Result<Vec<Self>, DbErr>> + Send + 'a {
        let others = (1..workers)
            .map(|_| IdSource {
                feed: self.feed.clone(),
                drained: self.drained.clone(),
                batch_size: self.batch_size.clone(),
                step: self.step.clone(),
                total: None,
            })
            .collect();
        std::future::ready(Ok(others))
    }
}
