//! The dashboard in a real browser: headless Debian `chromium` driven over CDP (chromiumoxide)
//! against an in-process daemon on an ephemeral port, seeded through the API.
//!
//! Every page records console messages, uncaught exceptions and browser log entries
//! (`Runtime.consoleAPICalled`, `Runtime.exceptionThrown`, `Log.entryAdded`); any error or
//! warning fails the test. Tests wait for `main[data-ready="true"]` (the shared dashboard
//! contract) and for the selectors they check, never for a fixed time.
//!
//! Chromium comes from `scripts/test.sh` (apt `chromium`); without it these tests fail and say
//! so. `SIGNET_CHROMIUM` points at another binary.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::input::{
    DispatchMouseEventParams, DispatchMouseEventType, MouseButton,
};
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EvaluateParams, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use futures_util::StreamExt;
use serde_json::{Value, json};
use signet_server::logs::{LogEntry, LogLevel};

use crate::common::TestServer;

/// How long any one wait may take (a loaded 2-core CI machine runs the whole suite at once).
const DEADLINE: Duration = Duration::from_secs(45);
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;

/// The Chromium binary: `SIGNET_CHROMIUM`, else `chromium` on `PATH`.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("SIGNET_CHROMIUM") {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "the dashboard's browser tests need Debian's chromium, which is not on PATH: \
         run scripts/test.sh (it installs it), or `apt-get install -y chromium`, \
         or set SIGNET_CHROMIUM"
    );
}

/// One headless Chromium with a fresh profile; its CDP handler polled in a task.
pub struct Chrome {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    _profile: tempfile::TempDir,
}

impl Chrome {
    pub async fn launch() -> Self {
        let profile = tempfile::tempdir().unwrap();
        let config = BrowserConfig::builder()
            .chrome_executable(chromium())
            .no_sandbox()
            .user_data_dir(profile.path())
            .window_size(WIDTH, HEIGHT)
            .viewport(Viewport {
                width: WIDTH,
                height: HEIGHT,
                device_scale_factor: Some(1.0),
                ..Viewport::default()
            })
            .launch_timeout(DEADLINE)
            .request_timeout(DEADLINE)
            .args([
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .build()
            .unwrap();
        let (browser, mut handler) = Browser::launch(config)
            .await
            .unwrap_or_else(|e| panic!("chromium did not start ({e}): run scripts/test.sh"));
        let handler = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                // A message chromiumoxide cannot decode is not fatal; a closed socket is.
                if let Err(chromiumoxide::error::CdpError::Ws(_)) = event {
                    break;
                }
            }
        });
        Self {
            browser,
            handler,
            _profile: profile,
        }
    }

    /// A new tab on `base` + `#/hash`; with `token`, `sessionStorage["signet.token"]` holds it
    /// before any of the page's scripts run.
    pub async fn open(&self, base: &str, hash: &str, token: Option<&str>) -> Tab {
        let page = self.browser.new_page("about:blank").await.unwrap();
        let problems = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut tasks = Vec::new();

        let mut console = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .unwrap();
        let p = problems.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(e) = console.next().await {
                let bad = matches!(
                    e.r#type,
                    ConsoleApiCalledType::Error
                        | ConsoleApiCalledType::Warning
                        | ConsoleApiCalledType::Assert
                );
                if bad {
                    let args: Vec<String> = e
                        .args
                        .iter()
                        .map(|a| {
                            a.value
                                .as_ref()
                                .map(|v| v.to_string())
                                .or_else(|| a.description.clone())
                                .unwrap_or_default()
                        })
                        .collect();
                    p.lock()
                        .unwrap()
                        .push(format!("console.{:?}: {}", e.r#type, args.join(" ")));
                }
            }
        }));
        let mut thrown = page.event_listener::<EventExceptionThrown>().await.unwrap();
        let p = problems.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(e) = thrown.next().await {
                let d = &e.exception_details;
                let what = d
                    .exception
                    .as_ref()
                    .and_then(|x| x.description.clone())
                    .unwrap_or_else(|| d.text.clone());
                p.lock().unwrap().push(format!(
                    "uncaught exception at {}:{}: {what}",
                    d.url.clone().unwrap_or_default(),
                    d.line_number
                ));
            }
        }));
        let mut log = page.event_listener::<EventEntryAdded>().await.unwrap();
        let p = problems.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(e) = log.next().await {
                let entry = &e.entry;
                if matches!(entry.level, LogEntryLevel::Error | LogEntryLevel::Warning) {
                    p.lock().unwrap().push(format!(
                        "log {:?} ({:?}): {} {}",
                        entry.level,
                        entry.source,
                        entry.text,
                        entry.url.clone().unwrap_or_default()
                    ));
                }
            }
        }));

        if let Some(t) = token {
            let script = format!(
                "sessionStorage.setItem('signet.token', {});",
                serde_json::to_string(t).unwrap()
            );
            page.evaluate_on_new_document(script).await.unwrap();
        }
        let tab = Tab {
            page,
            problems,
            allowed: Vec::new(),
            tasks,
        };
        let hash = hash.trim_start_matches('#');
        tab.page
            .goto(format!("{base}/#{hash}"))
            .await
            .unwrap_or_else(|e| panic!("opening {base}/#{hash}: {e}"));
        tab
    }

    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
    }
}

