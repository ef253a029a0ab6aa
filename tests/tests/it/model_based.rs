//! Model-based property test: random sequences of soft deletes, restores, purges and inserts on
//! `users`, run against the backend `DATABASE_URL` names and against a plain in-memory model,
//! compared after every step.
//!
//! Each case gets a fresh database (`model_<pid>_<n>`), so on servers every case creates (and,
//! when it ends, drops) a database: keep the case count moderate. `PROPTEST_CASES` overrides the
//! default of 48 cases.
//!
//! Ids stay in `1..=40` (plus a few that never exist) so that operations collide; timestamps
//! are a few seconds apart with sub-second, microsecond-precision offsets that often coincide,
//! so that purge cutoffs land exactly on, just before and just after deletion stamps.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, PaginatorTrait, QueryOrder};
use soft_delete_core::prelude::*;
use soft_delete_tests::TestContext;
use soft_delete_tests::context::{Target, connect};
use soft_delete_tests::entities::user;
use soft_delete_tests::fixtures::insert_users;

/// Ids of rows that may exist; the generators also use a few outside this range.
const MAX_ID: i64 = 40;
/// Default number of cases, unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 48;
/// An operation on at most 40 rows that takes longer than this is stuck.
const OP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// No operation here needs more than 41 batches (at most 40 rows at one per batch, plus the
/// keyset walk's last, empty one); one that runs this many is going round in circles.
const MAX_BATCHES: u64 = 200;

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/// A timestamp: microseconds after [`base`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct T(i64);

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0)
        .single()
        .expect("valid base time")
}

impl T {
    fn time(self) -> DateTime<Utc> {
        base() + chrono::Duration::microseconds(self.0)
    }
}

impl fmt::Debug for T {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// `builder` with the who, why and when an operation of the model asks for.
fn with_stamp<'a, E, C, Src>(
    mut builder: soft_delete_core::bulk::BulkSoftDelete<'a, E, C, Src>,
    by: Option<&str>,
    reason: Option<&str>,
    at: Stamp,
) -> soft_delete_core::bulk::BulkSoftDelete<'a, E, C, Src> {
    if let Some(by) = by {
        builder = builder.deleted_by(by);
    }
    if let Some(reason) = reason {
        builder = builder.reason(reason);
    }
    if let Stamp::At(t) = at {
        builder = builder.at(t.time());
    }
    builder
}

/// The `deleted_at` a soft delete uses.
#[derive(Clone, Copy, Debug)]
enum Stamp {
    /// `.at(t)`.
    At(T),
    /// No `.at`: the library's current time.
    Now,
}

/// The cutoff of a purge.
#[derive(Clone, Copy, Debug)]
enum Cutoff {
    At(T),
    /// A day before every generated stamp: purges nothing.
    Past,
    /// A day from now: after every stamp, including the ones taken from the clock.
    Future,
}

/// A condition for the `*_where` operations and the purge filter.
#[derive(Clone, Debug)]
enum Cond {
    /// `Condition::all()` with nothing in it: every row.
    Everything,
    Between(i64, i64),
    In(Vec<i64>),
    Gt(i64),
    DeletedBy(&'static str),
    DeletedByNull,
    ReasonNotNull,
    /// `Condition::any()` of the parts.
    Any(Vec<Cond>),
    /// `Condition::all()` of the parts.
    All(Vec<Cond>),
    /// `Condition::all().add(part).not()`.
    Not(Box<Cond>),
}

#[derive(Clone, Debug)]
enum Op {
    BulkSoftDelete {
        ids: Vec<i64>,
        batch: usize,
        by: Option<&'static str>,
        reason: Option<&'static str>,
        at: Stamp,
    },
    BulkRestore {
        ids: Vec<i64>,
        batch: usize,
        restored_by: Option<&'static str>,
    },
    SoftDeleteWhere {
        cond: Cond,
        batch: usize,
        by: Option<&'static str>,
        reason: Option<&'static str>,
        at: Stamp,
    },
    RestoreWhere {
        cond: Cond,
        batch: usize,
    },
    Purge {
        cutoff: Cutoff,
        batch: usize,
        dry_run: bool,
        filter: Option<Cond>,
    },
    SoftDeleteOne {
        id: i64,
        by: Option<&'static str>,
        reason: Option<&'static str>,
        at: Stamp,
    },
    RestoreOne {
        id: i64,
        restored_by: Option<&'static str>,
    },
    ForceDeleteOne {
        id: i64,
    },
    /// Inserts the ids among these that are missing (deduplicated, in order).
    Insert {
        ids: Vec<i64>,
    },
}

#[derive(Clone, Debug)]
struct Case {
    /// Ids present (active) before the first operation.
    initial: BTreeSet<i64>,
    ops: Vec<Op>,
}

fn t_strategy() -> impl Strategy<Value = T> {
    let micros = prop_oneof![
        Just(0i64),
        Just(1),
        Just(250_000),
        Just(499_999),
        Just(500_000),
        Just(500_001),
        Just(999_999),
        0i64..1_000_000,
    ];
    (0i64..4, micros).prop_map(|(secs, us)| T(secs * 1_000_000 + us))
}

fn id_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![
        12 => 1..=MAX_ID,
        1 => prop::sample::select(vec![-1i64, 0, MAX_ID + 1, 1_000]),
    ]
}

