//! The entities declared with a default scope, known by type and by table to code that only has
//! an `EntityTrait` type or a relation's table.
//!
//! A relation's target is a type parameter (`find_related<R: EntityTrait>`) and a junction only
//! a table in a `RelationDef`: Rust cannot ask whether such a type implements [`SoftDelete`],
//! and SeaORM's relation definitions carry no condition of the target's. So the macros register
//! every entity declared with `default_scope` here, when the program starts (a link-time list,
//! the `inventory` crate), and the relation entry points look the target up by its type and the
//! junction by its table. Two entities with a default scope declared on one table (one per
//! backend, say) are told apart by type; a junction found by its table takes one of them, so
//! give such entities the same marker.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::OnceLock;

use sea_orm::EntityName;
use sea_orm::sea_query::{Condition, IntoCondition};

use crate::entity::{DefaultScope, SoftDelete};
use crate::sql::Table;

/// One entity declared with a default scope, as the macro registers it.
#[derive(Debug)]
pub struct Registered {
    type_id: fn() -> TypeId,
    table: fn() -> String,
    scope: fn() -> DefaultScope,
    live: fn() -> Condition,
    deleted: fn() -> Condition,
}

inventory::collect!(Registered);

impl Registered {
    /// The registration of `E`, which the macros submit for an entity with a default scope.
    pub const fn new<E: SoftDelete>() -> Self {
        Registered {
            type_id: type_id_of::<E>,
            table: table_of::<E>,
            scope: E::default_scope,
            live: live_of::<E>,
            deleted: deleted_of::<E>,
        }
    }

    /// The entity's default scope.
    pub(crate) fn scope(&self) -> DefaultScope {
        (self.scope)()
    }

    /// "The row is live", its columns qualified by the entity's table.
    pub(crate) fn live(&self) -> Condition {
        (self.live)()
    }

    /// "The row is soft-deleted", its columns qualified by the entity's table.
    pub(crate) fn deleted(&self) -> Condition {
        (self.deleted)()
    }
}

fn type_id_of<E: 'static>() -> TypeId {
    TypeId::of::<E>()
}

fn table_of<E: EntityName>() -> String {
    Table::of::<E>().to_string()
}

fn live_of<E: SoftDelete>() -> Condition {
    E::marker().live().into_condition()
}

fn deleted_of<E: SoftDelete>() -> Condition {
    E::marker().deleted().into_condition()
}

/// Every registration, by type and by table (`schema.table` where it has a schema).
struct Index {
    by_type: HashMap<TypeId, &'static Registered>,
    by_table: HashMap<String, &'static Registered>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut by_type = HashMap::new();
        let mut by_table = HashMap::new();
        for registered in inventory::iter::<Registered> {
            by_type.insert((registered.type_id)(), registered);
            by_table.entry((registered.table)()).or_insert(registered);
        }
        Index { by_type, by_table }
    })
}

/// The entity `E`'s registration, when it is declared with a default scope.
pub(crate) fn of<E: 'static>() -> Option<&'static Registered> {
    index().by_type.get(&TypeId::of::<E>()).copied()
}

/// The registration of the entity whose table is `table` (`schema.table` where it has a
/// schema), when it is declared with a default scope.
pub(crate) fn of_table(table: &str) -> Option<&'static Registered> {
    index().by_table.get(table).copied()
}
