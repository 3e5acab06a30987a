//! [`LogLayer`]: turns tracing events into [`LogEntry`] values for the hub (info and above)
//! and for line sinks (the log files), and carries the request id of the enclosing
//! [`REQUEST_SPAN`] into `requestId`.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::{LogEntry, LogHub, LogLevel, category_of};

/// Name of the span `request_id::assign` opens around each request; its `request_id` field
/// is copied into every entry logged inside it.
pub const REQUEST_SPAN: &str = "request";

/// Writes one JSON line (newline included).
pub type LineWriter = Box<dyn Fn(&[u8]) + Send + Sync>;

/// A destination for entries as JSON lines (one `write` per entry).
pub struct LineSink {
    /// Entries below this level are not written here.
    pub min: LogLevel,
    pub write: LineWriter,
}

/// The layer. Build it with [`LogHub::layer`].
pub struct LogLayer {
    hub: LogHub,
    hub_min: LogLevel,
    sinks: Vec<LineSink>,
}

struct SpanRequestId(String);

fn level_of(l: &Level) -> LogLevel {
    match *l {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        _ => LogLevel::Debug,
    }
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    category: Option<String>,
    request_id: Option<String>,
    data: Map<String, Value>,
}

impl Fields {
    fn put(&mut self, field: &Field, v: Value) {
        match field.name() {
            "message" => {
                self.message = Some(match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
            }
            "category" => self.category = v.as_str().map(str::to_owned),
            "request_id" => self.request_id = v.as_str().map(str::to_owned),
            name if name.starts_with("log.") => {}
            name => {
                self.data.insert(name.to_owned(), v);
            }
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, f: &Field, v: &str) {
        self.put(f, Value::from(v));
    }
    fn record_i64(&mut self, f: &Field, v: i64) {
        self.put(f, Value::from(v));
    }
    fn record_u64(&mut self, f: &Field, v: u64) {
        self.put(f, Value::from(v));
    }
    fn record_f64(&mut self, f: &Field, v: f64) {
        self.put(f, Value::from(v));
    }
    fn record_bool(&mut self, f: &Field, v: bool) {
        self.put(f, Value::from(v));
    }
    fn record_error(&mut self, f: &Field, v: &(dyn std::error::Error + 'static)) {
        self.put(f, Value::from(v.to_string()));
    }
    fn record_debug(&mut self, f: &Field, v: &dyn fmt::Debug) {
        self.put(f, Value::from(format!("{v:?}")));
    }
}

impl LogLayer {
    pub(super) fn new(hub: LogHub, sinks: Vec<LineSink>) -> Self {
        Self {
            hub,
            hub_min: LogLevel::Info,
            sinks,
        }
    }

    fn wanted(&self, level: LogLevel) -> bool {
        level >= self.hub_min || self.sinks.iter().any(|s| level >= s.min)
    }
}

impl<S> Layer<S> for LogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != REQUEST_SPAN {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(rid), Some(span)) = (fields.request_id, ctx.span(id)) {
            span.extensions_mut().insert(SpanRequestId(rid));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = level_of(meta.level());
        if !self.wanted(level) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let request_id = fields.request_id.take().or_else(|| {
            ctx.event_scope(event)?.find_map(|span| {
                span.extensions()
                    .get::<SpanRequestId>()
                    .map(|r| r.0.clone())
            })
        });
        let entry = LogEntry {
            timestamp: signet_model::time::now_iso(),
            level,
            category: fields
                .category
                .unwrap_or_else(|| category_of(meta.target()).to_owned()),
            message: fields.message.unwrap_or_default(),
            data: (!fields.data.is_empty()).then_some(fields.data),
            request_id,
        };
        if self.sinks.iter().any(|s| level >= s.min)
            && let Ok(mut line) = serde_json::to_vec(&entry)
        {
            line.push(b'\n');
            for sink in self.sinks.iter().filter(|s| level >= s.min) {
                (sink.write)(&line);
            }
        }
        if level >= self.hub_min {
            self.hub.push(entry);
        }
    }
}
