//! Token scopes: the slice of memories a token may see and change.
//!
//! A memory's `project` column is its project, its `who` column (the agent that wrote it) is
//! its agent, and its `scope_user` column (our migration 1001) is its user. `scope_user` is
//! stamped only by writes of user-scoped tokens, from the token's scope (never from the request
//! body); every other writer, upstream included, leaves it NULL. A memory whose column is unset
//! is outside a scope that sets the field (fail closed; upstream lets every unset field pass,
//! which makes a scope a suggestion), so a `user`-scoped token sees only what it, or another
//! token of the same user, wrote.

use serde::{Deserialize, Serialize};

/// `{project?, agent?, user?}`; an empty scope restricts nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl Scope {
    /// A scope that restricts nothing (admin, local callers, unscoped tokens).
    pub fn unrestricted() -> Self {
        Self::default()
    }

    /// Whether the scope restricts nothing.
    pub fn is_empty(&self) -> bool {
        self.project.is_none() && self.agent.is_none() && self.user.is_none()
    }

    /// Whether a memory with this `project`, `who` and `scope_user` is inside the scope; the
    /// error names the scope that excludes it.
    pub fn admits(
        &self,
        project: Option<&str>,
        who: Option<&str>,
        user: Option<&str>,
    ) -> Result<(), String> {
        if let Some(p) = &self.project
            && project != Some(p.as_str())
        {
            return Err(format!("scope restricted to project '{p}'"));
        }
        if let Some(a) = &self.agent
            && who != Some(a.as_str())
        {
            return Err(format!("scope restricted to agent '{a}'"));
        }
        if let Some(u) = &self.user
            && user != Some(u.as_str())
        {
            return Err(format!("scope restricted to user '{u}'"));
        }
        Ok(())
    }

    /// Checks that a value a caller asked for (a filter or a field of a new memory) is inside
    /// the scope's `field`, and returns the value to use: the scope's when the caller gave none.
    pub fn pin(
        &self,
        field: &'static str,
        asked: Option<String>,
    ) -> Result<Option<String>, String> {
        let own = match field {
            "project" => &self.project,
            _ => &self.agent,
        };
        match (own, asked) {
            (None, asked) => Ok(asked),
            (Some(own), None) => Ok(Some(own.clone())),
            (Some(own), Some(a)) if *own == a => Ok(Some(a)),
            (Some(own), Some(_)) => {
                let kind = if field == "project" {
                    "project"
                } else {
                    "agent"
                };
                Err(format!("scope restricted to {kind} '{own}'"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(p: &str) -> Scope {
        Scope {
            project: Some(p.into()),
            ..Scope::default()
        }
    }

    #[test]
    fn a_project_scope_admits_only_its_project() {
        let s = project("acme");
        assert!(s.admits(Some("acme"), None, None).is_ok());
        assert!(s.admits(Some("acme"), None, Some("ann")).is_ok());
        assert_eq!(
            s.admits(Some("other"), None, None).unwrap_err(),
            "scope restricted to project 'acme'"
        );
        assert!(
            s.admits(None, None, None).is_err(),
            "unset project is outside"
        );
        assert!(Scope::default().admits(None, None, None).is_ok());
    }

    #[test]
    fn pinning_fills_in_and_refuses_escapes() {
        let s = project("acme");
        assert_eq!(s.pin("project", None).unwrap().as_deref(), Some("acme"));
        assert!(s.pin("project", Some("evil".into())).is_err());
        assert_eq!(
            s.pin("who", Some("x".into())).unwrap().as_deref(),
            Some("x")
        );
    }

    #[test]
    fn a_user_scope_admits_only_memories_stamped_with_its_user() {
        let s = Scope {
            user: Some("ann".into()),
            ..Scope::default()
        };
        assert!(s.admits(Some("a"), Some("b"), Some("ann")).is_ok());
        assert!(s.admits(None, None, Some("ann")).is_ok());
        assert_eq!(
            s.admits(Some("a"), Some("b"), Some("bob")).unwrap_err(),
            "scope restricted to user 'ann'"
        );
        assert!(
            s.admits(Some("a"), Some("b"), None).is_err(),
            "an unstamped memory is outside"
        );
    }

    #[test]
    fn every_set_field_must_match() {
        let s = Scope {
            project: Some("acme".into()),
            user: Some("ann".into()),
            ..Scope::default()
        };
        assert!(s.admits(Some("acme"), None, Some("ann")).is_ok());
        assert!(s.admits(Some("acme"), None, Some("bob")).is_err());
        assert!(s.admits(Some("other"), None, Some("ann")).is_err());
    }
}
