//! The columns this crate knows about and what each must look like.

/// A column the generated code refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    DeletedAt,
    /// A boolean marker, TRUE once the row is deleted (`flag` option).
    Flag,
    /// A reversed boolean marker, TRUE while the row is live (`active` option).
    Active,
    /// An integer marker: 0 while live, the deletion time since 1970 after (`epoch` option).
    Epoch,
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
    Bool,
    Integer,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::DeletedAt,
        Role::Flag,
        Role::Active,
        Role::Epoch,
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
            Role::Flag => "flag",
            Role::Active => "active",
            Role::Epoch => "epoch",
            Role::DeletedBy => "deleted_by",
            Role::DeletionReason => "deletion_reason",
            Role::DeletionOp => "deletion_op",
            Role::CreatedAt => "created_at",
            Role::CreatedBy => "created_by",
            Role::UpdatedAt => "updated_at",
            Role::UpdatedBy => "updated_by",
        }
    }

    /// The field a role's column goes by when its option names none: the key, but for the
    /// markers, which are named for what they hold.
    pub fn default_field(self) -> &'static str {
        match self {
            Role::Flag => "is_deleted",
            Role::Active => "is_active",
            Role::Epoch => "deleted_epoch",
            other => other.key(),
        }
    }

    /// The markers other than the timestamp: at most one of them, chosen by its option.
    pub fn is_marker(self) -> bool {
        matches!(self, Role::Flag | Role::Active | Role::Epoch)
    }

    /// Roles whose option may be written bare (`flag`, `deleted_at`), meaning the column under
    /// its default name.
    pub fn may_be_bare(self) -> bool {
        self.is_marker() || self == Role::DeletedAt
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
            Role::Flag | Role::Active => Kind::Bool,
            Role::Epoch => Kind::Integer,
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
        matches!(
            self,
            Role::CreatedAt | Role::CreatedBy | Role::UpdatedAt | Role::UpdatedBy
        )
    }

    pub fn is_update_audit(self) -> bool {
        matches!(self, Role::UpdatedAt | Role::UpdatedBy)
    }

    /// The types a declared field may have, as error messages name them.
    pub fn expected_type(self) -> &'static str {
        match (self.kind(), self.must_be_option()) {
            (Kind::Bool, _) => {
                "`bool` or an integer (`i8`, `i16`, `i32`, `i64`, `u8`, `u16`, `u32`, `u64`)"
            }
            (Kind::Integer, _) => "`i64` or `i32`",
            (Kind::Timestamp, true) => {
                "`Option<DateTimeUtc>`, `Option<DateTimeWithTimeZone>` or `Option<DateTime>` \
                 (naive, read and written as UTC)"
            }
            (Kind::Text, true) => "`Option<String>`",
            (Kind::Timestamp, false) => {
                "`DateTimeUtc`, `DateTimeWithTimeZone` or `DateTime` (naive, read and written as \
                 UTC), or an `Option` of one"
            }
            (Kind::Text, false) => "`Option<String>` or `String`",
        }
    }
}
