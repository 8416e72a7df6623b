//! What an account is and whether it may be used: the values the database's CHECK
//! constraints allow, as types rather than strings compared in many places.

/// The kind of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AccountKind {
    /// A user of ZSZO at an institution.
    Zszo,
    /// An institution's PZO administrator account, held by its director.
    PzoAdmin,
    /// The department's own staff (administrators, operators, auditors).
    Staff,
    /// A person of procedure D's register (a local government's or the ministry's
    /// employee): signs in to the console; revocation says what he may do.
    Sio,
}

/// Whether an account may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    /// Created in the central admin panel, waiting for its user to confirm his e-mail address
    /// on the access portal (procedure C); it signs in only there.
    Pending,
    /// Locked by the department (`accounts set-status`): no sign-in, sessions ended.
    Locked,
    /// Disabled: no sign-in, and no new starting password.
    Disabled,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Pending => "pending",
            AccountStatus::Locked => "locked",
            AccountStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<AccountStatus> {
        [
            AccountStatus::Active,
            AccountStatus::Pending,
            AccountStatus::Locked,
            AccountStatus::Disabled,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}
