//! Deleted rows stay deleted outside the ORM too: what the database itself can enforce for a
//! report in a BI tool, a `psql` session or another service that never goes through this crate.
//!
//! * **Live views** ([`create_live_view`], the `CreateLiveView` migration): `<table>_live`
//!   selects the entity's columns of the rows that are live, whatever the entity's marker
//!   (`deleted_at`, a flag, a flag with its time, a reversed flag, an epoch), so other tools
//!   read live rows without knowing the rule; `<table>_deleted` likewise, when asked.
//!
//! | backend | the view |
//! |---|---|
//! | PostgreSQL | updatable: `UPDATE`/`DELETE` through it reach live rows only, `INSERT` goes to the table (PostgreSQL's automatically updatable views) |
//! | MySQL/MariaDB | updatable the same way (a single-table view with a `WHERE`, `ALGORITHM=MERGE`) |
//! | SQLite | read-only (SQLite's views take no `UPDATE` without `INSTEAD OF` triggers) |
//!
//! A view names the entity's columns when it is created: after adding a column, run the
//! migration again (it drops and creates the view, and is idempotent).
//!
//! * **Row-level security on PostgreSQL** ([`enable_live_row_security`], the
//!   `EnableLiveRowSecurity` migration): the roles you name (the application's) see and change
//!   every row, as the library needs for `with_deleted`/`only_deleted`, restore, purge, archive
//!   and undo; every other role sees, updates and deletes live rows only, and can neither
//!   see, restore nor remove a deleted one. Nor can another role soft-delete: a soft delete is
//!   an `UPDATE` that takes the row out of what that role may see, and PostgreSQL checks an
//!   `UPDATE`'s new row against the `SELECT` policy whenever the statement reads the table (any
//!   `WHERE` does), whatever `WITH CHECK` says: it fails with `new row violates row-level
//!   security policy` (tested). Soft deletes go through the application's roles. The table's
//!   owner, superusers and `BYPASSRLS` roles are not subject to row security (PostgreSQL's
//!   rule); SQLite and MySQL/MariaDB have no such thing, and the migration refuses to run
//!   there.
//!
//! * **A guard against the raw `DELETE`** ([`guard_hard_delete`], the `GuardHardDelete`
//!   migration): a trigger that refuses a `DELETE` on the table unless it comes from the
//!   library's own purge, archive or force delete, which mark their transaction (PostgreSQL
//!   `set_config('soft_delete.hard_delete', 'on', true)` in the query every batch already
//!   sends; MySQL/MariaDB the session variable `@soft_delete_hard_delete`, set in that query
//!   and cleared before the batch's `COMMIT` or `ROLLBACK`; SQLite a row in the table
//!   `soft_delete_hard_delete` that the batch inserts and deletes inside its own transaction).
//!   The error says to soft-delete, or to purge with the library. It guards against mistakes,
//!   not against a client that sets the mark itself: use privileges (and row security) for
//!   that.
//!
//! | backend | the trigger | its cost to the library's own purge |
//! |---|---|---|
//! | PostgreSQL | `BEFORE DELETE OR TRUNCATE … FOR EACH STATEMENT`: once per statement, `TRUNCATE` refused too | none measurable (no extra round trip; one check per statement) |
//! | MySQL/MariaDB | `BEFORE DELETE … FOR EACH ROW` (MySQL has no statement triggers; `TRUNCATE` fires none) | a check per row and one `SET` per batch |
//! | SQLite | `BEFORE DELETE … FOR EACH ROW` on a table of the main database (SQLite triggers cannot see another database's tables) | a check per row: measured at about half the speed of an unguarded purge |

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{DbBackend, EntityTrait, Iterable, Statement};

use crate::entity::SoftDelete;
use crate::sql::{Table, alias, quote};

/// The default name of `E`'s live view: `<table>_live`, in `E`'s schema.
pub fn live_view_name<E: EntityTrait>() -> String {
    format!("{}_live", Table::of::<E>().name())
}

/// The default name of `E`'s view of soft-deleted rows: `<table>_deleted`, in `E`'s schema.
pub fn deleted_view_name<E: EntityTrait>() -> String {
    format!("{}_deleted", Table::of::<E>().name())
}

