//! The command line.

use clap::{Parser, ValueEnum};
use sea_orm::DbBackend;

/// The library against hand-written SQL and a row-by-row loop, in the same run.
#[derive(Clone, Debug, Parser)]
#[command(name = "bench", about, long_about = None)]
pub struct Args {
    /// The database: SQLite is a WAL file in the temp folder unless DATABASE_URL names another;
    /// the servers come from DATABASE_URL.
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    pub backend: Backend,

    /// Rows in the table each operation starts from.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(i64).range(1..))]
    pub rows: i64,

    /// Rounds per operation; each round times the library and the raw statements once,
    /// alternating which goes first. Medians are reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,

    /// Rows per batch [default: 5000; 2000 on MySQL/MariaDB].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch: Option<u64>,

    /// Rows for the row-by-row loop [default: rows, at most 2000].
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    pub loop_rows: Option<i64>,

    /// Workers for soft delete, restore and purge (the library's `parallel`); the raw side
    /// then runs as many sessions, each over its own part of the ids. With more than one, each
    /// round also times the library with one worker, for the gain. SQLite runs one.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub parallel: u64,

    /// The operations to run, comma-separated [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub ops: Vec<Op>,

    /// The index on `deleted_at` [default: the one the library's migration helpers create].
    #[arg(long, value_enum)]
    pub index: Option<IndexMode>,

    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Also time every statement shape tried for each operation (the factor probe), on the
    /// same table, in the same run.
    #[arg(long)]
    pub probe: bool,

    /// Measure peak memory of a soft delete of 100k, 1M and 10M streamed ids (with
    /// `--parallel` workers) and of a streaming insert of as many rows (a fresh process per
    /// count, on `--backend`) instead.
    #[arg(long, conflicts_with_all = ["probe", "json"])]
    pub memory: bool,

    /// With `--memory`: fail when a peak grows more than this fraction from 1M to 10M items
    /// (0.1 for 10%).
    #[arg(long, requires = "memory")]
    pub max_growth: Option<f64>,

    /// One workload and count of `--memory` (run by it in a child process).
    #[arg(long, hide = true)]
    pub memory_child: Option<String>,
}

impl Args {
    /// The batch size, after its backend default.
    pub fn batch(&self) -> usize {
        self.batch.unwrap_or(match self.backend {
            Backend::Mysql => 2000,
            _ => 5000,
        }) as usize
    }

    /// The workers `op` runs with: `--parallel` for soft delete, restore and purge on a server,
    /// else one.
    pub fn workers(&self, op: Op) -> usize {
        match (op, self.backend) {
            (_, Backend::Sqlite) => 1,
            (Op::BulkSoftDelete | Op::BulkRestore | Op::Purge, _) => self.parallel as usize,
            _ => 1,
        }
    }

    /// Rows of the row-by-row loop.
    pub fn loop_rows(&self) -> i64 {
        self.loop_rows.unwrap_or(self.rows.min(2000))
    }

    /// The operations to run.
    pub fn ops(&self) -> Vec<Op> {
        if self.ops.is_empty() {
            Op::value_variants().to_vec()
        } else {
            self.ops.clone()
        }
    }

    /// The index to create.
    pub fn index(&self) -> IndexMode {
        self.index
            .unwrap_or_else(|| IndexMode::recommended(self.backend.db()))
    }
}

/// A backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// SQLite (embedded).
    Sqlite,
    /// PostgreSQL.
    #[value(alias = "postgresql")]
    Postgres,
    /// MySQL or MariaDB.
    #[value(alias = "mariadb")]
    Mysql,
}

