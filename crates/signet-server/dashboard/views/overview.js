// Overview: version, uptime, memory counts, embedding coverage, pipeline mode and queue, the
// diagnostics score with its domains and the daemon's advice for each (the report's `advice`,
// the texts `signet doctor` prints), request rate and latency sparklines, LLM usage vs budget.
// A call the caller may not make shows "Not permitted" in its card; the view never breaks.

import { h, replace, clear, fmtNum, fmtDuration, fmtTime, errorNote, sparkline } from "/assets/ui.js";

const SAMPLE_MS = 5000;
const REFRESH_MS = 15000;
const MAX_SAMPLES = 60;

// Samples survive navigation (for as long as the page is open), so the charts keep history.
const samples = { t: [], requests: [], errors: [], recallP50: [], recallP95: [], rememberP50: [], mutateP50: [] };
let lastUsage = null;

function pct(part, whole) {
  if (!whole) return null;
  return Math.max(0, Math.min(100, (100 * part) / whole));
}

function bar(percent, kind) {
  const span = h("span");
  span.style.width = `${percent === null ? 0 : percent.toFixed(1)}%`;
  return h("div", { class: ["bar", kind && `bar-${kind}`], role: "img", "aria-label": percent === null ? "no data" : `${percent.toFixed(0)} percent` }, span);
}

function stat(name, label, value, sub) {
  return h(
    "div",
    { class: "stat", title: sub || null },
    h("div", { class: "stat-label", id: `stat-${name}-label` }, label),
    h("div", { class: "stat-value", dataset: { stat: name }, "aria-labelledby": `stat-${name}-label` }, value),
    sub ? h("div", { class: "stat-sub" }, sub) : null,
  );
}

function statusBadge(status) {
  const kind = { healthy: "accent", degraded: "warn", unhealthy: "danger" }[status] || "";
  return h("span", { class: ["badge", kind && `badge-${kind}`] }, status || "—");
}

function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

const DOMAINS = ["queue", "memory", "storage", "index", "provider", "mutation", "duplicate", "connector", "predictor"];

