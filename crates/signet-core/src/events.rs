//! The live event bus behind `GET /sse`: typed events published by the services (memory
//! created / updated / deleted / recovered, extraction job enqueued, health changes) on a
//! `tokio::sync::broadcast` channel.
//!
//! Publishing never blocks and never fails: with no subscriber the event is dropped, and a
//! subscriber that falls more than [`CAPACITY`] events behind sees `Lagged` (the SSE handler
//! then ends its stream). Events carry `project`, `who` and (internally, never on the wire)
//! `scope_user` so a scope filter can decide per subscriber, and never carry memory content. The wire format is documented in
//! `docs/EVENTS.md`.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

/// Events buffered per subscriber before it counts as lagging.
pub const CAPACITY: usize = 1024;

/// What a memory event says about the memory: identity and scope, no content. Fields are
/// declared in wire order (alphabetical), as are the other events'.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryEvent {
    /// Updates only: whether the content changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_changed: Option<bool>,
    pub id: String,
    pub project: Option<String>,
    /// The memory's `scope_user`, for the scope filter only: not part of the wire format
    /// (upstream's events have no such field, and a user id is not everyone's business).
    #[serde(skip)]
    pub scope_user: Option<String>,
    pub timestamp: String,
    #[serde(rename = "type")]
    pub memory_type: Option<String>,
    /// The memory's version after the change (absent on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    pub who: Option<String>,
}

/// A pipeline job changed state (today: enqueued by remember).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobEvent {
    pub job_type: String,
    pub memory_id: String,
    pub project: Option<String>,
    /// As [`MemoryEvent::scope_user`]: for the scope filter, never serialized.
    #[serde(skip)]
    pub scope_user: Option<String>,
    pub status: String,
    pub timestamp: String,
    pub who: Option<String>,
}

/// The daemon's health changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthEvent {
    /// The database answered the last probe.
    pub db: bool,
    /// `healthy` or `degraded`.
    pub status: String,
    pub timestamp: String,
}

/// The SSE `data:` payload of an event: its body, without the event name (which is the SSE
/// `event:` line).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventData<'a> {
    Memory(&'a MemoryEvent),
    Job(&'a JobEvent),
    Health(&'a HealthEvent),
}

/// `(project, who, scope_user)` of the memory an event is about.
pub type EventScope<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// One live event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    MemoryCreated(MemoryEvent),
    MemoryUpdated(MemoryEvent),
    MemoryDeleted(MemoryEvent),
    MemoryRecovered(MemoryEvent),
    JobEnqueued(JobEvent),
    Health(HealthEvent),
}

impl Event {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MemoryCreated(_) => "memory.created",
            Self::MemoryUpdated(_) => "memory.updated",
            Self::MemoryDeleted(_) => "memory.deleted",
            Self::MemoryRecovered(_) => "memory.recovered",
            Self::JobEnqueued(_) => "job.enqueued",
            Self::Health(_) => "health",
        }
    }

    /// The SSE `data:` payload.
    pub fn data(&self) -> EventData<'_> {
        match self {
            Self::MemoryCreated(m)
            | Self::MemoryUpdated(m)
            | Self::MemoryDeleted(m)
            | Self::MemoryRecovered(m) => EventData::Memory(m),
            Self::JobEnqueued(j) => EventData::Job(j),
            Self::Health(h) => EventData::Health(h),
        }
    }

    /// `(project, who, scope_user)` of the memory the event is about; `None` for daemon-wide
    /// events. Scope filters (team-mode tokens) decide on these.
    pub fn scope(&self) -> Option<EventScope<'_>> {
        let (project, who, user) = match self {
            Self::MemoryCreated(m)
            | Self::MemoryUpdated(m)
            | Self::MemoryDeleted(m)
            | Self::MemoryRecovered(m) => (&m.project, &m.who, &m.scope_user),
            Self::JobEnqueued(j) => (&j.project, &j.who, &j.scope_user),
            Self::Health(_) => return None,
        };
        Some((project.as_deref(), who.as_deref(), user.as_deref()))
    }
}

/// The bus. Cheap to clone; every clone publishes to the same subscribers.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(CAPACITY)
    }
}

impl EventBus {
    /// A bus buffering `capacity` events per subscriber.
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity.max(1)).0,
        }
    }

    /// Sends `event` to every current subscriber (none: dropped).
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(Arc::new(event));
    }

    /// A new subscriber, seeing events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// Whether anyone listens (publishers skip extra reads when nobody does).
    pub fn has_subscribers(&self) -> bool {
        self.tx.receiver_count() > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_events_carry_scope_and_no_content() {
        let ev = Event::MemoryCreated(MemoryEvent {
            id: "m1".into(),
            memory_type: Some("fact".into()),
            project: Some("p".into()),
            who: Some("claude".into()),
            scope_user: Some("ann".into()),
            version: None,
            content_changed: None,
            timestamp: "t".into(),
        });
        assert_eq!(ev.name(), "memory.created");
        let d = serde_json::to_value(ev.data()).unwrap();
        assert_eq!(d["id"], "m1");
        assert_eq!(d["type"], "fact");
        assert!(d.get("content").is_none());
        assert!(d.get("version").is_none());
        assert!(
            d.get("scope_user").is_none() && d.get("scopeUser").is_none(),
            "the user stays off the wire: {d}"
        );
        assert_eq!(ev.scope(), Some((Some("p"), Some("claude"), Some("ann"))));
    }

    #[tokio::test]
    async fn subscribers_see_events_published_after_they_subscribe() {
        let bus = EventBus::new(4);
        assert!(!bus.has_subscribers());
        bus.publish(Event::Health(HealthEvent {
            status: "healthy".into(),
            db: true,
            timestamp: "t0".into(),
        }));
        let mut rx = bus.subscribe();
        let ev = Event::Health(HealthEvent {
            status: "degraded".into(),
            db: false,
            timestamp: "t1".into(),
        });
        bus.publish(ev.clone());
        assert_eq!(*rx.recv().await.unwrap(), ev);
    }
}