/// One tab and the problems (console errors and warnings, exceptions, log entries) it saw.
pub struct Tab {
    pub page: chromiumoxide::Page,
    problems: Arc<Mutex<Vec<String>>>,
    /// Problems a test expects (a 401 before signing in): substrings that excuse a problem.
    allowed: Vec<String>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Tab {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Tab {
    /// Excuses the problems that contain `needle` (say `status of 401`).
    pub fn allow(&mut self, needle: &str) {
        self.allowed.push(needle.to_owned());
    }

    /// Fails on any error or warning the page reported so far (minus the allowed ones).
    pub fn assert_clean(&self, context: &str) {
        let problems: Vec<String> = self
            .problems
            .lock()
            .unwrap()
            .iter()
            .filter(|p| !self.allowed.iter().any(|a| p.contains(a.as_str())))
            .cloned()
            .collect();
        assert!(
            problems.is_empty(),
            "{context}: the page reported errors or warnings:\n  {}",
            problems.join("\n  ")
        );
    }

    /// Evaluates `js` (awaiting a promise) and returns its JSON value.
    pub async fn eval(&self, js: &str) -> Value {
        let params = EvaluateParams::builder()
            .expression(js)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .unwrap();
        let res = self
            .page
            .evaluate_expression(params)
            .await
            .unwrap_or_else(|e| panic!("evaluating {js}: {e}"));
        res.value().cloned().unwrap_or(Value::Null)
    }

    /// Waits until the expression `js` is truthy; panics with `what` after the deadline.
    pub async fn wait_for(&self, js: &str, what: &str) -> Value {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let probe =
            format!("(() => {{ try {{ return ({js}); }} catch (e) {{ return null; }} }})()");
        loop {
            let v = self.eval(&probe).await;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                let main = self
                    .eval("document.querySelector('main')?.outerHTML?.slice(0, 3000) ?? document.body?.outerHTML?.slice(0, 3000)")
                    .await;
                let problems = self.problems.lock().unwrap().clone();
                panic!(
                    "waited {DEADLINE:?} for {what} ({js}); page problems: {problems:?}; \
                     <main>: {main}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for an element matching `sel`.
    pub async fn wait_sel(&self, sel: &str) {
        self.wait_for(&format!("document.querySelector({})", js_str(sel)), sel)
            .await;
    }

    /// Waits until `view` is drawn: `main[data-view=view][data-ready="true"]`.
    pub async fn wait_ready(&self, view: &str) {
        let sel = format!("main[data-view=\"{view}\"][data-ready=\"true\"]");
        self.wait_for(
            &format!("document.querySelector({})", js_str(&sel)),
            &format!("the {view} view to be ready ({sel})"),
        )
        .await;
    }

    /// How many elements match `sel`.
    pub async fn count(&self, sel: &str) -> usize {
        let v = self
            .eval(&format!(
                "document.querySelectorAll({}).length",
                js_str(sel)
            ))
            .await;
        v.as_u64().unwrap_or(0) as usize
    }

    /// The text of the first element matching `sel` (waits for it).
    pub async fn text(&self, sel: &str) -> String {
        self.wait_sel(sel).await;
        let v = self
            .eval(&format!(
                "document.querySelector({}).textContent",
                js_str(sel)
            ))
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Clicks the first element matching `sel` (waits for it).
    pub async fn click(&self, sel: &str) {
        self.wait_sel(sel).await;
        self.eval(&format!(
            "(() => {{ document.querySelector({}).click(); return true; }})()",
            js_str(sel)
        ))
        .await;
    }

    /// Sets the value of the form control `sel` (checkboxes: "true"/"false") and fires
    /// `input` and `change` as typing would.
    pub async fn fill(&self, sel: &str, value: &str) {
        self.wait_sel(sel).await;
        self.eval(&format!(
            "(() => {{ const el = document.querySelector({}); \
             if (el.type === 'checkbox') el.checked = {} === 'true'; else el.value = {}; \
             el.dispatchEvent(new Event('input', {{ bubbles: true }})); \
             el.dispatchEvent(new Event('change', {{ bubbles: true }})); return true; }})()",
            js_str(sel),
            js_str(value),
            js_str(value)
        ))
        .await;
    }

    /// Submits the form `sel` as its submit button would (`requestSubmit`).
    pub async fn submit(&self, sel: &str) {
        self.wait_sel(sel).await;
        self.eval(&format!(
            "(() => {{ document.querySelector({}).requestSubmit(); return true; }})()",
            js_str(sel)
        ))
        .await;
    }

    /// A real mouse click at page coordinates (CSS pixels).
    pub async fn mouse_click(&self, x: f64, y: f64) {
        for kind in [
            DispatchMouseEventType::MouseMoved,
            DispatchMouseEventType::MousePressed,
            DispatchMouseEventType::MouseReleased,
        ] {
            let mut b = DispatchMouseEventParams::builder()
                .r#type(kind.clone())
                .x(x)
                .y(y);
            if kind != DispatchMouseEventType::MouseMoved {
                b = b.button(MouseButton::Left).click_count(1);
            }
            self.page.execute(b.build().unwrap()).await.unwrap();
        }
    }

    /// A real mouse click in the middle of the first element matching `sel` (waits for it).
    pub async fn mouse_click_sel(&self, sel: &str) {
        self.wait_sel(sel).await;
        let at = self
            .eval(&format!(
                "(() => {{ const el = document.querySelector({}); el.scrollIntoView({{ block: 'center' }}); \
                 const r = el.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }})()",
                js_str(sel)
            ))
            .await;
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        self.mouse_click(x, y).await;
    }

    /// Saves a 1280×900 screenshot of the viewport: to `docs/screenshots/<name>.png` when
    /// `SIGNET_UPDATE_SCREENSHOTS=1`, else to a scratch folder (a test run leaves the
    /// repository's tracked pictures alone).
    pub async fn screenshot(&self, name: &str) {
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap();
        // Nothing animating or focused-by-accident in the picture: wait for two frames.
        self.eval(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))",
        )
        .await;
        self.page
            .save_screenshot(
                ScreenshotParams::builder().build(),
                dir.join(format!("{name}.png")),
            )
            .await
            .unwrap();
    }
}

/// `docs/screenshots/` at the repository's root when updating them, else a scratch folder.
fn screenshots_dir() -> PathBuf {
    if std::env::var("SIGNET_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
    } else {
        std::env::temp_dir().join("signet-dashboard-screenshots")
    }
}

/// `s` as a JavaScript string literal.
fn js_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Remembers a varied set of memories (types, tags, who, projects, pinned) and returns their
/// ids; enough for every view to have something to draw.
async fn seed(s: &TestServer) -> Vec<String> {
    let rows = [
        (
            "The deploy pipeline runs on Fridays after the freeze lifts",
            "fact",
            "deploy,ci",
            "alice",
            "atlas",
            0.7,
            false,
        ),
        (
            "We decided to rotate the signing keys every ninety days",
            "decision",
            "security,keys",
            "bob",
            "atlas",
            0.9,
            true,
        ),
        (
            "Alice prefers tabs over spaces in Go code",
            "preference",
            "style",
            "alice",
            "atlas",
            0.4,
            false,
        ),
        (
            "The staging database lives on host db-staging-2",
            "fact",
            "infra,db",
            "carol",
            "borealis",
            0.6,
            false,
        ),
        (
            "Use the read replica for analytics queries",
            "decision",
            "db,analytics",
            "carol",
            "borealis",
            0.8,
            false,
        ),
        (
            "Bob is on call the first week of every month",
            "fact",
            "oncall",
            "bob",
            "borealis",
            0.5,
            false,
        ),
        (
            "Never log bearer tokens, even at debug level",
            "rule",
            "security,logging",
            "alice",
            "cygnus",
            1.0,
            true,
        ),
        (
            "The search ranking fuses keyword and vector scores",
            "fact",
            "search",
            "dave",
            "cygnus",
            0.6,
            false,
        ),
        (
            "Carol likes short status updates in the morning",
            "preference",
            "team",
            "carol",
            "cygnus",
            0.3,
            false,
        ),
        (
            "Release notes are drafted from merged pull requests",
            "fact",
            "release",
            "dave",
            "atlas",
            0.5,
            false,
        ),
        (
            "Rotate the API keys before the quarterly audit",
            "decision",
            "security,keys,audit",
            "bob",
            "atlas",
            0.7,
            false,
        ),
        (
            "The embedding model is all-MiniLM-L6-v2 with 384 dimensions",
            "fact",
            "embeddings",
            "dave",
            "cygnus",
            0.6,
            false,
        ),
    ];
    let mut ids = Vec::new();
    for (content, ty, tags, who, project, importance, pinned) in rows {
        let (st, v) = s
            .remember_json(json!({
                "content": content, "type": ty, "tags": tags, "who": who,
                "project": project, "importance": importance, "pinned": pinned,
            }))
            .await;
        assert!(st.is_success(), "{v}");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    // A search or two so the analytics have something to chart.
    for q in ["signing keys", "database host"] {
        let (st, v) = s.recall(json!({ "query": q })).await;
        assert!(st.is_success(), "{v}");
    }
    ids
}

/// A log entry stamped now, as the daemon's tracing layer writes them to its hub.
fn log_entry(level: LogLevel, category: &str, message: &str) -> LogEntry {
    LogEntry {
        timestamp: chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string(),
        level,
        category: category.into(),
        message: message.into(),
        data: None,
        request_id: None,
    }
}

/// Every view, with the `data-view` the shell sets for it.
const VIEWS: [&str; 7] = [
    "overview", "memories", "map", "live", "pipeline", "settings", "tokens",
];

#[tokio::test]
async fn every_view_loads_without_console_errors_and_is_photographed() {
    let s = TestServer::start().await;
    seed(&s).await;
    // A few of the daemon's log lines for the live view's picture.
    for (level, category, message) in [
        (LogLevel::Info, "daemon", "listening on 127.0.0.1:3850"),
        (LogLevel::Info, "memory", "remembered 12 memories"),
        (
            LogLevel::Warn,
            "pipeline",
            "extraction paused: no provider configured",
        ),
        (LogLevel::Info, "api", "POST /api/memory/recall 200"),
    ] {
        s.logs.push(log_entry(level, category, message));
    }
    let chrome = Chrome::launch().await;
    let tab = chrome.open(&s.base, "#/overview", None).await;
    tab.wait_ready("overview").await;
    for view in VIEWS {
        // As a person would: a real click on the navigation link.
        tab.mouse_click_sel(&format!("a[data-nav=\"{view}\"]"))
            .await;
        tab.wait_ready(view).await;
        let hash = tab.eval("location.hash").await;
        assert_eq!(hash, json!(format!("#/{view}")));
        tab.screenshot(view).await;
        tab.assert_clean(&format!("#/{view}"));
    }
    drop(tab);
    chrome.close().await;
    s.shutdown().await;
}

/// The number an element shows (`None` for a dash or anything else).
fn number(text: &str) -> Option<f64> {
    text.trim().parse().ok().filter(|n: &f64| n.is_finite())
}

/// The `id` of the seeded memory whose content contains `needle`.
async fn id_of(s: &TestServer, needle: &str) -> String {
    let (_, v) = s.get("/api/memories?limit=1000").await;
    v["memories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["content"].as_str().unwrap_or_default().contains(needle))
        .unwrap_or_else(|| panic!("no memory with {needle:?}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_search_shows_ranked_results_with_their_score_source_and_explanation_panel() {
    let s = TestServer::start().await;
    seed(&s).await;
    let keys = id_of(&s, "rotate the signing keys").await;
    let chrome = Chrome::launch().await;
    let tab = chrome.open(&s.base, "#/memories", None).await;
    tab.wait_ready("memories").await;
    tab.fill("form[data-search] input[name=q]", "rotate signing keys")
        .await;
    tab.submit("form[data-search]").await;
    // A recall's results carry a score and the explanation panel (the plain listing has neither).
    tab.wait_sel("li[data-memory-id] [data-score]").await;
    tab.wait_sel("li[data-memory-id] [data-explain]").await;
    let first = tab
        .eval("document.querySelector('li[data-memory-id]').dataset.memoryId")
        .await;
    assert_eq!(first, json!(keys), "the best match comes first");
    let source = tab
        .text(&format!("li[data-memory-id=\"{keys}\"] [data-source]"))
        .await;
    assert!(!source.trim().is_empty(), "a source leg is shown");

    let li = format!("li[data-memory-id=\"{keys}\"]");
    assert_eq!(
        tab.eval(&format!(
            "document.querySelector('{li} [data-explain]').hidden"
        ))
        .await,
        json!(true),
        "the explanation starts folded"
    );
    tab.click(&format!("{li} [data-action=explain]")).await;
    tab.wait_for(
        &format!("!document.querySelector('{li} [data-explain]').hidden"),
        "the explanation to open",
    )
    .await;
    // The final number is the score the result shows.
    let score: f64 = tab
        .eval(&format!(
            "Number(document.querySelector('{li} [data-score]').dataset.score)"
        ))
        .await
        .as_f64()
        .unwrap();
    let fin = number(
        &tab.text(&format!("{li} [data-explain] [data-part=final]"))
            .await,
    )
    .expect("[data-part=final] is a number");
    assert!((score - fin).abs() < 0.01, "score {score}, final {fin}");
    for part in ["keyword", "vector", "fused"] {
        tab.wait_sel(&format!("{li} [data-explain] [data-part={part}]"))
            .await;
    }
    tab.assert_clean("search and explain");
    drop(tab);
    chrome.close().await;
    s.shutdown().await;
}

#[tokio::test]
async fn editing_a_memory_adds_one_history_event_and_forget_then_recover_restores_it() {
    let s = TestServer::start().await;
    seed(&s).await;
    let id = id_of(&s, "Release notes are drafted").await;
    let chrome = Chrome::launch().await;
    let tab = chrome
        .open(&s.base, &format!("#/memories/{id}"), None)
        .await;
    tab.wait_ready("memories").await;
    tab.wait_sel("section[data-detail] [data-field=content]")
        .await;
    let before = tab.count("ol[data-history] > li").await;
    assert!(before >= 1, "a new memory has its creation event");

    // Edit.
    tab.click("[data-action=edit]").await;
    let edited = "Release notes are drafted from merged pull requests and reviewed on Monday";
    tab.fill("textarea[name=content]", edited).await;
    tab.fill(
        "form[data-edit] input[name=reason]",
        "the review step was missing",
    )
    .await;
    tab.click("[data-action=save]").await;
    tab.wait_for(
        &format!(
            "document.querySelectorAll('ol[data-history] > li').length === {}",
            before + 1
        ),
        "the history to grow by one",
    )
    .await;
    assert_eq!(tab.text("[data-field=content]").await, edited);
    let last = tab.text("ol[data-history] > li:last-child").await;
    assert!(last.contains("the review step was missing"), "{last}");
    let (_, m) = s.get(&format!("/api/memory/{id}")).await;
    assert_eq!(m["content"], edited, "{m}");
    tab.screenshot("memory").await;

    // Forget: a reason, then confirm.
    tab.click("[data-action=forget]").await;
    tab.fill(
        "form[data-forget] input[name=reason]",
        "superseded by the wiki",
    )
    .await;
    tab.click("[data-action=confirm-forget]").await;
    tab.wait_sel("[data-action=recover]").await;
    assert_eq!(
        tab.count("[data-action=edit]").await,
        0,
        "a deleted memory has no edit"
    );
    let (st, _) = s.get(&format!("/api/memory/{id}")).await;
    assert_eq!(
        st,
        reqwest::StatusCode::NOT_FOUND,
        "forgotten on the server"
    );

    // Recover.
    tab.click("[data-action=recover]").await;
    tab.wait_sel("[data-action=edit]").await;
    assert_eq!(tab.count("[data-action=recover]").await, 0);
    let (st, m) = s.get(&format!("/api/memory/{id}")).await;
    assert_eq!(st, reqwest::StatusCode::OK, "{m}");
    assert_eq!(m["content"], edited);
    assert_eq!(
        tab.count("ol[data-history] > li").await,
        before + 3,
        "edit, delete and recover are each one event"
    );
    tab.assert_clean("edit, forget, recover");
    drop(tab);
    chrome.close().await;
    s.shutdown().await;
}

#[tokio::test]
async fn a_log_line_and_a_memory_event_arrive_on_the_live_view() {
    let s = TestServer::start().await;
    let chrome = Chrome::launch().await;
    let tab = chrome.open(&s.base, "#/live", None).await;
    tab.wait_ready("live").await;
    tab.wait_sel("ol[data-log]").await;
    tab.wait_sel("ol[data-events]").await;
    // The daemon's log hub is what its tracing layer writes to.
    s.logs.push(log_entry(
        LogLevel::Info,
        "config",
        "dashboard browser test: a line on the live stream",
    ));
    tab.wait_for(
        "[...document.querySelectorAll('ol[data-log] > li')].some(li => li.textContent.includes('a line on the live stream'))",
        "the log line on the live view",
    )
    .await;
    // A remember is a memory event on the /sse feed.
    s.remember("the live view shows this remember").await;
    tab.wait_for(
        "document.querySelectorAll('ol[data-events] > li').length > 0",
        "a memory event on the /sse feed",
    )
    .await;
    // An entry's full JSON on click.
    tab.click("ol[data-log] > li:last-child").await;
    let json_text = tab.text("pre[data-json]").await;
    assert!(
        json_text.contains("a line on the live stream"),
        "{json_text}"
    );
    tab.assert_clean("live");
    drop(tab);
    chrome.close().await;
    s.shutdown().await;
}

#[tokio::test]
async fn settings_are_saved_and_an_invalid_one_is_refused_with_nothing_written() {
    let s = TestServer::start_with_yaml(Some("search:\n  alpha: 0.7\n")).await;
    let file = s.workspace.join("agent.yaml");
    let chrome = Chrome::launch().await;
    let tab = chrome.open(&s.base, "#/settings", None).await;
    tab.wait_ready("settings").await;
    let shown = tab
        .eval("document.querySelector('textarea[name=agent-yaml]').value")
        .await;
    assert_eq!(shown, json!("search:\n  alpha: 0.7\n"));

    let good = "search:\n  alpha: 0.6\n";
    tab.fill("textarea[name=agent-yaml]", good).await;
    tab.click("[data-action=save-config]").await;
    tab.wait_sel("[data-message]").await;
    assert_eq!(std::fs::read_to_string(&file).unwrap(), good);

    let bad = "memory:\n  pipelineV2:\n    guardrails:\n      maxContentChars: 3\n";
    tab.fill("textarea[name=agent-yaml]", bad).await;
    tab.click("[data-action=save-config]").await;
    let err = tab
        .wait_for(
            "document.querySelector('main [data-error]')?.textContent",
            "the refusal",
        )
        .await;
    let err = err.as_str().unwrap();
    assert!(
        err.contains("maxContentChars"),
        "the refusal names the key: {err}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        good,
        "nothing written"
    );
    // The refused save answered 400, which the browser logs as a failed resource.
    let mut tab = tab;
    tab.allow("status of 400");
    tab.assert_clean("settings");
    drop(tab);
    chrome.close().await;
    s.shutdown().await;
}

#[tokio::test]
async fn each_result_explains_its_keyword_vector_and_fused_scores() {
    let s = TestServer::start().await;
    seed(&s).await;
    let keys = id_of(&s, "rotate the signing keys").await;
    let chrome = Chrome::launch().await;
    let tab = chrome.open(&s.base, "#/memories", None).await;
    tab.wait_ready("memories").await;
    tab.fill("form[data-search] input[name=q]", "rotate signing keys")
        .await;
    tab.submit("form[data-search]").await;
    let li = format!("li[data-memory-id=\"{keys}\"]");
    tab.click(&format!("{li} [data-action=explain]")).await;
    let mut parts = Vec::new();
    for part in ["keyword", "vector", "fused", "final"] {
        let t = tab
            .text(&format!("{li} [data-explain] [data-part={part}]"))
            .await;
        let n = number(&t).unwrap_or_else(|| panic!("[data-part={part}] is not a number: {t:?}"));
        assert!(n >= 0.0, "{part}: {n}");
        parts.push(n);
    }
    // Both legs found this one (its words and its vector match the query).
    assert!(parts[0] > 0.0 && parts[1] > 0.0, "{parts:?}");
    // The numbers are the daemon's (the legs and their fusion do not move with access counts).
    let (_, v) = s
        .recall(json!({ "query": "rotate signing keys", "explain": true }))
        .await;
    let hit = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(keys))
        .unwrap_or_else(|| panic!("{v}"));
    for (i, part) in ["keyword", "vector", "fused"].into_iter().enumerate() {
        let api = hit["explain"][part]
            .as_f64()
            .unwrap_or_else(|| panic!("{hit}"));
        assert!(
            (api - parts[i]).abs() < 0.001,
            "{part}: page {}, API {api}",
            parts[i]
        );
    }
    tab.assert_clean("explain");
    drop(tab);
    chrome.close().await;
    s.shutdown().await;
}

/// Remembers `n` distinct memories through the API, eight requests at a time.
async fn seed_many(s: &TestServer, n: usize) {
    let client = reqwest::Client::new();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    let words = [
        "deploy", "keys", "database", "search", "vector", "release", "oncall", "audit", "cache",
        "queue", "token", "schema", "backup", "metrics", "latency", "index",
    ];
    let whos = ["alice", "bob", "carol", "dave"];
    for _ in 0..8 {
        let (client, next, url) = (
            client.clone(),
            next.clone(),
            format!("{}/api/memory/remember", s.base),
        );
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let (a, b) = (words[i % words.len()], words[(i / words.len()) % words.len()]);
                let body = json!({
                    "content": format!("note {i}: the {a} of the {b} service, revision {}", i * 7919 % 10007),
                    "who": whos[i % whos.len()],
                    "importance": (i % 10) as f64 / 10.0,
                });
                let res = client.post(&url).json(&body).send().await.unwrap();
                assert!(res.status().is_success(), "{}", res.text().await.unwrap());
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r.unwrap();
    }
    // Vectors are written in the background: wait until every memory has one.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (_, v) = s.get("/api/memories?limit=1").await;
        if v["stats"]["withEmbeddings"].as_u64() == Some(n as u64) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} memories never all got a vector: {}",
            v["stats"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_embedding_map_draws_ten_thousand_points_and_a_click_selects_one() {
    let s = TestServer::start().await;
    seed_many(&s, 10_000).await;
    let chrome = Chrome::launch().await;
    let tab = chrome.open(&s.base, "#/map", None).await;
    tab.wait_ready("map").await;
    let points = tab
        .wait_for(
            "document.querySelector('canvas[data-map]')?.dataset.points",
            "the map's point count",
        )
        .await;
    assert_eq!(points, json!("10000"));
    // A real mouse click in the middle of the canvas selects the nearest point.
    let at = tab
        .eval(
            "(() => { const r = document.querySelector('canvas[data-map]').getBoundingClientRect(); \
             return [r.left + r.width / 2, r.top + r.height / 2]; })()",
        )
        .await;
    let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
    tab.mouse_click(x, y).await;
    let id = tab
        .wait_for(
            "document.querySelector('[data-map-selected]')?.dataset.mapSelected",
            "[data-map-selected] after a click",
        )
        .await;
    let id = id.as_str().unwrap().to_owned();
    let (st, m) = s.get(&format!("/api/memory/{id}")).await;
    assert!(st.is_success(), "the selected point is a memory: {m}");
    let content = m["content"].as_str().unwrap().to_owned();
    tab.wait_for(
        &format!(
            "document.querySelector('[data-map-selected]').textContent.includes({})",
            js_str(&content)
        ),
        "the selected memory's content",
    )
    .await;
    let href = tab
        .eval("document.querySelector('[data-map-selected] a[href^=\"#/memories/\"]')?.getAttribute('href')")
        .await;
    assert_eq!(
        href,
        json!(format!("#/memories/{id}")),
        "a link to its detail"
    );
    tab.screenshot("map-selected").await;
    tab.assert_clean("map");
    drop(tab);
    chrome.close().await;
    s.shutdown().await;
}

#[tokio::test]
async fn team_mode_asks_for_a_token_and_a_readonly_one_gets_no_write_buttons() {
    use crate::auth::{TEAM, post_as, token};
    use signet_core::auth::{Role, Scope};
    let s = TestServer::start_with_yaml(Some(TEAM)).await;
    let admin = token(&s, Role::Admin, "root", Scope::default());
    let readonly = token(&s, Role::Readonly, "viewer", Scope::default());
    let (st, v) = post_as(
        &s,
        "/api/memory/remember",
        json!({"content": "team mode keeps this memory safe from readers"}),
        &admin,
    )
    .await;
    assert!(st.is_success(), "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let chrome = Chrome::launch().await;

    // No token: the sign-in form, no view.
    let tab = chrome.open(&s.base, "#/overview", None).await;
    tab.wait_sel("form[data-signin] input[name=token]").await;
    assert_eq!(
        tab.count("[data-stat]").await,
        0,
        "nothing behind the sign-in"
    );
    tab.screenshot("signin").await;
    // Signing in with an admin token shows the overview.
    tab.fill("form[data-signin] input[name=token]", &admin)
        .await;
    tab.submit("form[data-signin]").await;
    tab.wait_ready("overview").await;
    let memories = tab.text("[data-stat=memories]").await;
    assert!(memories.contains('1'), "{memories}");
    assert_eq!(tab.count("form[data-signin]").await, 0);
    let stored = tab.eval("sessionStorage.getItem('signet.token')").await;
    assert_eq!(stored, json!(admin), "the token is kept in sessionStorage");
    let url = tab.eval("location.href").await;
    assert!(!url.as_str().unwrap().contains(&admin), "never in the URL");
    tab.assert_clean("team sign-in");
    drop(tab);

    // A readonly token: the memory's detail has no write buttons.
    let mut tab = chrome
        .open(&s.base, &format!("#/memories/{id}"), Some(&readonly))
        .await;
    tab.wait_ready("memories").await;
    tab.wait_sel("section[data-detail] [data-field=content]")
        .await;
    for action in ["edit", "forget"] {
        assert_eq!(
            tab.count(&format!("[data-action={action}]")).await,
            0,
            "a readonly token sees no {action} button"
        );
    }
    // …and the API refuses a write forced from the page.
    let status = tab
        .eval(&format!(
            "fetch('/api/memory/{id}', {{ method: 'PATCH', headers: {{ \
               'Authorization': 'Bearer ' + sessionStorage.getItem('signet.token'), \
               'Content-Type': 'application/json' }}, \
               body: JSON.stringify({{ content: 'forced', reason: 'forced' }}) }}).then(r => r.status)"
        ))
        .await;
    assert_eq!(status, json!(403));
    let (_, m) = crate::auth::get_as(&s, &format!("/api/memory/{id}"), &admin).await;
    assert_eq!(
        m["content"],
        "team mode keeps this memory safe from readers"
    );
    // The forced write's 403 is the browser's own log line, expected here.
    tab.allow("status of 403");
    tab.assert_clean("readonly");
    drop(tab);
    chrome.close().await;
    s.shutdown().await;
}