export async function render(main, ctx) {
  const { api, whoami, can } = ctx;
  const q = (path) => api(path, { quiet: true });

  const statsBox = h("div", { class: "stats" });
  const embedCard = h("section", { class: "card" }, h("h2", null, "Embeddings"));
  const pipeCard = h("section", { class: "card" }, h("h2", null, "Pipeline"));
  const llmCard = h("section", { class: "card" }, h("h2", null, "LLM usage"));
  const diagCard = h("section", { class: "card grid-wide" }, h("h2", null, "Diagnostics"));
  const trafficCard = h("section", { class: "card grid-wide" }, h("h2", null, "Requests and latency"));
  const updated = h("p", { class: "muted", dataset: { updated: "" } });

  main.append(
    h("h1", null, "Overview"),
    statsBox,
    h("div", { class: "grid" }, embedCard, pipeCard, llmCard, diagCard, trafficCard),
    updated,
  );

  const body = (card) => {
    let b = card.querySelector(".card-body");
    if (!b) {
      b = h("div", { class: "card-body" });
      card.append(b);
    }
    return b;
  };

  const denied = () => h("p", { class: "muted", dataset: { denied: "" } }, "Not permitted");

  // ---- stats row + cards ------------------------------------------------------------------
  async function loadAll() {
    const [status, embed, pipe, diag] = await Promise.allSettled([
      q("/api/status"),
      q("/api/embeddings/status"),
      q("/api/pipeline/status"),
      can(whoami, "diagnostics") ? q("/api/diagnostics") : Promise.reject({ status: 403 }),
    ]);
    drawStats(status, pipe, diag);
    drawEmbeddings(embed, status);
    drawPipeline(pipe);
    drawLlm(pipe);
    drawDiagnostics(diag);
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  }

  function drawStats(status, pipe, diag) {
    const s = status.status === "fulfilled" ? status.value : null;
    const p = pipe.status === "fulfilled" ? pipe.value : null;
    const d = diag.status === "fulfilled" ? diag.value : null;
    const na = (r) => (r.reason && r.reason.status === 403 ? "not permitted" : "unavailable");
    const mem = s && s.memories;
    replace(
      statsBox,
      stat("version", "Version", s ? s.version : na(status), s ? `pid ${s.pid}` : null),
      stat("uptime", "Uptime", s ? fmtDuration(s.uptime) : "—", s ? `since ${fmtTime(s.startedAt)}` : null),
      stat("memories", "Memories", mem ? fmtNum(mem.total) : s ? "—" : na(status), mem ? `${fmtNum(mem.critical)} critical` : null),
      stat("auth-mode", "Auth mode", s && s.auth ? s.auth.mode : whoami.mode || "—"),
      stat("pipeline-mode", "Pipeline mode", p ? p.mode : na(pipe), p ? (p.paused ? `paused${p.pausedReason ? ": " + p.pausedReason : ""}` : "running") : null),
      stat(
        "diagnostics-score",
        "Diagnostics score",
        d ? Number(d.score).toFixed(2) : na(diag),
        d ? d.status : null,
      ),
    );
  }

  function drawEmbeddings(embed, status) {
    const b = body(embedCard);
    if (embed.status !== "fulfilled") {
      replace(b, embed.reason && embed.reason.status === 403 ? denied() : errorNote(embed.reason));
      return;
    }
    const e = embed.value;
    const cov = e.coverage;
    const live = cov ? cov.live : status.status === "fulfilled" ? status.value.memories.total : 0;
    const current = cov ? cov.current : status.status === "fulfilled" ? status.value.memories.withEmbeddings : 0;
    const p = pct(current, live);
    replace(
      b,
      h("p", null, h("strong", { dataset: { stat: "embedding-coverage" } }, p === null ? "—" : `${p.toFixed(1)}%`), ` of live memories have a current vector (${fmtNum(current)} of ${fmtNum(live)})`),
      bar(p, p !== null && p < 90 ? "warn" : null),
      kv([
        ["Provider", `${e.provider || "none"}${e.model ? " · " + e.model : ""}`],
        ["Available", e.available ? "yes" : e.loading ? "loading…" : "no"],
        e.keywordOnlyReason ? ["Keyword only", e.keywordOnlyReason] : null,
        cov ? ["Missing", fmtNum(cov.missing)] : null,
        cov ? ["Stale model", fmtNum(cov.staleModel)] : null,
        cov ? ["Orphans", fmtNum(cov.orphans)] : null,
        ["Indexed", fmtNum(e.indexed)],
        e.reembed && e.reembed.running ? ["Re-embedding", `${fmtNum(e.reembed.done)} / ${fmtNum(e.reembed.total)}`] : null,
        e.error ? ["Last error", e.error] : null,
      ]),
    );
  }

  function drawPipeline(pipe) {
    const b = body(pipeCard);
    if (pipe.status !== "fulfilled") {
      replace(b, pipe.reason && pipe.reason.status === 403 ? denied() : errorNote(pipe.reason));
      return;
    }
    const p = pipe.value;
    const queues = p.queues || {};
    const rows = Object.entries(queues).map(([name, qs]) =>
      h(
        "tr",
        null,
        h("th", { scope: "row" }, name),
        ["pending", "leased", "completed", "dead"].map((k) => h("td", { class: "num" }, fmtNum(qs[k]))),
      ),
    );
    replace(
      b,
      kv([
        ["Mode", p.mode],
        ["State", p.paused ? `paused${p.pausedReason ? " — " + p.pausedReason : ""}` : "running"],
        ["Provider", `${p.provider.name}${p.provider.model ? " · " + p.provider.model : ""} (${p.provider.health})`],
        p.provider.lastError ? ["Last error", p.provider.lastError] : null,
      ]),
      h(
        "table",
        { dataset: { queue: "" } },
        h("caption", { class: "visually-hidden" }, "Jobs by queue and status"),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "Queue"), ["Pending", "Leased", "Done", "Dead"].map((t) => h("th", { scope: "col", class: "num" }, t)))),
        h("tbody", null, rows),
      ),
    );
  }

  function drawLlm(pipe) {
    const b = body(llmCard);
    if (pipe.status !== "fulfilled") {
      replace(b, pipe.reason && pipe.reason.status === 403 ? denied() : errorNote(pipe.reason));
      return;
    }
    const { ledger, budget } = pipe.value;
    const day = ledger.lastDay || {};
    const hour = ledger.lastHour || {};
    const tokensDay = (day.inputTokens || 0) + (day.outputTokens || 0);
    const parts = [
      kv([
        ["Calls, last hour", fmtNum(hour.calls)],
        ["Calls, last 24 h", `${fmtNum(day.calls)}${day.errors ? ` (${fmtNum(day.errors)} failed)` : ""}`],
        ["Tokens, last 24 h", fmtNum(tokensDay)],
        ["Calls, all time", fmtNum(ledger.total && ledger.total.calls)],
      ]),
    ];
    if (budget && (budget.maxTokensPerDay || budget.maxCallsPerHour)) {
      parts.push(h("h3", null, "Budget", budget.exhausted ? h("span", { class: "badge badge-danger" }, " exhausted") : null));
      if (budget.maxTokensPerDay) {
        const p = pct(budget.tokensLastDay, budget.maxTokensPerDay);
        parts.push(
          h("p", { class: "muted" }, `Tokens per day: ${fmtNum(budget.tokensLastDay)} / ${fmtNum(budget.maxTokensPerDay)}`),
          bar(p, p >= 100 ? "danger" : p >= 80 ? "warn" : null),
        );
      }
      if (budget.maxCallsPerHour) {
        const p = pct(budget.callsLastHour, budget.maxCallsPerHour);
        parts.push(
          h("p", { class: "muted" }, `Calls per hour: ${fmtNum(budget.callsLastHour)} / ${fmtNum(budget.maxCallsPerHour)}`),
          bar(p, p >= 100 ? "danger" : p >= 80 ? "warn" : null),
        );
      }
      if (budget.reason) parts.push(h("p", { class: "warn-text" }, budget.reason));
    } else {
      parts.push(h("p", { class: "muted" }, "No budget is set (memory.pipelineV2.budget)."));
    }
    replace(b, parts);
  }

  function drawDiagnostics(diag) {
    const b = body(diagCard);
    if (diag.status !== "fulfilled") {
      replace(b, diag.reason && diag.reason.status === 403 ? denied() : errorNote(diag.reason));
      return;
    }
    const d = diag.value;
    const advice = Array.isArray(d.advice) ? d.advice : [];
    const adviceFor = (name) => {
      const a = advice.find((x) => x.domain === name);
      return a && Array.isArray(a.actions) ? [...a.actions] : [];
    };
    const rows = DOMAINS.filter((n) => d[n]).map((name) => {
      const dom = d[name];
      const actions = adviceFor(name);
      const attention = dom.status === "degraded" || dom.status === "unhealthy";
      // The daemon advises every domain that needs attention; an older one may not.
      if (attention && actions.length === 0) actions.push(`Inspect GET /api/diagnostics/${name}`);
      if (name === "queue" && dom.idleReason) actions.unshift(`Idle: ${dom.idleReason}`);
      return h(
        "tr",
        { dataset: { domain: name } },
        h("th", { scope: "row" }, name),
        h("td", null, statusBadge(dom.status)),
        h("td", { class: "num" }, dom.status === "disabled" || dom.status === "unknown" ? "—" : Number(dom.score).toFixed(2)),
        h("td", null, actions.length ? h("ul", { class: "advice" }, actions.map((a) => h("li", null, a))) : h("span", { class: "muted" }, "—")),
      );
    });
    replace(
      b,
      h("p", null, "Composite score ", h("strong", null, Number(d.score).toFixed(2)), " ", statusBadge(d.status), h("span", { class: "muted" }, ` · ${fmtTime(d.timestamp)}`)),
      h(
        "table",
        null,
        h("caption", { class: "visually-hidden" }, "Diagnostics by domain"),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "Domain"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col", class: "num" }, "Score"), h("th", { scope: "col" }, "Advice"))),
        h("tbody", null, rows),
      ),
    );
  }

  // ---- traffic sampler ----------------------------------------------------------------------
  const charts = {
    rate: sparkline([], { label: "Requests per second" }),
    errors: sparkline([], { label: "Errors per second" }),
    recall: sparkline([], { label: "Recall latency p95 (ms)" }),
    remember: sparkline([], { label: "Remember latency p50 (ms)" }),
  };
  const readouts = { rate: h("span"), errors: h("span"), recall: h("span"), remember: h("span") };
  const trafficBody = body(trafficCard);
  const analytics = can(whoami, "analytics");
  if (!analytics) {
    trafficBody.append(denied());
  } else {
    const chartBox = (title, key) =>
      h("figure", { class: "chart" }, h("figcaption", null, title, " ", h("strong", null, readouts[key])), charts[key]);
    trafficBody.append(
      h(
        "div",
        { class: "grid" },
        chartBox("Requests / s", "rate"),
        chartBox("Errors / s", "errors"),
        chartBox("Recall p95 (ms)", "recall"),
        chartBox("Remember p50 (ms)", "remember"),
      ),
      h("p", { class: "muted" }, `Sampled every ${SAMPLE_MS / 1000} s while this page is open (latency percentiles since start).`),
    );
  }
  const trafficNote = h("p", { class: "muted" });
  trafficBody.append(trafficNote);

  async function sample() {
    if (!analytics) return;
    let usage, latency;
    try {
      [usage, latency] = await Promise.all([q("/api/analytics/usage"), q("/api/analytics/latency")]);
    } catch (e) {
      trafficNote.textContent = e && e.status === 403 ? "Not permitted" : `Sampling failed: ${(e && e.message) || e}`;
      return;
    }
    trafficNote.textContent = "";
    const now = Date.now();
    const tot = usage.totals || {};
    if (lastUsage && now > lastUsage.t) {
      const dt = (now - lastUsage.t) / 1000;
      push("requests", Math.max(0, (tot.requests - lastUsage.requests) / dt));
      push("errors", Math.max(0, (tot.errors - lastUsage.errors) / dt));
    } else {
      push("requests", NaN);
      push("errors", NaN);
    }
    lastUsage = { t: now, requests: tot.requests || 0, errors: tot.errors || 0 };
    push("recallP50", latency.recall ? latency.recall.p50 : NaN);
    push("recallP95", latency.recall ? latency.recall.p95 : NaN);
    push("rememberP50", latency.remember ? latency.remember.p50 : NaN);
    push("mutateP50", latency.mutate ? latency.mutate.p50 : NaN);
    push("t", now);
    drawCharts(tot, latency);
  }

  function push(key, v) {
    samples[key].push(v);
    if (samples[key].length > MAX_SAMPLES) samples[key].shift();
  }

  function last(arr) {
    for (let i = arr.length - 1; i >= 0; i--) if (Number.isFinite(arr[i])) return arr[i];
    return null;
  }

  function drawCharts(tot, latency) {
    sparkline(samples.requests, { svg: charts.rate, label: "Requests per second over the last samples" });
    sparkline(samples.errors, { svg: charts.errors, label: "Errors per second over the last samples" });
    sparkline(samples.recallP95, { svg: charts.recall, label: "Recall latency p95 in milliseconds" });
    sparkline(samples.rememberP50, { svg: charts.remember, label: "Remember latency p50 in milliseconds" });
    const r = last(samples.requests);
    readouts.rate.textContent = r === null ? `(${fmtNum(tot.requests)} total)` : `${r.toFixed(2)} (${fmtNum(tot.requests)} total)`;
    const e = last(samples.errors);
    readouts.errors.textContent = e === null ? `(${fmtNum(tot.errors)} total)` : `${e.toFixed(2)} (${fmtNum(tot.errors)} total)`;
    readouts.recall.textContent = latency.recall && latency.recall.count ? `${latency.recall.p95.toFixed(1)} · n=${fmtNum(latency.recall.count)}` : "no recalls yet";
    readouts.remember.textContent = latency.remember && latency.remember.count ? `${latency.remember.p50.toFixed(1)} · n=${fmtNum(latency.remember.count)}` : "no writes yet";
  }

  // First draw: everything, then mark ready.
  await Promise.all([loadAll().catch(() => {}), sample().catch(() => {})]);
  main.dataset.ready = "true";

  let alive = true;
  const sampler = setInterval(() => alive && sample().catch(() => {}), SAMPLE_MS);
  const refresher = setInterval(() => {
    if (alive && !document.hidden) loadAll().catch(() => {});
  }, REFRESH_MS);
  return () => {
    alive = false;
    clearInterval(sampler);
    clearInterval(refresher);
  };
}
