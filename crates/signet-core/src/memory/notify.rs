//! What the memory service tells the rest of the daemon after a committed change: live
//! events on the [`EventBus`] (identity and scope only, never content) and analytics errors
//! for mutation conflicts. Scope lookups for mutation events run only while someone listens.

use signet_model::MemoryStore;
use signet_model::memories::{Actor, MutationOutcome};
use signet_model::time::now_iso;

use super::Memories;
use crate::analytics::{Analytics, ErrorEntry, Stage, codes};
use crate::events::{Event, EventBus, JobEvent, MemoryEvent};

impl Memories {
    /// Publishes on `events` and records errors in `analytics` (instead of private ones).
    pub fn with_telemetry(mut self, events: EventBus, analytics: Analytics) -> Self {
        self.semantic.attach_analytics(analytics.clone());
        self.events = events;
        self.analytics = analytics;
        self
    }

    /// The live event bus.
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// The analytics collector.
    pub fn analytics(&self) -> &Analytics {
        &self.analytics
    }

    /// `memory.created` (and `job.enqueued` when an extraction job was queued with it).
    pub(crate) fn publish_created(
        &self,
        id: &str,
        memory_type: Option<&str>,
        project: Option<&str>,
        who: &str,
        scope_user: Option<&str>,
        job: bool,
    ) {
        let timestamp = now_iso();
        self.events.publish(Event::MemoryCreated(MemoryEvent {
            id: id.to_owned(),
            memory_type: memory_type.map(str::to_owned),
            project: project.map(str::to_owned),
            who: Some(who.to_owned()),
            scope_user: scope_user.map(str::to_owned),
            version: None,
            content_changed: None,
            timestamp: timestamp.clone(),
        }));
        if job {
            self.events.publish(Event::JobEnqueued(JobEvent {
                job_type: "extract".into(),
                memory_id: id.to_owned(),
                status: "pending".into(),
                project: project.map(str::to_owned),
                who: Some(who.to_owned()),
                scope_user: scope_user.map(str::to_owned),
                timestamp,
            }));
        }
    }
}

/// After a committed mutation (on a blocking thread): the matching event, and a conflict
/// recorded as an analytics error.
pub(crate) fn after_commit(
    events: &EventBus,
    analytics: &Analytics,
    store: &dyn MemoryStore,
    id: &str,
    outcome: &MutationOutcome,
    actor: &Actor,
) {
    if let Some(e) = conflict(id, outcome, actor) {
        analytics.record_error(e);
    }
    if !events.has_subscribers() {
        return;
    }
    let (version, content_changed) = match outcome {
        MutationOutcome::Updated {
            new,
            content_changed,
            ..
        } => (*new, Some(*content_changed)),
        MutationOutcome::Deleted { new, .. } | MutationOutcome::Recovered { new, .. } => {
            (*new, None)
        }
        _ => return,
    };
    let scope = store.memory_scope(id).ok().flatten().unwrap_or_default();
    let m = MemoryEvent {
        id: id.to_owned(),
        memory_type: Some(scope.memory_type),
        project: scope.project,
        who: scope.who,
        scope_user: scope.scope_user,
        version: Some(version),
        content_changed,
        timestamp: now_iso(),
    };
    events.publish(match outcome {
        MutationOutcome::Updated { .. } => Event::MemoryUpdated(m),
        MutationOutcome::Deleted { .. } => Event::MemoryDeleted(m),
        _ => Event::MemoryRecovered(m),
    });
}

fn conflict(id: &str, outcome: &MutationOutcome, actor: &Actor) -> Option<ErrorEntry> {
    let (code, message) = match outcome {
        MutationOutcome::VersionConflict { current } => (
            codes::MUTATION_CONFLICT,
            format!("version conflict (current version {current})"),
        ),
        MutationOutcome::AutonomousForceDenied { .. } => (
            codes::MUTATION_SCOPE_DENIED,
            "autonomous agents cannot force-delete pinned memories".to_owned(),
        ),
        _ => return None,
    };
    Some(mutation_error(code, message, id, actor))
}

/// A mutation-stage analytics error about memory `id`, attributed to `actor`.
pub(crate) fn mutation_error(code: &str, message: String, id: &str, actor: &Actor) -> ErrorEntry {
    let mut e = ErrorEntry::now(Stage::Mutation, code, message);
    e.memory_id = Some(id.to_owned());
    e.request_id = actor.request_id.clone();
    e.actor = Some(actor.changed_by.clone()).filter(|a| !a.is_empty());
    e
}
