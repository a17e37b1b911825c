//! Identifiers of the domain's entities: integers that cannot be mixed up.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An integer key, stored and sent as the bare integer.
macro_rules! integer_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

integer_id!(
    /// A user's primary key.
    UserPk
);
integer_id!(
    /// A customer's (tenant's) primary key.
    GroupPk
);
integer_id!(
    /// A customer's DKIM key, numbered per deployment.
    DkimId
);
integer_id!(
    /// A capability, numbered per deployment (what `revokeCapability` names).
    CapabilityId
);
integer_id!(
    /// A notification, numbered per deployment in the order they are enqueued.
    NotificationId
);
integer_id!(
    /// A news category, numbered per deployment the first time an import meets its name.
    CategoryId
);
