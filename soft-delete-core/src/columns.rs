//! The columns a soft-delete entity keeps its deletions in: the marker, who, why, the operation,
//! and the audit columns. The entity's description, and its cascade's, are made of these.

use crate::marker::Marker;

/// The audit columns of an entity, as [`SoftDelete::audit_columns`](crate::SoftDelete::audit_columns)
/// returns them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditColumns<C> {
    /// When a row was created.
    pub created_at: C,
    /// Who created a row.
    pub created_by: C,
    /// When a row was last updated, if tracked.
    pub updated_at: Option<C>,
    /// Who last updated a row, if tracked.
    pub updated_by: Option<C>,
}

impl<C> AuditColumns<C> {
    /// The same columns as other values (e.g. `DynIden`s).
    pub(crate) fn map<D>(self, mut f: impl FnMut(C) -> D) -> AuditColumns<D> {
        AuditColumns {
            created_at: f(self.created_at),
            created_by: f(self.created_by),
            updated_at: self.updated_at.map(&mut f),
            updated_by: self.updated_by.map(&mut f),
        }
    }
}

/// Every column a soft delete or a restore writes, for one entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Columns<C> {
    pub(crate) marker: Marker<C>,
    pub(crate) deleted_by: C,
    pub(crate) deletion_reason: C,
    pub(crate) deletion_op: Option<C>,
    pub(crate) audit: Option<AuditColumns<C>>,
}

impl<C> Columns<C> {
    /// The same columns as other values (e.g. `DynIden`s).
    pub(crate) fn map<D>(self, mut f: impl FnMut(C) -> D) -> Columns<D> {
        Columns {
            marker: self.marker.map(&mut f),
            deleted_by: f(self.deleted_by),
            deletion_reason: f(self.deletion_reason),
            deletion_op: self.deletion_op.map(&mut f),
            audit: self.audit.map(|audit| audit.map(&mut f)),
        }
    }
}