impl Backend {
    pub fn db(self) -> DbBackend {
        match self {
            Backend::Sqlite => DbBackend::Sqlite,
            Backend::Postgres => DbBackend::Postgres,
            Backend::Mysql => DbBackend::MySql,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }
}

/// An operation the bench times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Op {
    /// Soft-delete every row by id.
    BulkSoftDelete,
    /// Restore every row by id.
    BulkRestore,
    /// Purge every row (all soft-deleted a year ago).
    Purge,
    /// Insert rows and read the models back.
    BulkCreate,
    /// Insert rows, counting only.
    BulkInsert,
    /// Count total and deleted rows (repeated).
    Stats,
    /// Soft-delete folders by id, each with 10 files that follow it (folders and files add up
    /// to about `--rows`; rates count both).
    CascadeSoftDelete,
    /// Purge folders soft-deleted a year ago, each with 10 files (also soft-deleted) that go
    /// first (folders and files add up to about `--rows`; rates count both).
    CascadePurge,
    /// `bulk_soft_delete` of an entity with a trivial set-level hook (`after_batch` with the
    /// batch's keys); the raw side is the flat soft delete's.
    HookedSoftDelete,
    /// `bulk_soft_delete` of a table marked by `is_deleted` alone.
    FlagSoftDelete,
    /// `bulk_soft_delete` of a table marked by `is_deleted` with `deleted_at` in step.
    PairedSoftDelete,
    /// `bulk_soft_delete` of a table marked by the reversed flag `is_active`.
    ActiveSoftDelete,
    /// `bulk_soft_delete` of a table marked by `deleted_epoch` (seconds, 0 while live).
    EpochSoftDelete,
    /// Purge every row (all soft-deleted a year ago), copying each batch into `users_archive`
    /// first.
    ArchivePurge,
    /// `purge` with the guard against a raw `DELETE` on the table (`GuardHardDelete`); the raw
    /// side is the unguarded purge's.
    GuardedPurge,
    /// `archive_purge` with the guard on the table; the raw side is the unguarded one's.
    GuardedArchivePurge,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::BulkSoftDelete => "bulk_soft_delete",
            Op::BulkRestore => "bulk_restore",
            Op::Purge => "purge",
            Op::BulkCreate => "bulk_create",
            Op::BulkInsert => "bulk_insert",
            Op::Stats => "stats",
            Op::CascadeSoftDelete => "cascade_soft_delete",
            Op::CascadePurge => "cascade_purge",
            Op::HookedSoftDelete => "hooked_soft_delete",
            Op::FlagSoftDelete => "flag_soft_delete",
            Op::PairedSoftDelete => "paired_soft_delete",
            Op::ActiveSoftDelete => "active_soft_delete",
            Op::EpochSoftDelete => "epoch_soft_delete",
            Op::ArchivePurge => "archive_purge",
            Op::GuardedPurge => "guarded_purge",
            Op::GuardedArchivePurge => "guarded_archive_purge",
        }
    }

    /// The operation whose raw statements this one is measured against.
    pub fn raw_equivalent(self) -> Op {
        match self {
            Op::HookedSoftDelete => Op::BulkSoftDelete,
            Op::GuardedPurge => Op::Purge,
            Op::GuardedArchivePurge => Op::ArchivePurge,
            op => op,
        }
    }
}

/// The index on `deleted_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IndexMode {
    /// `CREATE INDEX … (deleted_at)`: every row.
    Plain,
    /// `CREATE INDEX … (deleted_at) WHERE deleted_at IS NOT NULL`: deleted rows only
    /// (SQLite and PostgreSQL; MySQL/MariaDB have no partial indexes).
    Deleted,
    /// No index on `deleted_at`.
    None,
}

impl IndexMode {
    /// What the library's migration helpers create on `backend`.
    pub fn recommended(backend: DbBackend) -> IndexMode {
        use soft_delete_core::migration::DeletedAtIndex;
        match DeletedAtIndex::recommended(backend) {
            DeletedAtIndex::DeletedRows => IndexMode::Deleted,
            DeletedAtIndex::Plain => IndexMode::Plain,
            _ => IndexMode::None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            IndexMode::Plain => "plain",
            IndexMode::Deleted => "deleted",
            IndexMode::None => "none",
        }
    }
}