/// `CREATE VIEW <name>` of `E`'s live rows, with all of `E`'s columns. A bare `name` is a view
/// in `E`'s schema. The statement fails when the view exists: drop it first with
/// [`drop_view`] (as the `CreateLiveView` migration does).
///
/// # Examples
///
/// ```
/// # mod user {
/// #     use sea_orm::entity::prelude::*;
/// #     #[soft_delete_core::soft_delete(flag = "is_deleted")]
/// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
/// #     #[sea_orm(table_name = "users")]
/// #     pub struct Model {
/// #         #[sea_orm(primary_key)]
/// #         pub id: i64,
/// #         pub email: String,
/// #     }
/// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// #     pub enum Relation {}
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// use sea_orm::DbBackend;
/// use soft_delete_core::outside::{create_live_view, live_view_name};
///
/// let view = create_live_view::<user::Entity>(DbBackend::Postgres, &live_view_name::<user::Entity>());
/// assert_eq!(
///     view.to_string(),
///     r#"CREATE VIEW "users_live" AS SELECT "id", "email", "is_deleted", "deleted_by", "deletion_reason" FROM "users" WHERE "is_deleted" = FALSE"#
/// );
/// ```
pub fn create_live_view<E: SoftDelete>(backend: DbBackend, name: &str) -> Statement {
    create_view::<E>(backend, name, E::marker().live_in(Expr::col))
}

/// `CREATE VIEW <name>` of `E`'s soft-deleted rows; see [`create_live_view`].
pub fn create_deleted_view<E: SoftDelete>(backend: DbBackend, name: &str) -> Statement {
    create_view::<E>(backend, name, E::marker().deleted_in(Expr::col))
}

/// `DROP VIEW IF EXISTS <name>`, a bare `name` in `E`'s schema.
pub fn drop_view<E: EntityTrait>(backend: DbBackend, name: &str) -> Statement {
    Statement::from_string(
        backend,
        format!("DROP VIEW IF EXISTS {}", view_name::<E>(backend, name)),
    )
}

/// The view `name` in `E`'s schema, quoted. On SQLite a view of the main database is named
/// `"main"."…"`: unqualified, SQLite would look in every attached database too, and drop
/// another schema's view of the same name.
fn view_name<E: EntityTrait>(backend: DbBackend, name: &str) -> String {
    let view = Table::of::<E>().sibling(name);
    match (backend, view.schema()) {
        (DbBackend::Sqlite, None) => Table::parse(&format!("main.{}", view.name())).sql(backend),
        _ => view.sql(backend),
    }
}

fn create_view<E: SoftDelete>(backend: DbBackend, name: &str, rows: Expr) -> Statement {
    let table = Table::of::<E>();
    let mut select = Query::select();
    for column in E::Column::iter() {
        select.column(column);
    }
    // SQLite resolves a view's tables in the view's own database, and refuses them qualified.
    match backend {
        DbBackend::Sqlite => select.from(alias(table.name())),
        _ => select.from(table.table_ref()),
    };
    select.and_where(rows);
    let body = backend.build(&select).to_string();
    let algorithm = match backend {
        DbBackend::MySql => "ALGORITHM=MERGE ",
        _ => "",
    };
    Statement::from_string(
        backend,
        format!(
            "CREATE {algorithm}VIEW {} AS {body}",
            view_name::<E>(backend, name)
        ),
    )
}

/// The policy under which the application's roles see every row.
pub const ALL_ROWS_POLICY: &str = "soft_delete_all_rows";
/// The policy under which every other role sees live rows only.
pub const LIVE_ROWS_POLICY: &str = "soft_delete_live_rows";

/// "The row is live" for `E`, as SQL text with `E`'s columns unqualified (for a policy).
fn live_sql<E: SoftDelete>(backend: DbBackend) -> String {
    let mut select = Query::select();
    select
        .expr(Expr::val(1))
        .and_where(E::marker().live_in(Expr::col));
    crate::sql::where_text(backend, &select, true).unwrap_or_else(|| "true".to_owned())
}