fn ids_strategy() -> impl Strategy<Value = Vec<i64>> {
    vec(id_strategy(), 0..12)
}

fn batch_strategy() -> impl Strategy<Value = usize> {
    1usize..=7
}

const WHO: [&str; 4] = ["admin", "bot", "", "rené"];

fn who_strategy() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(WHO.to_vec()))
}

fn reason_strategy() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(vec![
        "spam",
        "gdpr",
        "",
        "doublon supprimé",
    ]))
}

fn stamp_strategy() -> impl Strategy<Value = Stamp> {
    prop_oneof![
        5 => t_strategy().prop_map(Stamp::At),
        1 => Just(Stamp::Now),
    ]
}

fn cutoff_strategy() -> impl Strategy<Value = Cutoff> {
    prop_oneof![
        8 => t_strategy().prop_map(Cutoff::At),
        1 => Just(Cutoff::Past),
        1 => Just(Cutoff::Future),
    ]
}

fn cond_strategy() -> impl Strategy<Value = Cond> {
    let bound = 0..=MAX_ID + 1;
    let leaf = prop_oneof![
        4 => (bound.clone(), bound.clone()).prop_map(|(a, b)| Cond::Between(a, b)),
        2 => vec(id_strategy(), 0..6).prop_map(Cond::In),
        2 => bound.prop_map(Cond::Gt),
        1 => prop::sample::select(WHO.to_vec()).prop_map(Cond::DeletedBy),
        1 => Just(Cond::DeletedByNull),
        1 => Just(Cond::ReasonNotNull),
    ];
    let tree = leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 1..=3).prop_map(Cond::Any),
            vec(inner.clone(), 1..=3).prop_map(Cond::All),
            inner.prop_map(|c| Cond::Not(Box::new(c))),
        ]
    });
    prop_oneof![
        1 => Just(Cond::Everything),
        8 => tree,
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (
            ids_strategy(),
            batch_strategy(),
            who_strategy(),
            reason_strategy(),
            stamp_strategy()
        )
            .prop_map(|(ids, batch, by, reason, at)| Op::BulkSoftDelete {
                ids,
                batch,
                by,
                reason,
                at
            }),
        3 => (ids_strategy(), batch_strategy(), who_strategy()).prop_map(
            |(ids, batch, restored_by)| Op::BulkRestore {
                ids,
                batch,
                restored_by
            }
        ),
        2 => (
            cond_strategy(),
            batch_strategy(),
            who_strategy(),
            reason_strategy(),
            stamp_strategy()
        )
            .prop_map(|(cond, batch, by, reason, at)| Op::SoftDeleteWhere {
                cond,
                batch,
                by,
                reason,
                at
            }),
        2 => (cond_strategy(), batch_strategy())
            .prop_map(|(cond, batch)| Op::RestoreWhere { cond, batch }),
        3 => (
            cutoff_strategy(),
            batch_strategy(),
            any::<bool>(),
            prop::option::weighted(0.3, cond_strategy())
        )
            .prop_map(|(cutoff, batch, dry_run, filter)| Op::Purge {
                cutoff,
                batch,
                dry_run,
                filter
            }),
        2 => (
            id_strategy(),
            who_strategy(),
            reason_strategy(),
            stamp_strategy()
        )
            .prop_map(|(id, by, reason, at)| Op::SoftDeleteOne {
                id,
                by,
                reason,
                at
            }),
        2 => (id_strategy(), who_strategy())
            .prop_map(|(id, restored_by)| Op::RestoreOne { id, restored_by }),
        1 => id_strategy().prop_map(|id| Op::ForceDeleteOne { id }),
        2 => ids_strategy().prop_map(|ids| Op::Insert { ids }),
    ]
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        prop::collection::btree_set(1..=MAX_ID, 0..=MAX_ID as usize),
        vec(op_strategy(), 1..25),
    )
        .prop_map(|(initial, ops)| Case { initial, ops })
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/// When a row was deleted, as far as the model knows.
#[derive(Clone, Copy, Debug, PartialEq)]
enum When {
    Known(DateTime<Utc>),
    /// Stamped from the clock by the last operation, somewhere in `lo..=hi`; learned from the
    /// database right after the operation.
    Pending {
        lo: DateTime<Utc>,
        hi: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Row {
    Active,
    Deleted {
        at: When,
        by: Option<String>,
        reason: Option<String>,
    },
}

/// Id → state; missing ids are absent.
type Model = BTreeMap<i64, Row>;

impl Cond {
    /// The condition as the library receives it. The top level is passed as is: a
    /// `Condition::any()` or a negated condition is as valid an argument as an expression.
    fn to_condition(&self) -> Condition {
        let one = |expr| Condition::all().add(expr);
        match self {
            Cond::Everything => Condition::all(),
            Cond::Between(a, b) => one(user::Column::Id.between(*a, *b)),
            Cond::In(ids) => one(user::Column::Id.is_in(ids.clone())),
            Cond::Gt(a) => one(user::Column::Id.gt(*a)),
            Cond::DeletedBy(who) => one(user::Column::DeletedBy.eq(*who)),
            Cond::DeletedByNull => one(user::Column::DeletedBy.is_null()),
            Cond::ReasonNotNull => one(user::Column::DeletionReason.is_not_null()),
            Cond::Any(parts) => parts
                .iter()
                .fold(Condition::any(), |any, part| any.add(part.to_condition())),
            Cond::All(parts) => parts
                .iter()
                .fold(Condition::all(), |all, part| all.add(part.to_condition())),
            Cond::Not(part) => Condition::all().add(part.to_condition()).not(),
        }
    }

    /// SQL's three-valued result on a row: `None` is `NULL`.
    fn eval(&self, id: i64, row: &Row) -> Option<bool> {
        let deleted_by = match row {
            Row::Active => None,
            Row::Deleted { by, .. } => by.as_deref(),
        };
        let reason = match row {
            Row::Active => None,
            Row::Deleted { reason, .. } => reason.as_deref(),
        };
        match self {
            Cond::Everything => Some(true),
            Cond::Between(a, b) => Some(*a <= id && id <= *b),
            Cond::In(ids) => Some(ids.contains(&id)),
            Cond::Gt(a) => Some(id > *a),
            Cond::DeletedBy(who) => deleted_by.map(|by| by == *who),
            Cond::DeletedByNull => Some(deleted_by.is_none()),
            Cond::ReasonNotNull => Some(reason.is_some()),
            // OR: true if any part is; otherwise unknown if any part is; otherwise false.
            Cond::Any(parts) => {
                let values: Vec<Option<bool>> = parts.iter().map(|p| p.eval(id, row)).collect();
                if values.contains(&Some(true)) {
                    Some(true)
                } else if values.contains(&None) {
                    None
                } else {
                    Some(false)
                }
            }
            // AND: false if any part is; otherwise unknown if any part is; otherwise true.
            Cond::All(parts) => {
                let values: Vec<Option<bool>> = parts.iter().map(|p| p.eval(id, row)).collect();
                if values.contains(&Some(false)) {
                    Some(false)
                } else if values.contains(&None) {
                    None
                } else {
                    Some(true)
                }
            }
            Cond::Not(part) => part.eval(id, row).map(|b| !b),
        }
    }

    fn matches(&self, id: i64, row: &Row) -> bool {
        self.eval(id, row) == Some(true)
    }
}

/// Distinct ids, in order of first appearance.
fn distinct(ids: &[i64]) -> Vec<i64> {
    let mut seen = BTreeSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

fn is_active(model: &Model, id: i64) -> bool {
    matches!(model.get(&id), Some(Row::Active))
}

fn is_deleted(model: &Model, id: i64) -> bool {
    matches!(model.get(&id), Some(Row::Deleted { .. }))
}

/// Truncated to microseconds, as the library does with its clock.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).expect("in range")
}

// ---------------------------------------------------------------------------------------------
// Running a case
// ---------------------------------------------------------------------------------------------

fn fail(what: impl fmt::Display) -> TestCaseError {
    TestCaseError::fail(what.to_string())
}

static CASES_RUN: AtomicUsize = AtomicUsize::new(0);

async fn run_case(case: &Case) -> Result<(), TestCaseError> {
    let n = CASES_RUN.fetch_add(1, Ordering::Relaxed);
    let ctx = TestContext::new(&format!("model_{}_{n}", std::process::id())).await;
    let result = check_case(&ctx, case).await;
    drop_database(ctx).await;
    result
}

/// Closes the case's connection and, on a server, drops its database.
async fn drop_database(ctx: TestContext) {
    ctx.db
        .clone()
        .close()
        .await
        .expect("close the test database");
    let target = Target::from_env();
    let sql = match &target {
        Target::Sqlite(_) => return,
        Target::Postgres(_) => format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, ctx.name),
        Target::MySql(_) => format!("DROP DATABASE IF EXISTS `{}`", ctx.name),
    };
    let admin = match target {
        Target::Postgres(url) | Target::MySql(url) => url,
        Target::Sqlite(_) => unreachable!(),
    };
    let admin = connect(admin, 1).await;
    admin
        .execute_unprepared(&sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    admin.close().await.expect("close the admin connection");
}

async fn check_case(ctx: &TestContext, case: &Case) -> Result<(), TestCaseError> {
    ctx.create_table::<user::Entity>().await;
    let mut model = Model::new();
    if !case.initial.is_empty() {
        insert_users(ctx, case.initial.iter().copied()).await;
        model.extend(case.initial.iter().map(|id| (*id, Row::Active)));
    }
    compare(ctx, &mut model, "the initial rows").await?;
    for (step, op) in case.ops.iter().enumerate() {
        let batches = Arc::new(AtomicU64::new(0));
        let run = tokio::time::timeout(OP_TIMEOUT, apply(ctx, &mut model, op, &batches));
        let runaway = async {
            while batches.load(Ordering::Relaxed) <= MAX_BATCHES {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        };
        // Dropping a bulk operation part-way is cancel safe: no half batch is left behind.
        tokio::select! {
            outcome = run => match outcome {
                Ok(result) => result.map_err(|e| fail(format!("step {step}, {op:?}: {e}")))?,
                Err(_) => {
                    return Err(fail(format!(
                        "step {step}, {op:?}: did not finish within {OP_TIMEOUT:?} ({} batches)",
                        batches.load(Ordering::Relaxed)
                    )));
                }
            },
            () = runaway => {
                return Err(fail(format!(
                    "step {step}, {op:?}: still running after {MAX_BATCHES} batches on a table \
                     of at most {MAX_ID} rows: the walk does not advance"
                )));
            }
        }
        compare(ctx, &mut model, &format!("step {step}, after {op:?}")).await?;
    }
    Ok(())
}

fn deleted_row(at: When, by: Option<&str>, reason: Option<&str>) -> Row {
    Row::Deleted {
        at,
        by: by.map(str::to_owned),
        reason: reason.map(str::to_owned),
    }
}

/// Runs one operation on the database and on the model, checking what it reports.
async fn apply(
    ctx: &TestContext,
    model: &mut Model,
    op: &Op,
    batches: &Arc<AtomicU64>,
) -> Result<(), TestCaseError> {
    let db = &ctx.db;
    let counter = Arc::clone(batches);
    let progress = move |_: &soft_delete_core::Progress| {
        counter.fetch_add(1, Ordering::Relaxed);
    };
    let manager = SoftDeleteManager::new(db);
    let lo = micros(Utc::now());
    // The model's stamp for a soft delete; `Pending` ones get their upper bound after the call.
    let when = |at: Stamp| match at {
        Stamp::At(t) => When::Known(t.time()),
        Stamp::Now => When::Pending { lo, hi: lo },
    };
    let settle = |model: &mut Model| {
        let hi = Utc::now();
        for row in model.values_mut() {
            if let Row::Deleted {
                at: When::Pending { hi: h, .. },
                ..
            } = row
            {
                *h = hi;
            }
        }
    };
    match op {
        Op::BulkSoftDelete {
            ids,
            batch,
            by,
            reason,
            at,
        } => {
            let builder = manager
                .bulk_soft_delete::<user::Entity, _>(ids.clone())
                .batch_size(*batch)
                .on_progress(progress);
            let report = with_stamp(builder, *by, *reason, *at).await.map_err(fail)?;
            let targets: Vec<i64> = distinct(ids)
                .into_iter()
                .filter(|id| is_active(model, *id))
                .collect();
            for id in &targets {
                model.insert(*id, deleted_row(when(*at), *by, *reason));
            }
            settle(model);
            prop_assert_eq!(report.requested, ids.len() as u64, "requested");
            prop_assert_eq!(report.affected, targets.len() as u64, "affected");
            prop_assert_eq!(report.batches, ids.len().div_ceil(*batch) as u64, "batches");
            prop_assert!(!report.dry_run && !report.stopped_early);
        }
        Op::BulkRestore {
            ids,
            batch,
            restored_by,
        } => {
            let mut builder = manager
                .bulk_restore::<user::Entity, _>(ids.clone())
                .batch_size(*batch)
                .on_progress(progress);
            if let Some(who) = restored_by {
                builder = builder.restored_by(*who);
            }
            let report = builder.await.map_err(fail)?;
            let targets: Vec<i64> = distinct(ids)
                .into_iter()
                .filter(|id| is_deleted(model, *id))
                .collect();
            for id in &targets {
                model.insert(*id, Row::Active);
            }
            prop_assert_eq!(report.requested, ids.len() as u64, "requested");
            prop_assert_eq!(report.affected, targets.len() as u64, "affected");
            prop_assert_eq!(report.batches, ids.len().div_ceil(*batch) as u64, "batches");
        }
        Op::SoftDeleteWhere {
            cond,
            batch,
            by,
            reason,
            at,
        } => {
            let builder = manager
                .bulk_soft_delete_where::<user::Entity>(cond.to_condition())
                .batch_size(*batch)
                .on_progress(progress);
            let report = with_stamp(builder, *by, *reason, *at).await.map_err(fail)?;
            let targets: Vec<i64> = model
                .iter()
                .filter(|(id, row)| **row == Row::Active && cond.matches(**id, row))
                .map(|(id, _)| *id)
                .collect();
            for id in &targets {
                model.insert(*id, deleted_row(when(*at), *by, *reason));
            }
            settle(model);
            prop_assert_eq!(report.affected, targets.len() as u64, "affected");
            prop_assert_eq!(
                report.requested,
                report.affected,
                "requested (rows matched)"
            );
        }
        Op::RestoreWhere { cond, batch } => {
            let report = manager
                .bulk_restore_where::<user::Entity>(cond.to_condition())
                .batch_size(*batch)
                .on_progress(progress)
                .await
                .map_err(fail)?;
            let targets: Vec<i64> = model
                .iter()
                .filter(|(id, row)| **row != Row::Active && cond.matches(**id, row))
                .map(|(id, _)| *id)
                .collect();
            for id in &targets {
                model.insert(*id, Row::Active);
            }
            prop_assert_eq!(report.affected, targets.len() as u64, "affected");
            prop_assert_eq!(
                report.requested,
                report.affected,
                "requested (rows matched)"
            );
        }
        Op::Purge {
            cutoff,
            batch,
            dry_run,
            filter,
        } => {
            let cutoff = match cutoff {
                Cutoff::At(t) => t.time(),
                Cutoff::Past => base() - chrono::Duration::days(1),
                Cutoff::Future => Utc::now() + chrono::Duration::days(1),
            };
            let mut builder = manager
                .hard_delete_before::<user::Entity>(cutoff)
                .batch_size(*batch)
                .on_progress(progress);
            if let Some(filter) = filter {
                builder = builder.filter(filter.to_condition());
            }
            if *dry_run {
                builder = builder.dry_run();
            }
            let report = builder.await.map_err(fail)?;
            let targets: Vec<i64> = model
                .iter()
                .filter(|(id, row)| match row {
                    Row::Active => false,
                    Row::Deleted { at, .. } => {
                        let at = match at {
                            When::Known(at) => *at,
                            When::Pending { .. } => unreachable!("settled after each step"),
                        };
                        at < cutoff && filter.as_ref().is_none_or(|f| f.matches(**id, row))
                    }
                })
                .map(|(id, _)| *id)
                .collect();
            if !*dry_run {
                for id in &targets {
                    model.remove(id);
                }
            }
            prop_assert_eq!(report.affected, targets.len() as u64, "affected");
            prop_assert_eq!(report.dry_run, *dry_run, "dry_run");
            if *dry_run {
                prop_assert_eq!(report.batches, 0, "a dry run runs no batch");
            }
        }
        Op::SoftDeleteOne { id, by, reason, at } => {
            let mut builder = user::Entity::soft_delete_by_id(db, *id);
            if let Some(by) = by {
                builder = builder.deleted_by(*by);
            }
            if let Some(reason) = reason {
                builder = builder.reason(*reason);
            }
            if let Stamp::At(t) = at {
                builder = builder.at(t.time());
            }
            let changed = builder.await.map_err(fail)?;
            let expected = u64::from(is_active(model, *id));
            if expected == 1 {
                model.insert(*id, deleted_row(when(*at), *by, *reason));
            }
            settle(model);
            prop_assert_eq!(changed, expected, "rows changed");
        }
        Op::RestoreOne { id, restored_by } => {
            let mut builder = user::Entity::restore_by_id(db, *id);
            if let Some(who) = restored_by {
                builder = builder.restored_by(*who);
            }
            let changed = builder.await.map_err(fail)?;
            let expected = u64::from(is_deleted(model, *id));
            if expected == 1 {
                model.insert(*id, Row::Active);
            }
            prop_assert_eq!(changed, expected, "rows changed");
        }
        Op::ForceDeleteOne { id } => {
            let removed = user::Entity::force_delete_by_id(db, *id)
                .await
                .map_err(fail)?;
            let expected = u64::from(model.remove(id).is_some());
            prop_assert_eq!(removed, expected, "rows removed");
        }
        Op::Insert { ids } => {
            let missing: Vec<i64> = distinct(ids)
                .into_iter()
                .filter(|id| (1..=MAX_ID).contains(id) && !model.contains_key(id))
                .collect();
            if !missing.is_empty() {
                insert_users(ctx, missing.iter().copied()).await;
            }
            for id in missing {
                model.insert(id, Row::Active);
            }
        }
    }
    Ok(())
}

/// One row as read from the database.
type DbRow = (i64, Option<DateTime<Utc>>, Option<String>, Option<String>);

/// Compares the table, the statistics and the scoped counts with the model; learns the stamps
/// the last operation took from the clock.
async fn compare(ctx: &TestContext, model: &mut Model, when: &str) -> Result<(), TestCaseError> {
    let db = &ctx.db;
    let rows = user::Entity::find_with_deleted()
        .order_by_asc(user::Column::Id)
        .all(db)
        .await
        .map_err(|e| fail(format!("{when}: read the table: {e}")))?;
    for row in &rows {
        prop_assert_eq!(
            (&row.name, &row.email),
            (
                &format!("user-{}", row.id),
                &format!("user-{}@example.com", row.id)
            ),
            "{}: other columns untouched",
            when
        );
    }
    let actual: Vec<DbRow> = rows
        .into_iter()
        .map(|r| (r.id, r.deleted_at, r.deleted_by, r.deletion_reason))
        .collect();

    // Learn the clock stamps: every pending row got the same one, within the window.
    let mut learned: Option<DateTime<Utc>> = None;
    for (id, at, _, _) in &actual {
        if let Some(Row::Deleted {
            at: When::Pending { lo, hi },
            ..
        }) = model.get(id)
        {
            let Some(at) = at else {
                return Err(fail(format!(
                    "{when}: id {id} should be deleted: {actual:?}"
                )));
            };
            prop_assert!(
                lo <= at && at <= hi,
                "{}: id {} stamped {} outside {}..={}",
                when,
                id,
                at,
                lo,
                hi
            );
            if let Some(first) = learned {
                prop_assert_eq!(first, *at, "{}: one operation, one stamp", when);
            }
            learned = Some(*at);
        }
    }
    if let Some(learned) = learned {
        for row in model.values_mut() {
            if let Row::Deleted { at, .. } = row
                && matches!(at, When::Pending { .. })
            {
                *at = When::Known(learned);
            }
        }
    }

    let expected: Vec<DbRow> = model
        .iter()
        .map(|(id, row)| match row {
            Row::Active => (*id, None, None, None),
            Row::Deleted { at, by, reason } => {
                let at = match at {
                    When::Known(at) => Some(*at),
                    When::Pending { .. } => None,
                };
                (*id, at, by.clone(), reason.clone())
            }
        })
        .collect();
    prop_assert_eq!(&actual, &expected, "{}: rows", when);

    let total = model.len() as u64;
    let deleted = model.values().filter(|r| **r != Row::Active).count() as u64;
    let stats = SoftDeleteManager::new(db)
        .get_deletion_stats::<user::Entity>()
        .await
        .map_err(|e| fail(format!("{when}: stats: {e}")))?;
    prop_assert_eq!(
        (stats.total, stats.active, stats.deleted),
        (total, total - deleted, deleted),
        "{}: stats",
        when
    );
    prop_assert!(!stats.deletion_ratio.is_nan(), "{}: ratio is NaN", when);
    let ratio = if total == 0 {
        0.0
    } else {
        deleted as f64 / total as f64
    };
    prop_assert!(
        (stats.deletion_ratio - ratio).abs() < 1e-12,
        "{}: ratio {} != {}",
        when,
        stats.deletion_ratio,
        ratio
    );

    let active = user::Entity::find_active()
        .count(db)
        .await
        .map_err(|e| fail(format!("{when}: count active: {e}")))?;
    let found_deleted = user::Entity::find_deleted()
        .count(db)
        .await
        .map_err(|e| fail(format!("{when}: count deleted: {e}")))?;
    prop_assert_eq!(
        (active, found_deleted),
        (total - deleted, deleted),
        "{}: find_active / find_deleted counts",
        when
    );
    Ok(())
}

#[test]
fn bulk_operations_match_the_model() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let config = Config {
        cases,
        failure_persistence: None,
        // Shrinking re-runs cases against the database; bound it.
        max_shrink_time: 300_000,
        ..Config::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let backend = Target::from_env().backend();
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case_strategy(), |case| runtime.block_on(run_case(&case)));
    match result {
        Ok(()) => eprintln!(
            "model: {cases} cases on {backend:?} in {:.1?}",
            started.elapsed()
        ),
        Err(TestError::Fail(reason, case)) => panic!(
            "the library and the model disagree on {}:\n{reason}\nminimal case:\n{case:#?}",
            backend_name(backend)
        ),
        Err(TestError::Abort(reason)) => panic!("proptest aborted: {reason}"),
    }
}

fn backend_name(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "SQLite",
        DbBackend::Postgres => "PostgreSQL",
        DbBackend::MySql => "MySQL/MariaDB",
        _ => "another backend",
    }
}
