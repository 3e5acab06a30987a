//! The harness hooks end to end: a scripted session (session start, prompts with remembers
//! and recalls, pre-compaction, compaction complete, session end with a Claude Code
//! transcript) against a daemon on an ephemeral port, in local mode and in team mode with a
//! project-scoped agent token and the session token it asks for; then what was stored.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use signet_core::auth::{Role, Scope};

use crate::auth::{TEAM, as_bearer, project, token};
use crate::common::TestServer;
use crate::diagnostics::db;

/// How a script's requests authenticate.
#[derive(Clone)]
struct Client<'a> {
    s: &'a TestServer,
    bearer: Option<String>,
}

impl Client<'_> {
    async fn hook(&self, name: &str, body: Value) -> (StatusCode, Value) {
        self.hook_with(name, body, &[]).await
    }

    async fn hook_with(
        &self,
        name: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let path = format!("/api/hooks/{name}");
        let auth = self.bearer.as_ref().map(|t| format!("Bearer {t}"));
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = &auth {
            all.push(("authorization", a.as_str()));
        }
        self.s
            .call_with(Method::POST, &path, Some(body), &all)
            .await
    }

    async fn ok(&self, name: &str, body: Value) -> Value {
        let (st, v) = self.hook(name, body).await;
        assert_eq!(st, StatusCode::OK, "{name}: {v}");
        v
    }
}

