//! Roles and the permissions each grants (the table of self-hosting.md).

use serde::{Deserialize, Serialize};

/// What a caller must be allowed to do to use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Permission {
    /// Open in every mode: liveness and the auth mode only, nothing secret.
    Open,
    /// Any authenticated caller, whatever its role: routes such as `/mcp` whose operations
    /// each authorize their own permission.
    Authenticated,
    Remember,
    Recall,
    Modify,
    Forget,
    Recover,
    Documents,
    Connectors,
    Diagnostics,
    Analytics,
    Admin,
}

impl Permission {
    /// The name used in error messages and docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Authenticated => "authenticated",
            Self::Remember => "remember",
            Self::Recall => "recall",
            Self::Modify => "modify",
            Self::Forget => "forget",
            Self::Recover => "recover",
            Self::Documents => "documents",
            Self::Connectors => "connectors",
            Self::Diagnostics => "diagnostics",
            Self::Analytics => "analytics",
            Self::Admin => "admin",
        }
    }
}

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Operator,
    Agent,
    Readonly,
}

impl Role {
    /// Every role, strongest first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Operator, Role::Agent, Role::Readonly];

    /// The role's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Agent => "agent",
            Self::Readonly => "readonly",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role grants `p`.
    pub fn grants(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Self::Admin => true,
            Self::Operator => p != Admin,
            Self::Agent => matches!(
                p,
                Open | Authenticated | Remember | Recall | Modify | Forget | Recover | Documents
            ),
            Self::Readonly => matches!(p, Open | Authenticated | Recall),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_table_of_the_operators_guide() {
        use Permission::*;
        let all = [
            Remember,
            Recall,
            Modify,
            Forget,
            Recover,
            Documents,
            Connectors,
            Diagnostics,
            Analytics,
            Admin,
        ];
        let granted = |r: Role| all.iter().filter(|p| r.grants(**p)).count();
        assert_eq!(granted(Role::Admin), 10);
        assert_eq!(granted(Role::Operator), 9);
        assert!(!Role::Operator.grants(Admin));
        assert_eq!(granted(Role::Agent), 6);
        assert!(!Role::Agent.grants(Diagnostics) && !Role::Agent.grants(Connectors));
        assert_eq!(granted(Role::Readonly), 1);
        assert!(Role::Readonly.grants(Recall));
        assert!(Role::ALL.iter().all(|r| r.grants(Authenticated)));
    }
}