/// PostgreSQL: turns row-level security on for `E`'s table, with every row for `roles` (the
/// application's) and live rows only for every other role. Idempotent (each policy is dropped
/// before it is created). See the [module documentation](self).
///
/// # Examples
///
/// ```
/// # mod user {
/// #     use sea_orm::entity::prelude::*;
/// #     #[soft_delete_core::soft_delete]
/// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
/// #     #[sea_orm(table_name = "users")]
/// #     pub struct Model {
/// #         #[sea_orm(primary_key)]
/// #         pub id: i64,
/// #     }
/// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// #     pub enum Relation {}
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// use soft_delete_core::outside::enable_live_row_security;
///
/// let sql: Vec<String> = enable_live_row_security::<user::Entity>(&["shop_app"])
///     .iter()
///     .map(ToString::to_string)
///     .collect();
/// assert_eq!(sql[0], r#"ALTER TABLE "users" ENABLE ROW LEVEL SECURITY"#);
/// assert!(sql.contains(
///     &r#"CREATE POLICY "soft_delete_live_rows" ON "users" FOR ALL TO PUBLIC USING ("deleted_at" IS NULL) WITH CHECK (true)"#.to_owned()
/// ));
/// ```
pub fn enable_live_row_security<E: SoftDelete>(roles: &[&str]) -> Vec<Statement> {
    let backend = DbBackend::Postgres;
    let table = Table::of::<E>().sql(backend);
    let mut statements = vec![format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")];
    statements.extend(drop_policies(&table));
    if !roles.is_empty() {
        let roles: Vec<String> = roles.iter().map(|role| quote(backend, role)).collect();
        statements.push(format!(
            "CREATE POLICY {} ON {table} FOR ALL TO {} USING (true) WITH CHECK (true)",
            quote(backend, ALL_ROWS_POLICY),
            roles.join(", ")
        ));
    }
    statements.push(format!(
        "CREATE POLICY {} ON {table} FOR ALL TO PUBLIC USING ({}) WITH CHECK (true)",
        quote(backend, LIVE_ROWS_POLICY),
        live_sql::<E>(backend)
    ));
    statements
        .into_iter()
        .map(|sql| Statement::from_string(backend, sql))
        .collect()
}

/// PostgreSQL: drops the policies of [`enable_live_row_security`] and turns row-level
/// security off for `E`'s table.
pub fn disable_live_row_security<E: SoftDelete>() -> Vec<Statement> {
    let backend = DbBackend::Postgres;
    let table = Table::of::<E>().sql(backend);
    let mut statements = drop_policies(&table);
    statements.push(format!("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"));
    statements
        .into_iter()
        .map(|sql| Statement::from_string(backend, sql))
        .collect()
}

fn drop_policies(table: &str) -> Vec<String> {
    [ALL_ROWS_POLICY, LIVE_ROWS_POLICY]
        .iter()
        .map(|policy| {
            format!(
                "DROP POLICY IF EXISTS {} ON {table}",
                quote(DbBackend::Postgres, policy)
            )
        })
        .collect()
}

/// What the guard's error says.
pub const GUARD_MESSAGE: &str =
    "DELETE refused by the soft-delete guard: soft-delete the rows, or remove them with its purge";

/// The name of `E`'s guard trigger (and, on PostgreSQL, its function): `<table>_guard_hard_delete`.
pub fn guard_name<E: EntityTrait>() -> String {
    format!("{}_guard_hard_delete", Table::of::<E>().name())
}

/// The statements that install `E`'s guard against a raw `DELETE` on `backend`, dropping any
/// earlier one first (idempotent). See the [module documentation](self).
///
/// # Errors
///
/// On SQLite, for a table in an attached database: SQLite's triggers cannot see the main
/// database's table the library marks its hard deletes in.
///
/// # Examples
///
/// ```
/// # mod user {
/// #     use sea_orm::entity::prelude::*;
/// #     #[soft_delete_core::soft_delete]
/// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
/// #     #[sea_orm(table_name = "users")]
/// #     pub struct Model {
/// #         #[sea_orm(primary_key)]
/// #         pub id: i64,
/// #     }
/// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// #     pub enum Relation {}
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// use sea_orm::DbBackend;
/// use soft_delete_core::outside::guard_hard_delete;
///
/// let sql = guard_hard_delete::<user::Entity>(DbBackend::Postgres).unwrap();
/// assert!(sql.last().unwrap().to_string().starts_with(
///     r#"CREATE TRIGGER "users_guard_hard_delete" BEFORE DELETE OR TRUNCATE ON "users" FOR EACH STATEMENT"#
/// ));
/// ```
pub fn guard_hard_delete<E: SoftDelete>(backend: DbBackend) -> Result<Vec<Statement>, String> {
    let table = Table::of::<E>();
    let on = table.sql(backend);
    let name = guard_name::<E>();
    let trigger = table.sibling(&name).sql(backend);
    let mark = crate::bulk::HARD_DELETE;
    let message = GUARD_MESSAGE.replace('\'', "''");
    let sql = match backend {
        DbBackend::Postgres => vec![
            format!(
                "CREATE OR REPLACE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $guard$ \
                 BEGIN \
                 IF current_setting('soft_delete.hard_delete', true) IS DISTINCT FROM 'on' THEN \
                 RAISE EXCEPTION '{message} (% on %)', TG_OP, TG_TABLE_NAME; \
                 END IF; \
                 RETURN NULL; \
                 END $guard$"
            ),
            format!("DROP TRIGGER IF EXISTS {} ON {on}", quote(backend, &name)),
            format!(
                "CREATE TRIGGER {} BEFORE DELETE OR TRUNCATE ON {on} FOR EACH STATEMENT \
                 EXECUTE FUNCTION {trigger}()",
                quote(backend, &name)
            ),
        ],
        DbBackend::MySql => vec![
            format!("DROP TRIGGER IF EXISTS {trigger}"),
            format!(
                "CREATE TRIGGER {trigger} BEFORE DELETE ON {on} FOR EACH ROW \
                 BEGIN IF @{mark} IS NULL THEN \
                 SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'; \
                 END IF; END"
            ),
        ],
        _ => {
            if table.schema().is_some() {
                return Err(format!(
                    "SQLite: the guard covers tables of the main database, and {table} is in an \
                     attached one (its triggers cannot see the main database's {mark})"
                ));
            }
            vec![
                format!("CREATE TABLE IF NOT EXISTS main.{mark} (mark INTEGER)"),
                format!("DROP TRIGGER IF EXISTS main.{}", quote(backend, &name)),
                format!(
                    "CREATE TRIGGER main.{} BEFORE DELETE ON {on} \
                     WHEN NOT EXISTS (SELECT 1 FROM {mark}) \
                     BEGIN SELECT RAISE(ABORT, '{message}'); END",
                    quote(backend, &name)
                ),
            ]
        }
    };
    Ok(sql
        .into_iter()
        .map(|sql| Statement::from_string(backend, sql))
        .collect())
}

/// The statements that remove `E`'s guard (its trigger, and on PostgreSQL its function). SQLite's
/// `soft_delete_hard_delete` table stays: other tables' guards may read it, and it is empty.
pub fn unguard_hard_delete<E: SoftDelete>(backend: DbBackend) -> Vec<Statement> {
    let table = Table::of::<E>();
    let name = guard_name::<E>();
    let trigger = table.sibling(&name).sql(backend);
    let sql = match backend {
        DbBackend::Postgres => vec![
            format!(
                "DROP TRIGGER IF EXISTS {} ON {}",
                quote(backend, &name),
                table.sql(backend)
            ),
            format!("DROP FUNCTION IF EXISTS {trigger}()"),
        ],
        _ => vec![format!("DROP TRIGGER IF EXISTS {trigger}")],
    };
    sql.into_iter()
        .map(|sql| Statement::from_string(backend, sql))
        .collect()
}

#[cfg(feature = "migration")]
pub use migrations::{CreateLiveView, EnableLiveRowSecurity, GuardHardDelete};

#[cfg(feature = "migration")]
mod migrations {
    use std::marker::PhantomData;

    use sea_orm::{ConnectionTrait, DbErr};
    use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

    use crate::entity::SoftDelete;

    /// A sea-orm-migration migration that creates `E`'s live view (`<table>_live` unless
    /// [`named`](Self::named)) and, with [`with_deleted_view`](Self::with_deleted_view), the
    /// view of its soft-deleted rows; `down` drops them. Idempotent: `up` drops each view
    /// before creating it, so running it again after a column was added updates the views.
    ///
    /// # Examples
    ///
    /// ```
    /// # mod user {
    /// #     use sea_orm::entity::prelude::*;
    /// #     #[soft_delete_core::soft_delete]
    /// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    /// #     #[sea_orm(table_name = "users")]
    /// #     pub struct Model {
    /// #         #[sea_orm(primary_key)]
    /// #         pub id: i64,
    /// #     }
    /// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    /// #     pub enum Relation {}
    /// #     impl ActiveModelBehavior for ActiveModel {}
    /// # }
    /// use sea_orm_migration::MigrationName;
    /// use soft_delete_core::outside::CreateLiveView;
    ///
    /// let migration = CreateLiveView::<user::Entity>::new().with_deleted_view();
    /// assert_eq!(migration.views(), ["users_live", "users_deleted"]);
    /// assert_eq!(migration.name(), "m_soft_delete_views_users_live");
    /// ```
    pub struct CreateLiveView<E> {
        live: String,
        deleted: Option<String>,
        name: String,
        _entity: PhantomData<fn() -> E>,
    }

    impl<E> std::fmt::Debug for CreateLiveView<E> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("CreateLiveView")
                .field("live", &self.live)
                .field("deleted", &self.deleted)
                .finish()
        }
    }

    impl<E: SoftDelete> CreateLiveView<E> {
        /// `<table>_live`.
        pub fn new() -> Self {
            Self::named(super::live_view_name::<E>())
        }

        /// A live view named `view`.
        pub fn named(view: impl Into<String>) -> Self {
            let live = view.into();
            CreateLiveView {
                name: format!("m_soft_delete_views_{live}"),
                live,
                deleted: None,
                _entity: PhantomData,
            }
        }

        /// Also `<table>_deleted`, the soft-deleted rows.
        pub fn with_deleted_view(self) -> Self {
            self.deleted_named(super::deleted_view_name::<E>())
        }

        /// Also a view of the soft-deleted rows named `view`.
        pub fn deleted_named(mut self, view: impl Into<String>) -> Self {
            self.deleted = Some(view.into());
            self
        }

        /// The views it creates.
        pub fn views(&self) -> Vec<&str> {
            std::iter::once(self.live.as_str())
                .chain(self.deleted.as_deref())
                .collect()
        }
    }

    impl<E: SoftDelete> Default for CreateLiveView<E> {
        fn default() -> Self {
            Self::new()
        }
    }

    impl<E> MigrationName for CreateLiveView<E> {
        fn name(&self) -> &str {
            &self.name
        }
    }

    #[allow(elided_lifetimes_in_paths)]
    #[async_trait::async_trait]
    impl<E: SoftDelete> MigrationTrait for CreateLiveView<E> {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let db = manager.get_connection();
            let backend = manager.get_database_backend();
            db.execute_raw(super::drop_view::<E>(backend, &self.live))
                .await?;
            db.execute_raw(super::create_live_view::<E>(backend, &self.live))
                .await?;
            if let Some(deleted) = &self.deleted {
                db.execute_raw(super::drop_view::<E>(backend, deleted))
                    .await?;
                db.execute_raw(super::create_deleted_view::<E>(backend, deleted))
                    .await?;
            }
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let db = manager.get_connection();
            let backend = manager.get_database_backend();
            for view in self.views() {
                db.execute_raw(super::drop_view::<E>(backend, view)).await?;
            }
            Ok(())
        }
    }

    /// A sea-orm-migration migration that turns on PostgreSQL's row-level security for `E`
    /// with [`enable_live_row_security`](super::enable_live_row_security): the roles given
    /// see every row, the others live rows only; `down` turns it off. On SQLite and
    /// MySQL/MariaDB, which have no row-level security, `up` fails with a message saying so
    /// (use the live view there).
    ///
    /// # Examples
    ///
    /// ```
    /// # mod user {
    /// #     use sea_orm::entity::prelude::*;
    /// #     #[soft_delete_core::soft_delete]
    /// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    /// #     #[sea_orm(table_name = "users")]
    /// #     pub struct Model {
    /// #         #[sea_orm(primary_key)]
    /// #         pub id: i64,
    /// #     }
    /// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    /// #     pub enum Relation {}
    /// #     impl ActiveModelBehavior for ActiveModel {}
    /// # }
    /// use sea_orm_migration::MigrationName;
    /// use soft_delete_core::outside::EnableLiveRowSecurity;
    ///
    /// let migration = EnableLiveRowSecurity::<user::Entity>::for_roles(["shop_app"]);
    /// assert_eq!(migration.name(), "m_soft_delete_row_security_users");
    /// ```
    pub struct EnableLiveRowSecurity<E> {
        roles: Vec<String>,
        name: String,
        _entity: PhantomData<fn() -> E>,
    }

    impl<E> std::fmt::Debug for EnableLiveRowSecurity<E> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("EnableLiveRowSecurity")
                .field("roles", &self.roles)
                .finish()
        }
    }

    impl<E: SoftDelete> EnableLiveRowSecurity<E> {
        /// Every row for `roles` (the application's), live rows for the others.
        pub fn for_roles<I, R>(roles: I) -> Self
        where
            I: IntoIterator<Item = R>,
            R: Into<String>,
        {
            EnableLiveRowSecurity {
                roles: roles.into_iter().map(Into::into).collect(),
                name: format!(
                    "m_soft_delete_row_security_{}",
                    crate::sql::Table::of::<E>()
                ),
                _entity: PhantomData,
            }
        }
    }

    impl<E> MigrationName for EnableLiveRowSecurity<E> {
        fn name(&self) -> &str {
            &self.name
        }
    }

    fn postgres_only(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => Ok(()),
            other => Err(DbErr::Migration(format!(
                "row-level security is PostgreSQL's; {other:?} has none: give other clients the \
                 live view (CreateLiveView) instead"
            ))),
        }
    }

    #[allow(elided_lifetimes_in_paths)]
    #[async_trait::async_trait]
    impl<E: SoftDelete> MigrationTrait for EnableLiveRowSecurity<E> {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            postgres_only(manager)?;
            let roles: Vec<&str> = self.roles.iter().map(String::as_str).collect();
            for statement in super::enable_live_row_security::<E>(&roles) {
                manager.get_connection().execute_raw(statement).await?;
            }
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            postgres_only(manager)?;
            for statement in super::disable_live_row_security::<E>() {
                manager.get_connection().execute_raw(statement).await?;
            }
            Ok(())
        }
    }

    /// A sea-orm-migration migration that installs `E`'s guard against a raw `DELETE`
    /// ([`guard_hard_delete`](super::guard_hard_delete)); `down` removes it. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// # mod user {
    /// #     use sea_orm::entity::prelude::*;
    /// #     #[soft_delete_core::soft_delete]
    /// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    /// #     #[sea_orm(table_name = "users")]
    /// #     pub struct Model {
    /// #         #[sea_orm(primary_key)]
    /// #         pub id: i64,
    /// #     }
    /// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    /// #     pub enum Relation {}
    /// #     impl ActiveModelBehavior for ActiveModel {}
    /// # }
    /// use sea_orm_migration::MigrationName;
    /// use soft_delete_core::outside::GuardHardDelete;
    ///
    /// assert_eq!(
    ///     GuardHardDelete::<user::Entity>::new().name(),
    ///     "m_soft_delete_users_guard_hard_delete"
    /// );
    /// ```
    pub struct GuardHardDelete<E> {
        name: String,
        _entity: PhantomData<fn() -> E>,
    }

    impl<E> std::fmt::Debug for GuardHardDelete<E> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("GuardHardDelete")
                .field("name", &self.name)
                .finish()
        }
    }

    impl<E: SoftDelete> GuardHardDelete<E> {
        /// The guard of `E`'s table.
        pub fn new() -> Self {
            GuardHardDelete {
                name: format!("m_soft_delete_{}", super::guard_name::<E>()),
                _entity: PhantomData,
            }
        }
    }

    impl<E: SoftDelete> Default for GuardHardDelete<E> {
        fn default() -> Self {
            Self::new()
        }
    }

    impl<E> MigrationName for GuardHardDelete<E> {
        fn name(&self) -> &str {
            &self.name
        }
    }

    #[allow(elided_lifetimes_in_paths)]
    #[async_trait::async_trait]
    impl<E: SoftDelete> MigrationTrait for GuardHardDelete<E> {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let statements = super::guard_hard_delete::<E>(manager.get_database_backend())
                .map_err(DbErr::Migration)?;
            for statement in statements {
                manager.get_connection().execute_raw(statement).await?;
            }
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            for statement in super::unguard_hard_delete::<E>(manager.get_database_backend()) {
                manager.get_connection().execute_raw(statement).await?;
            }
            Ok(())
        }
    }
}