/// Writes a Claude Code JSONL transcript long enough to be summarised.
fn transcript(dir: &std::path::Path) -> String {
    let mut lines = vec![json!({"type": "summary", "summary": "deploy work"}).to_string()];
    for i in 0..6 {
        let user = json!({"type": "user", "message": {"role": "user",
            "content": format!("Question {i}: how does the deploy script pick the region for the staging cluster?")}});
        let assistant = json!({"type": "assistant", "message": {"role": "assistant", "content": [
            {"type": "text", "text": format!("Answer {i}: it reads DEPLOY_REGION and falls back to eu-west-1 for staging.")},
            {"type": "tool_use", "name": "Bash", "input": {"command": "cat scripts/deploy.sh"}}]}});
        lines.push(user.to_string());
        lines.push(assistant.to_string());
    }
    let path = dir.join("transcript.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    path.to_string_lossy().into_owned()
}

/// What the script leaves for the checks of the store.
struct Outcome {
    remembered: String,
    summary: String,
    job: String,
}

/// The scripted session; `proj` is the project the session runs in (the token's, in team
/// mode). Checks every answer on the way.
async fn script(c: &Client<'_>, key: &str, proj: &str) -> Outcome {
    let start = json!({"harness": "claude-code", "sessionKey": key, "project": proj,
        "runtimePath": "plugin"});
    let v = c.ok("session-start", start.clone()).await;
    assert_eq!(
        v["identity"],
        json!({"name": "Nova", "description": "a careful deploy helper"})
    );
    let inject = v["inject"].as_str().unwrap();
    assert!(
        inject.starts_with("[memory active | /remember | /recall]\n\n# Current Date & Time\n"),
        "{inject}"
    );
    assert!(
        inject.contains("## Agent Instructions\nAlways run the tests first."),
        "{inject}"
    );
    assert!(
        inject.contains("## Working Memory\nThe staging cluster is being migrated."),
        "{inject}"
    );
    assert!(
        inject.contains("## Relevant Memories (auto-loaded | scored by importance x recency | "),
        "{inject}"
    );
    assert!(
        inject.contains("- the staging deploy runs from scripts/deploy.sh [ops]"),
        "{inject}"
    );
    assert_eq!(v["recentContext"], "The staging cluster is being migrated.");
    assert!(
        v["memories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["type"].is_string() && m["importance"].is_number())
    );

    let again = c.ok("session-start", start).await;
    assert_eq!(
        again["identity"],
        json!({"name": "Agent"}),
        "a repeated start is the short stub"
    );
    assert_eq!(again["memories"], json!([]));
    assert!(
        again["inject"]
            .as_str()
            .unwrap()
            .starts_with("[memory active | /remember | /recall]\n# Current Date & Time\n")
    );

    // The session belongs to the plugin path: the legacy hooks are refused.
    let (st, e) = c
        .hook(
            "user-prompt-submit",
            json!({"harness": "claude-code", "sessionKey": key,
            "runtimePath": "legacy", "userMessage": "anything"}),
        )
        .await;
    assert_eq!(
        (st, e),
        (
            StatusCode::CONFLICT,
            json!({"error": "session claimed by plugin path"})
        )
    );

    let remembered = c
        .ok("remember", json!({"harness": "claude-code", "sessionKey": key,
            "content": "[Deploy,Ops]: the deploy region comes from DEPLOY_REGION", "idempotencyKey": format!("{key}-1")}))
        .await;
    assert_eq!(
        (remembered["success"].clone(), remembered["saved"].clone()),
        (json!(true), json!(true))
    );
    let id = remembered["id"].as_str().unwrap().to_owned();
    let retry = c
        .ok(
            "remember",
            json!({"harness": "claude-code", "sessionKey": key,
            "content": "a retried write with other text", "idempotencyKey": format!("{key}-1")}),
        )
        .await;
    assert_eq!(
        (retry["id"].as_str(), retry["deduped"].clone()),
        (Some(id.as_str()), json!(true))
    );
    let same = c
        .ok("remember", json!({"harness": "claude-code", "content": "the deploy region comes from DEPLOY_REGION", "who": "tester"}))
        .await;
    assert_eq!(
        same["id"].as_str(),
        Some(id.as_str()),
        "content dedup as any remember"
    );

    let prompt = json!({"harness": "claude-code", "sessionKey": key, "project": proj,
        "userMessage": "Conversation info (untrusted metadata): {\"chat\": \"x\"}\nwhich DEPLOY_REGION does the deploy use?"});
    let p = c.ok("user-prompt-submit", prompt.clone()).await;
    assert!(p["memoryCount"].as_u64().unwrap() >= 1, "{p}");
    assert_eq!(p["engine"], "hybrid");
    let terms = p["queryTerms"].as_str().unwrap();
    assert!(
        terms.contains("deploy_region") && !terms.contains("untrusted") && !terms.contains("chat"),
        "{terms}"
    );
    let text = p["inject"].as_str().unwrap();
    assert!(text.starts_with("# Current Date & Time\n"), "{text}");
    assert!(
        text.contains(&format!("[signet:recall | query=\"{terms}\" | results=")),
        "{text}"
    );
    assert!(
        text.contains("- the deploy region comes from DEPLOY_REGION ("),
        "{text}"
    );
    assert!(
        text.contains(&format!("IDs: {id}")) || text.contains(&id),
        "{text}"
    );
    // The same prompt right after does not inject the same memories again.
    let repeat = c.ok("user-prompt-submit", prompt).await;
    assert!(
        !repeat["inject"]
            .as_str()
            .unwrap()
            .contains("DEPLOY_REGION ("),
        "{repeat}"
    );
    let nothing = c
        .ok(
            "user-prompt-submit",
            json!({"harness": "claude-code", "sessionKey": key, "userPrompt": "zzqxv wwkkj"}),
        )
        .await;
    assert_eq!(nothing["memoryCount"], 0);
    assert!(
        nothing["inject"]
            .as_str()
            .unwrap()
            .starts_with("# Current Date & Time\n")
    );
    assert!(nothing.get("queryTerms").is_none());

    let r = c
        .ok("recall", json!({"harness": "claude-code", "sessionKey": key, "query": "deploy region", "limit": 5}))
        .await;
    let results = r["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() <= 5, "{r}");
    assert_eq!(r["memories"], r["results"], "memories is the same list");
    assert_eq!(r["count"], results.len());
    let scores: Vec<f64> = results
        .iter()
        .map(|x| x["score"].as_f64().unwrap())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "ranked: {scores:?}"
    );
    assert_eq!(results[0]["id"], id.as_str());

    let skipped = c
        .hook_with(
            "recall",
            json!({"harness": "h", "query": "deploy"}),
            &[("x-signet-no-hooks", "1")],
        )
        .await;
    assert_eq!(
        skipped,
        (
            StatusCode::OK,
            json!({"results": [], "memories": [], "count": 0})
        )
    );

    let pre = c
        .ok(
            "pre-compaction",
            json!({"harness": "claude-code", "sessionKey": key}),
        )
        .await;
    let prompt = pre["summaryPrompt"].as_str().unwrap();
    assert!(
        prompt.starts_with("Pre-compaction memory flush. Store durable memories now.\n\n"),
        "{prompt}"
    );
    assert!(prompt.contains(pre["guidelines"].as_str().unwrap()));
    assert!(
        prompt.contains("\nRecent memories for reference:\n- "),
        "{prompt}"
    );

    let summary = "We moved the staging deploy to eu-west-1. ".repeat(20);
    let done = c
        .ok(
            "compaction-complete",
            json!({"harness": "claude-code", "sessionKey": key, "summary": summary}),
        )
        .await;
    assert_eq!(done["success"], true);
    let summary_id = done["memoryId"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let (st, e) = c
        .hook(
            "session-end",
            json!({"harness": "claude-code", "transcriptPath": dir.path()}),
        )
        .await;
    assert_eq!(
        (st, e["error"].clone()),
        (
            StatusCode::BAD_REQUEST,
            json!("transcriptPath is not a regular file")
        )
    );
    let end = c
        .ok(
            "session-end",
            json!({"harness": "claude-code", "sessionKey": key, "cwd": proj,
            "transcriptPath": transcript(dir.path())}),
        )
        .await;
    assert_eq!(
        (end["memoriesSaved"].clone(), end["queued"].clone()),
        (json!(0), json!(true)),
        "{end}"
    );
    let job = end["jobId"].as_str().unwrap().to_owned();
    Outcome {
        remembered: id,
        summary: summary_id,
        job,
    }
}

/// Writes the workspace's identity files.
fn identity_files(s: &TestServer) {
    std::fs::write(
        s.workspace.join("AGENTS.md"),
        "Always run the tests first.\n",
    )
    .unwrap();
    std::fs::write(
        s.workspace.join("MEMORY.md"),
        "The staging cluster is being migrated.\n",
    )
    .unwrap();
}

/// The agent, and a pipeline that queues work (an ollama provider) in shadow mode, where the
/// summary worker leaves queued transcripts alone for the test to inspect.
const AGENT_YAML: &str = "agent:\n  name: Nova\n  description: a careful deploy helper\n\
    memory:\n  pipelineV2:\n    shadowMode: true\n    extraction:\n      provider: ollama\n      \
    endpoint: http://127.0.0.1:9\n";

/// What the script stored, read back from the database.
fn check_store(s: &TestServer, key: &str, o: &Outcome, who: &str, proj: Option<&str>) {
    let c = db(s);
    let (content, mem_who, source, hash, tags, project): (String, String, String, Option<String>, Option<String>, Option<String>) = c
        .query_row(
            "SELECT content, who, source_type, content_hash, tags, project FROM memories WHERE id = ?1",
            [&o.remembered],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(content, "the deploy region comes from DEPLOY_REGION");
    assert_eq!((mem_who.as_str(), source.as_str()), (who, "explicit"));
    assert!(hash.is_some(), "hooks/remember hashes");
    assert_eq!(tags.as_deref(), Some("deploy,ops"));
    assert_eq!(project.as_deref(), proj);
    // Its `created` event: the actor on the row (migration 1005), no `memory_history` row.
    let creator: Option<String> = c
        .query_row(
            "SELECT created_by FROM memories WHERE id = ?1",
            [&o.remembered],
            |r| r.get(0),
        )
        .unwrap();
    assert!(creator.is_some(), "a created event");

    let (ty, importance, tags, source, hash): (String, f64, String, String, Option<String>) = c
        .query_row(
            "SELECT type, importance, tags, source_type, content_hash FROM memories WHERE id = ?1",
            [&o.summary],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        (ty.as_str(), importance, tags.as_str(), source.as_str()),
        (
            "session_summary",
            0.8,
            "session,summary,claude-code",
            "claude-code"
        )
    );
    assert!(hash.is_some());
    let summaries: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM memories WHERE type = 'session_summary'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(summaries, 1, "one whole memory, not chunks");

    let (status, job_key, harness, job_project, text): (String, Option<String>, String, Option<String>, String) = c
        .query_row(
            "SELECT status, session_key, harness, project, transcript FROM summary_jobs WHERE id = ?1",
            [&o.job],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        (status.as_str(), job_key.as_deref(), harness.as_str()),
        ("pending", Some(key), "claude-code")
    );
    assert_eq!(
        job_project.as_deref(),
        Some(proj.unwrap_or("/home/dev/deploy"))
    );
    assert!(
        text.starts_with("User: Question 0: how does the deploy script"),
        "{text}"
    );
    assert!(
        text.contains("\nAssistant: Answer 0: it reads DEPLOY_REGION"),
        "{text}"
    );
    assert!(
        !text.contains("tool_use") && !text.contains("deploy work"),
        "{text}"
    );

    let (given, injected): (i64, i64) = c
        .query_row(
            "SELECT COUNT(*), COALESCE(SUM(was_injected), 0) FROM session_memories WHERE session_key = ?1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        given >= 2 && injected >= 2,
        "session memories: {given} given, {injected} injected"
    );
    let accessed: i64 = c
        .query_row(
            "SELECT COALESCE(MAX(access_count), 0) FROM memories",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(accessed >= 1, "access tracking");
}

#[tokio::test]
async fn a_scripted_session_in_local_mode() {
    let s = TestServer::start_with_yaml(Some(AGENT_YAML)).await;
    identity_files(&s);
    let (st, _) = s
        .remember_json(
            json!({"content": "critical: [ops]: the staging deploy runs from scripts/deploy.sh"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let c = Client {
        s: &s,
        bearer: None,
    };
    let key = "local-session";
    let (st, v) = s.get(&format!("/api/sessions/{key}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let o = script(&c, key, "/home/dev/deploy").await;
    check_store(&s, key, &o, "claude-code", None);
    let (st, _) = s.get(&format!("/api/sessions/{key}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "session end released the claim");
    let (st, h) = s.get("/api/harnesses").await;
    assert_eq!(st, StatusCode::OK);
    let claude = h["harnesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "claude-code")
        .unwrap()
        .clone();
    assert!(claude["lastSeen"].is_string(), "{h}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_scripted_session_in_team_mode_with_a_session_token() {
    let yaml = format!("{TEAM}{AGENT_YAML}");
    let s = TestServer::start_with_yaml(Some(&yaml)).await;
    identity_files(&s);
    let agent = token(&s, Role::Agent, "claude-code:acme", project("acme"));
    let admin = token(&s, Role::Admin, "root", Scope::default());
    let (st, _) = as_bearer(&s, Method::POST, "/api/memory/remember",
        Some(json!({"content": "critical: [ops]: the staging deploy runs from scripts/deploy.sh", "project": "acme"})), &agent).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = as_bearer(
        &s,
        Method::POST,
        "/api/memory/remember",
        Some(json!({"content": "the other team's deploy secret plan", "project": "other"})),
        &admin,
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    let anonymous = Client {
        s: &s,
        bearer: None,
    };
    let (st, _) = anonymous
        .hook("session-start", json!({"harness": "claude-code"}))
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let reader = token(&s, Role::Readonly, "dash", Scope::default());
    let (st, v) = Client {
        s: &s,
        bearer: Some(reader),
    }
    .hook("remember", json!({"harness": "h", "content": "x"}))
    .await;
    assert_eq!(
        (st, v["error"].clone()),
        (
            StatusCode::FORBIDDEN,
            json!("role 'readonly' lacks 'remember' permission")
        )
    );

    // The agent asks for a session token and runs the session with it.
    let key = "team-session";
    let (st, v) = Client {
        s: &s,
        bearer: Some(agent.clone()),
    }
    .hook(
        "session-start",
        json!({"harness": "claude-code", "sessionKey": "token-request", "sessionToken": true}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(
        !v["inject"].as_str().unwrap().contains("other team"),
        "scoped: {v}"
    );
    let session = v["sessionToken"].as_str().unwrap().to_owned();
    assert!(v["sessionTokenExpiresAt"].is_string());
    let claims = signet_core::auth::decode_claims_unverified(&session).unwrap();
    assert_eq!(
        (
            claims.role,
            claims.scope.project.as_deref(),
            claims.sub.as_str()
        ),
        (Role::Agent, Some("acme"), "claude-code:acme")
    );
    assert!(
        claims.exp - claims.iat <= 3600,
        "never outlives the agent's token"
    );

    let c = Client {
        s: &s,
        bearer: Some(session),
    };
    let o = script(&c, key, "acme").await;
    check_store(&s, key, &o, "claude-code", Some("acme"));
    let (st, _) = c
        .hook(
            "recall",
            json!({"harness": "claude-code", "query": "deploy", "project": "other"}),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "a project-scoped token recalls only its project"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn bypassed_and_skipped_sessions_get_stubs_with_the_same_keys() {
    let s = TestServer::start().await;
    s.remember("a memory the stubs never show").await;
    let c = Client {
        s: &s,
        bearer: None,
    };
    let start = json!({"harness": "codex", "sessionKey": "b1", "runtimePath": "legacy"});
    c.ok("session-start", start.clone()).await;
    let (st, v) = s
        .post("/api/sessions/b1/bypass", json!({"enabled": true}))
        .await;
    assert_eq!(
        (st, v),
        (StatusCode::OK, json!({"key": "b1", "bypassed": true}))
    );
    let call = |extra: Value| {
        let mut b = json!({"harness": "codex", "sessionKey": "b1"});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    let expect = [
        (
            "session-start",
            json!({}),
            json!({"memories": [], "inject": "", "bypassed": true}),
        ),
        (
            "user-prompt-submit",
            json!({"userMessage": "memory"}),
            json!({"inject": "", "memoryCount": 0, "bypassed": true}),
        ),
        (
            "remember",
            json!({"content": "not stored"}),
            json!({"success": true, "saved": false, "bypassed": true}),
        ),
        (
            "recall",
            json!({"query": "memory"}),
            json!({"results": [], "memories": [], "count": 0, "bypassed": true}),
        ),
        (
            "pre-compaction",
            json!({}),
            json!({"summaryPrompt": "", "guidelines": "", "bypassed": true}),
        ),
        (
            "compaction-complete",
            json!({"summary": "not stored"}),
            json!({"success": true, "bypassed": true}),
        ),
        (
            "session-end",
            json!({}),
            json!({"memoriesSaved": 0, "bypassed": true}),
        ),
    ];
    for (hook, extra, want) in expect {
        assert_eq!(c.ok(hook, call(extra)).await, want, "{hook}");
    }
    let (st, _) = s.get("/api/sessions/b1").await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "session end released the bypassed session"
    );
    let stored: i64 = db(&s)
        .query_row(
            "SELECT COUNT(*) FROM memories WHERE content LIKE 'not stored%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0);

    let skip = [("x-signet-no-hooks", "1")];
    let stubs = [
        ("session-start", json!({"memories": [], "inject": ""})),
        (
            "user-prompt-submit",
            json!({"inject": "", "memoryCount": 0}),
        ),
        ("session-end", json!({"memoriesSaved": 0})),
        ("remember", json!({"success": true, "saved": false})),
    ];
    for (hook, want) in stubs {
        let body = json!({"harness": "codex", "userMessage": "m", "content": "skipped write"});
        let (st, v) = c.hook_with(hook, body, &skip).await;
        assert_eq!((st, v), (StatusCode::OK, want), "{hook}");
    }
    let (st, e) = c.hook("session-start", json!({"project": "/p"})).await;
    assert_eq!(
        (st, e),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "harness is required"})
        )
    );
    let (st, e) = c
        .hook("compaction-complete", json!({"harness": "codex"}))
        .await;
    assert_eq!(
        (st, e),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "harness and summary are required"})
        )
    );
    s.shutdown().await;
}

#[tokio::test]
async fn checkpoints_are_read_by_project_and_session_with_secrets_redacted() {
    let s = TestServer::start().await;
    let c = db(&s);
    let now = signet_store::time::format_iso(chrono::Utc::now());
    c.execute(
        "INSERT INTO session_checkpoints (id, session_key, harness, project, project_normalized, \
           trigger, digest, prompt_count, created_at) \
         VALUES ('cp1', 'k1', 'codex', '/nowhere/acme', '/nowhere/acme', 'periodic', \
           'set OPENAI_API_KEY=sk-live-1234567890abcdef and deployed', 4, ?1)",
        [&now],
    )
    .unwrap();
    let (st, v) = s
        .get("/api/checkpoints?project=/nowhere/acme&limit=5")
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["count"], 1);
    assert_eq!(
        v["checkpoints"][0]["digest"],
        "set OPENAI_API_KEY=[REDACTED] and deployed"
    );
    let (st, v) = s.get("/api/checkpoints/k1").await;
    assert_eq!((st, v["count"].clone()), (StatusCode::OK, json!(1)));
    let (st, e) = s.get("/api/checkpoints").await;
    assert_eq!(
        (st, e),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "project is required"})
        )
    );
    // Session start recovers the session's latest checkpoint.
    let start = Client {
        s: &s,
        bearer: None,
    }
    .ok(
        "session-start",
        json!({"harness": "codex", "sessionKey": "k1"}),
    )
    .await;
    let inject = start["inject"].as_str().unwrap();
    assert!(
        inject.ends_with(
            "\n\n## Session Recovery Context\nset OPENAI_API_KEY=[REDACTED] and deployed"
        ),
        "{inject}"
    );
    s.shutdown().await;
}
