use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tracing_subscriber::layer::SubscriberExt;

use super::*;

fn entry(level: LogLevel, category: &str, ts: &str) -> LogEntry {
    LogEntry {
        timestamp: ts.into(),
        level,
        category: category.into(),
        message: format!("{category} {level:?}"),
        data: None,
        request_id: None,
    }
}

#[test]
fn events_become_entries_with_category_data_and_request_id() {
    let hub = LogHub::new(10);
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let l2 = lines.clone();
    let sink = LineSink {
        min: LogLevel::Warn,
        write: Box::new(move |b| l2.lock().unwrap().push(String::from_utf8_lossy(b).into())),
    };
    let subscriber = tracing_subscriber::registry().with(hub.layer(vec![sink]));
    tracing::subscriber::with_default(subscriber, || {
        tracing::debug!(target: "memory", "not kept");
        tracing::info!(target: "signet_core::semantic::worker", batch = 3, "embedded");
        let span = tracing::info_span!(REQUEST_SPAN, request_id = "req-42");
        let _g = span.enter();
        tracing::warn!(category = "auth", user = "x", "denied");
    });
    let all = hub.recent(&LogQuery {
        limit: 10,
        ..Default::default()
    });
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].category, "embedding");
    assert_eq!(all[0].data.as_ref().unwrap()["batch"], 3);
    assert_eq!(all[0].request_id, None);
    assert_eq!(all[1].category, "auth");
    assert_eq!(all[1].level, LogLevel::Warn);
    assert_eq!(all[1].message, "denied");
    assert_eq!(all[1].request_id.as_deref(), Some("req-42"));
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), 1, "only warn+ reaches this sink");
    let back: LogEntry = serde_json::from_str(lines[0].trim_end()).unwrap();
    assert_eq!(back, all[1]);
}

#[test]
fn categories_follow_the_documented_mapping() {
    assert_eq!(category_of("daemon"), "daemon");
    assert_eq!(category_of("signet_core::memory::remember"), "memory");
    assert_eq!(category_of("signet_core::embedding"), "embedding");
    assert_eq!(category_of("signet_server::permission"), "auth");
    assert_eq!(category_of("signet_server::routes::memory"), "api");
    assert_eq!(category_of("signet_server::daemon"), "daemon");
    assert_eq!(category_of("signet::daemon::run"), "daemon");
    assert_eq!(category_of("signet_store::pool"), "store");
    assert_eq!(
        category_of("signet_serverx"),
        "signet_serverx",
        "not under signet_server"
    );
    assert_eq!(category_of("hyper::proto::h1"), "system");
}

#[test]
fn the_ring_is_bounded_and_queries_filter() {
    let hub = LogHub::new(3);
    hub.push(entry(LogLevel::Info, "api", "2026-01-01T00:00:00.000Z"));
    hub.push(entry(LogLevel::Error, "memory", "2026-01-02T00:00:00.000Z"));
    hub.push(entry(LogLevel::Warn, "api", "2026-01-03T00:00:00.000Z"));
    hub.push(entry(LogLevel::Info, "memory", "2026-01-04T00:00:00.000Z"));
    assert_eq!(hub.len(), 3);
    let q = |pairs: &[(&str, &str)]| {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LogQuery::from_params(&m)
    };
    let warn = hub.recent(&q(&[("level", "warn")]).unwrap());
    assert_eq!(warn.len(), 2);
    let mem = hub.recent(&q(&[("category", "memory")]).unwrap());
    assert_eq!(mem.len(), 2);
    let since = hub.recent(&q(&[("since", "2026-01-03T00:00:00Z")]).unwrap());
    assert_eq!(since.len(), 2);
    let last = hub.recent(&q(&[("limit", "1")]).unwrap());
    assert_eq!(last[0].timestamp, "2026-01-04T00:00:00.000Z");
    assert!(q(&[("limit", "0")]).is_err());
    assert!(q(&[("level", "loud")]).is_err());
    assert!(q(&[("since", "yesterday")]).is_err());
}

#[test]
fn the_tail_of_a_log_file_is_loaded_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("daemon.out.log");
    let mut text = String::from("not json\n");
    for i in 0..5 {
        let mut e = entry(LogLevel::Info, "daemon", "2026-01-01T00:00:00.000Z");
        e.message = format!("m{i}");
        text.push_str(&serde_json::to_string(&e).unwrap());
        text.push('\n');
    }
    text.push_str(&serde_json::to_string(&entry(LogLevel::Debug, "x", "t")).unwrap());
    std::fs::write(&path, text).unwrap();
    let hub = LogHub::new(3);
    assert_eq!(hub.load_tail(&path).unwrap(), 3);
    let got = hub.recent(&LogQuery {
        limit: 10,
        ..Default::default()
    });
    let msgs: Vec<&str> = got.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(msgs, ["m2", "m3", "m4"]);
}
