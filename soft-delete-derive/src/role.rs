//! The columns this crate knows about and what each must look like.

/// A column the generated code refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    DeletedAt,
    DeletedBy,
    DeletionReason,
    /// The id of the operation that soft-deleted the row (`operation_id` option).
    DeletionOp,
    CreatedAt,
    CreatedBy,
    UpdatedAt,
    UpdatedBy,
}

/// The value kind a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Timestamp,
    Text,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::DeletedAt,
        Role::DeletedBy,
        Role::DeletionReason,
        Role::DeletionOp,
        Role::CreatedAt,
        Role::CreatedBy,
        Role::UpdatedAt,
        Role::UpdatedBy,
    ];

    /// The option key, which is also the default field name.
    pub fn key(self) -> &'static str {
        match self {
            Role::DeletedAt => "deleted_at",
            Role::DeletedBy => "deleted_by",
            Role::DeletionReason => "deletion_reason",
            Role::DeletionOp => "deletion_op",
            Role::CreatedAt => "created_at",
            Role::CreatedBy => "created_by",
            Role::UpdatedAt => "updated_at",
            Role::UpdatedBy => "updated_by",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.key() == key)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn kind(self) -> Kind {
        match self {
            Role::DeletedAt | Role::CreatedAt | Role::UpdatedAt => Kind::Timestamp,
            Role::DeletedBy
            | Role::DeletionReason
            | Role::DeletionOp
            | Role::CreatedBy
            | Role::UpdatedBy => Kind::Text,
        }
    }

    /// Soft-delete columns are NULL while a row is active, so they must be `Option`s; audit
    /// columns may be declared either way.
    pub fn must_be_option(self) -> bool {
        matches!(
            self,
            Role::DeletedAt | Role::DeletedBy | Role::DeletionReason | Role::DeletionOp
        )
    }

    pub fn is_audit(self) -> bool {
        !self.must_be_option()
    }

    pub fn is_update_audit(self) -> bool {
        matches!(self, Role::UpdatedAt | Role::UpdatedBy)
    }

    /// The type written for an injected field, and shown in error messages.
    pub fn expected_type(self) -> &'static str {
        match (self.kind(), self.must_be_option()) {
            (Kind::Timestamp, true) => "Option<DateTimeUtc>",
            (Kind::Text, true) => "Option<String>",
            (Kind::Timestamp, false) => "Option<DateTimeUtc>` or `DateTimeUtc",
            (Kind::Text, false) => "Option<String>` or `String",
        }
    }
}
