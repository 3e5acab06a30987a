// Pipeline and repair: job counts by state (`GET /api/pipeline/status`), the provider, ledger
// and budget, recent errors (`GET /api/analytics/errors`), dead jobs with their error and a
// requeue button, pause/resume (admin) and every repair of `/api/repair/*` (admin), each
// showing what it changed in `[data-repair-result]`; dry run first where the repair has one.

import { h, replace, fmtNum, fmtTime, errorNote } from "/assets/ui.js";

const QUEUE_COLUMNS = ["pending", "leased", "completed", "failed", "dead"];
const DEAD_SHOWN = 50; // dead jobs listed at most

// Every repair route (crates/signet-server/src/routes/mod.rs), with its body
// (crates/signet-api/src/repair.rs). `dry`: the repair has a dry run, which runs first.
const REPAIRS = [
  {
    action: "requeue-dead",
    title: "Requeue dead jobs",
    text: "Moves every dead job of both queues back to pending so the workers try it again (attempts reset).",
    dry: false,
  },
  {
    action: "release-leases",
    title: "Release stale leases",
    text: "Frees jobs leased by a worker that is gone so another worker can take them.",
    dry: false,
  },
  {
    action: "check-fts",
    title: "Check the keyword index",
    text: "Compares the full-text index with the memories. The check changes nothing; rebuilding it when it has drifted is the second step.",
    dry: true,
    dryBody: () => ({ repair: false }),
    runBody: () => ({ repair: true }),
    dryLabel: "Check",
    runLabel: "Rebuild the index",
  },
  {
    action: "retention-sweep",
    title: "Run the retention sweep",
    text: "Purges what the retention policy says is expired now: old completed and dead jobs, history, and soft-deleted memories past their recovery window (archived first).",
    dry: false,
  },
  {
    action: "deduplicate",
    title: "Deduplicate memories",
    text: "Merges memories with the same content (and, when enabled, near-duplicates by vector similarity).",
    dry: true,
    options: [
      { name: "semanticEnabled", label: "Also merge near-duplicates (vectors)", type: "checkbox" },
      { name: "semanticThreshold", label: "Similarity threshold (0–1)", type: "number", step: "0.01", min: "0", max: "1", placeholder: "config default" },
      { name: "batchSize", label: "Batch size", type: "number", min: "1", max: "1000", placeholder: "config default" },
    ],
  },
  {
    action: "prune-chunk-groups",
    title: "Prune chunk-group entities",
    text: "Deletes the graph's chunk-group entities.",
    dry: true,
    options: [{ name: "batchSize", label: "Batch size", type: "number", min: "1", max: "10000", placeholder: "500" }],
  },
  {
    action: "prune-singleton-entities",
    title: "Prune singleton entities",
    text: "Deletes graph entities mentioned at most a few times.",
    dry: true,
    options: [
      { name: "maxMentions", label: "Max mentions", type: "number", min: "0", placeholder: "1" },
      { name: "batchSize", label: "Batch size", type: "number", min: "1", max: "10000", placeholder: "200" },
    ],
  },
  {
    action: "backfill-skipped",
    title: "Backfill skipped summaries",
    text: "Requeues session summary jobs that were skipped.",
    dry: true,
    options: [{ name: "limit", label: "Limit", type: "number", min: "1", max: "1000", placeholder: "50" }],
  },
  {
    action: "re-embed",
    title: "Re-embed memories",
    text: "Embeds every memory without a current vector (missing, or another model's) in the background.",
    dry: true,
  },
  {
    action: "clean-orphans",
    title: "Clean orphaned embeddings",
    text: "Deletes vectors whose memory no longer exists.",
    dry: false,
  },
  {
    action: "resync-vec",
    title: "Resync the vector table",
    text: "Upstream's sqlite-vec resync. Not applicable here: the daemon answers why.",
    dry: false,
    unavailable: true,
  },
  {
    action: "reclassify-entities",
    title: "Reclassify entities",
    text: "Upstream's LLM reclassification of entities. Not implemented here: the daemon answers why.",
    dry: false,
    unavailable: true,
  },
  {
    action: "structural-backfill",
    title: "Structural backfill",
    text: "Upstream's structural classification backfill. Not implemented here: the daemon answers why.",
    dry: false,
    unavailable: true,
  },
];

function kv(label, value, attrs = {}) {
  return [h("dt", null, label), h("dd", attrs, value === null || value === undefined || value === "" ? "—" : String(value))];
}

/** Reads an option control's value into the body (empty fields are left to the daemon). */
function optionValue(input, opt) {
  if (opt.type === "checkbox") return input.checked;
  const v = input.value.trim();
  if (v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

/** The lines of a repair answer that say what it changed. */
function describeRepair(r, { dry }) {
  const lines = [];
  if (!r || typeof r !== "object") return [String(r)];
  if (r.message) lines.push(r.message);
  const affected = r.affected !== undefined ? fmtNum(r.affected) : null;
  if (affected !== null) lines.push(dry || r.dryRun ? `Would change: ${affected}` : `Changed: ${affected}`);
  if (r.clusters !== undefined && r.clusters !== null) lines.push(`Clusters: ${fmtNum(r.clusters)}`);
  if (r.repaired !== undefined && r.repaired !== null) lines.push(r.repaired ? "The index was rebuilt." : "The index was not rebuilt.");
  if (r.removed && typeof r.removed === "object") {
    const parts = Object.entries(r.removed)
      .filter(([, v]) => typeof v === "number")
      .map(([k, v]) => `${k} ${fmtNum(v)}`);
    if (parts.length) lines.push(`Removed: ${parts.join(", ")}`);
  }
  if (r.progress && typeof r.progress === "object") {
    const p = r.progress;
    lines.push(`Progress: ${fmtNum(p.done)} of ${fmtNum(p.total)}${p.running ? " (running)" : ""}`);
  }
  return lines;
}

/** Whether the caller's token is limited to some memories (routes that cannot filter by scope
 * refuse it; admins bypass scope). */
function isScoped(who) {
  const c = who && !who.local && who.claims;
  return !!(c && c.role !== "admin" && c.scope && Object.keys(c.scope).some((k) => c.scope[k]));
}

export async function render(main, ctx) {
  const who = ctx.whoami;
  const admin = ctx.can(who, "admin");
  // Logs, errors and jobs are daemon-wide: the daemon refuses scoped tokens there.
  const scoped = isScoped(who);
  const canAnalytics = ctx.can(who, "analytics") && !scoped;
  let left = false;
  let refreshTimer = 0;

  main.append(h("h1", null, "Pipeline and repair"));

  const statusCard = h("section", { class: "card", "aria-labelledby": "pl-status" }, h("h2", { id: "pl-status" }, "Status"));
  const queueCard = h("section", { class: "card", "aria-labelledby": "pl-queues" }, h("h2", { id: "pl-queues" }, "Jobs by state"));
  const deadCard = h("section", { class: "card", "aria-labelledby": "pl-dead" }, h("h2", { id: "pl-dead" }, "Dead jobs"));
  const errorsCard = h("section", { class: "card", "aria-labelledby": "pl-errors" }, h("h2", { id: "pl-errors" }, "Recent errors"));
  main.append(h("div", { class: "grid pipeline-grid" }, statusCard, queueCard), deadCard, errorsCard);

  // The one place every repair (and requeue, pause, resume) says what it did.
  const resultBox = h("div", {
    class: "repair-result",
    dataset: { repairResult: "" },
    role: "status",
    "aria-live": "polite",
    tabindex: "-1",
  });
  const reasonInput = h("input", {
    name: "reason",
    id: "repair-reason",
    type: "text",
    placeholder: "manual repair",
    autocomplete: "off",
  });

  function repairHeaders() {
    const reason = reasonInput.value.trim() || "dashboard repair";
    return { "x-signet-reason": reason, "x-signet-actor": "dashboard" };
  }

  function showResult(title, response, { dry = false, ok = true, apply = null } = {}) {
    const lines = describeRepair(response, { dry });
    replace(
      resultBox,
      h("h3", null, title),
      h("p", { class: ok ? "" : "error-text", dataset: { outcome: ok ? (dry ? "dry-run" : "done") : "refused" } }, ok ? (dry ? "Dry run: nothing was changed." : "Done.") : "Refused."),
      h("ul", { class: "repair-lines" }, lines.map((l) => h("li", null, l))),
      apply,
      h("details", null, h("summary", null, "Full answer"), h("pre", { class: "json" }, JSON.stringify(response, null, 2))),
    );
    resultBox.focus({ preventScroll: false });
  }

  // The result appears where the action was started: below that repair (or the dead jobs).
  function placeResult(anchor) {
    if (anchor && resultBox.previousElementSibling !== anchor) anchor.after(resultBox);
  }

  async function runRepair(spec, { dry, body, label, anchor }) {
    placeResult(anchor);
    const path = `/api/repair/${spec.action}`;
    const title = `${spec.title}${dry ? " — dry run" : ""}`;
    replace(resultBox, h("p", { class: "muted" }, `${label || spec.title}…`));
    try {
      const r = await ctx.api(path, { method: "POST", body, headers: repairHeaders(), quiet: true });
      let apply = null;
      if (dry) {
        const runBody = spec.runBody ? spec.runBody() : { ...(body || {}), dryRun: false };
        const btn = h(
          "button",
          {
            type: "button",
            class: "danger",
            dataset: { action: "confirm-repair", repairConfirm: spec.action },
            onclick: () => runRepair(spec, { dry: false, body: runBody, label: spec.runLabel, anchor }),
          },
          spec.runLabel || `Apply: ${spec.title.toLowerCase()}`,
        );
        apply = h("div", { class: "actions" }, btn);
      }
      showResult(title, r, { dry, ok: r && r.success !== false, apply });
    } catch (e) {
      const body = e && e.body && typeof e.body === "object" ? e.body : { error: e.message };
      const why =
        e.status === 429
          ? "refused (the policy gate or the rate limiter said no, or the repair did not succeed)"
          : e.status === 501
            ? "not available in this daemon"
            : e.status === 403
              ? "not permitted (needs admin)"
              : `failed (HTTP ${e.status})`;
      replace(
        resultBox,
        h("h3", null, title),
        h("p", { class: "error-text", dataset: { outcome: "refused" } }, `${spec.title}: ${why}.`),
        h("p", null, (body && (body.message || body.error)) || e.message),
        h("details", null, h("summary", null, "Full answer"), h("pre", { class: "json" }, JSON.stringify(body, null, 2))),
      );
    }
    if (!left) refreshAll();
  }

  /** Reloads what a repair or a control may have changed (failures show in their cards). */
  function refreshAll() {
    loadStatus()
      .then(() => Promise.all([loadDead(), loadStats()]))
      .catch(() => {});
  }

  // ---- status and queues -------------------------------------------------------------------
  let lastStatus = null;
  async function loadStatus() {
    let s;
    try {
      s = await ctx.api("/api/pipeline/status", { quiet: true });
    } catch (e) {
      if (e && e.status === 401) throw e;
      replace(statusCard, h("h2", { id: "pl-status" }, "Status"), errorNote(e));
      replace(queueCard, h("h2", { id: "pl-queues" }, "Jobs by state"), errorNote(e));
      return null;
    }
    if (left) return s;
    lastStatus = s;
    drawStatus(s);
    drawQueues(s);
    return s;
  }

  function drawStatus(s) {
    const p = s.provider || {};
    const b = s.budget || {};
    const l = s.ledger || {};
    const workers = Object.entries(s.workers || {})
      .map(([name, w]) => `${name}${w && w.running ? "" : " (stopped)"}`)
      .join(", ");
    const dl = h(
      "dl",
      { class: "kv" },
      kv("Mode", s.mode, { dataset: { pipelineMode: "" } }),
      kv("Workers", s.paused ? `paused${s.pausedReason ? `: ${s.pausedReason}` : ""}` : "running", { dataset: { pipelinePaused: String(!!s.paused) } }),
      kv("Provider", `${p.name || "—"}${p.model ? ` / ${p.model}` : ""}`),
      kv("Provider health", `${p.health || "—"}${p.lastError ? ` — ${p.lastError}` : ""}`),
      kv("Last success", p.lastSuccessAt ? fmtTime(p.lastSuccessAt) : "—"),
      kv("Worker threads", workers || "—"),
      kv(
        "Budget",
        [
          b.maxTokensPerDay !== undefined ? `${fmtNum(b.tokensLastDay)} / ${fmtNum(b.maxTokensPerDay)} tokens a day` : `${fmtNum(b.tokensLastDay)} tokens in 24 h (no limit)`,
          b.maxCallsPerHour !== undefined ? `${fmtNum(b.callsLastHour)} / ${fmtNum(b.maxCallsPerHour)} calls an hour` : `${fmtNum(b.callsLastHour)} calls in 1 h (no limit)`,
          b.exhausted ? `exhausted${b.reason ? `: ${b.reason}` : ""}` : null,
        ]
          .filter(Boolean)
          .join(" · "),
      ),
      kv(
        "LLM calls",
        `${fmtNum(l.lastHour && l.lastHour.calls)} last hour · ${fmtNum(l.lastDay && l.lastDay.calls)} last day · ${fmtNum(l.total && l.total.calls)} total (${fmtNum(l.total && l.total.errors)} failed)`,
      ),
      kv(
        "Tokens",
        `${fmtNum(l.total && l.total.inputTokens)} in · ${fmtNum(l.total && l.total.outputTokens)} out (all time)`,
      ),
      s.latency && s.latency.count !== undefined
        ? kv("Extraction latency", `p50 ${fmtNum(s.latency.p50, 0)} ms · p95 ${fmtNum(s.latency.p95, 0)} ms · ${fmtNum(s.latency.count)} jobs`)
        : null,
      s.graph ? kv("Graph", s.graph.enabled ? `${fmtNum(s.graph.entities)} entities · ${fmtNum(s.graph.relations)} relations · ${fmtNum(s.graph.mentions)} mentions` : "off") : null,
    );
    const errSummary = Object.entries(s.errorSummary || {});
    const children = [h("h2", { id: "pl-status" }, "Status"), dl];
    if (errSummary.length) {
      children.push(
        h("h3", null, "Pipeline errors since start"),
        h("ul", { class: "inline-list" }, errSummary.map(([code, n]) => h("li", null, `${code}: ${fmtNum(n)}`))),
      );
    }
    if (admin) {
      const operatorPaused = !!s.paused && (!s.pausedReason || /operator|pause/i.test(s.pausedReason));
      children.push(
        h(
          "div",
          { class: "actions" },
          h(
            "button",
            { type: "button", dataset: { action: "pause-pipeline" }, onclick: () => control("pause") },
            "Pause the pipeline",
          ),
          h(
            "button",
            { type: "button", dataset: { action: "resume-pipeline" }, onclick: () => control("resume") },
            "Resume",
          ),
        ),
        h(
          "p",
          { class: "muted" },
          operatorPaused
            ? "Paused: the workers lease nothing until resumed (a restart also resumes)."
            : "Pausing stops the workers from leasing jobs (a job in progress finishes); the switch is in memory, so a restart resumes.",
        ),
      );
    }
    replace(statusCard, ...children);
  }

  async function control(what) {
    try {
      const r = await ctx.api(`/api/pipeline/${what}`, { method: "POST", quiet: true });
      showResult(what === "pause" ? "Pipeline paused" : "Pipeline resumed", r);
    } catch (e) {
      replace(resultBox, h("p", { class: "error-text" }, `${what} failed: ${e.message}`));
    }
    loadStatus().catch(() => {});
  }

  function drawQueues(s) {
    const queues = Object.entries(s.queues || {});
    const table = h(
      "table",
      { class: "table", dataset: { queue: "" } },
      h("caption", { class: "visually-hidden" }, "Jobs per queue by state"),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Queue"), QUEUE_COLUMNS.map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        null,
        queues.map(([name, q]) =>
          h(
            "tr",
            { dataset: { queueName: name } },
            h("th", { scope: "row" }, name),
            QUEUE_COLUMNS.map((c) => h("td", { class: "num", dataset: { count: c } }, fmtNum(q[c]))),
          ),
        ),
      ),
    );
    const byType = [];
    for (const [qname, q] of queues) {
      for (const [type, counts] of Object.entries(q.byType || {})) {
        byType.push(
          h(
            "tr",
            null,
            h("th", { scope: "row" }, `${qname} · ${type}`),
            QUEUE_COLUMNS.map((c) => h("td", { class: "num" }, fmtNum(counts[c] || 0))),
          ),
        );
      }
    }
    replace(
      queueCard,
      h("h2", { id: "pl-queues" }, "Jobs by state"),
      table,
      byType.length
        ? h(
            "details",
            null,
            h("summary", null, "By job type"),
            h(
              "table",
              { class: "table" },
              h("thead", null, h("tr", null, h("th", { scope: "col" }, "Type"), QUEUE_COLUMNS.map((c) => h("th", { scope: "col" }, c)))),
              h("tbody", null, byType),
            ),
          )
        : null,
      h("p", { class: "muted" }, "A failed attempt goes back to pending; the last one makes the job dead."),
    );
  }

  // ---- dead jobs ---------------------------------------------------------------------------
  // GET /api/pipeline/jobs?status=dead lists the memory queue's dead jobs, newest first, with
  // their error (summary jobs live in another table; the queue counts include them).
  async function loadDead() {
    const total = lastStatus ? Object.values(lastStatus.queues || {}).reduce((n, q) => n + (q.dead || 0), 0) : null;
    const head = [h("h2", { id: "pl-dead" }, "Dead jobs")];
    head.push(
      h(
        "p",
        { class: "muted" },
        "There is no per-job requeue in the API: requeue sends POST /api/repair/requeue-dead, which moves every dead job (memory and summary queues) back to pending.",
      ),
    );
    const list = h("ol", { class: "dead-list", dataset: { dead: "" } });
    let jobs = [];
    let listed = null; // dead memory jobs in all, as the listing counts them
    let listError = null;
    if (!scoped) {
      try {
        const r = await ctx.api(`/api/pipeline/jobs?status=dead&limit=${DEAD_SHOWN}`, { quiet: true });
        jobs = (r && r.jobs) || [];
        listed = r && typeof r.total === "number" ? r.total : jobs.length;
      } catch (e) {
        if (e && e.status === 401) throw e;
        listError = e;
      }
    }
    if (left) return;
    for (const j of jobs) {
      const err = j.last_error || j.error;
      list.append(
        h(
          "li",
          { class: "dead-job", dataset: { jobId: j.id } },
          h("div", { class: "dead-job-head" }, h("code", null, j.id), " ", h("span", { class: "badge" }, j.job_type || "job")),
          j.memory_id ? h("div", null, "Memory ", h("a", { href: `#/memories/${encodeURIComponent(j.memory_id)}` }, j.memory_id)) : null,
          j.document_id ? h("div", null, `Document ${j.document_id}`) : null,
          j.attempts !== undefined ? h("div", { class: "muted" }, `Attempts ${j.attempts} of ${j.max_attempts}${j.failed_at ? ` · failed ${fmtTime(j.failed_at)}` : ""}`) : null,
          h("div", { class: "dead-job-error error-text", dataset: { jobError: "" } }, err || "(no error recorded)"),
          admin
            ? h(
                "button",
                {
                  type: "button",
                  dataset: { action: "requeue" },
                  title: "Requeues every dead job (the API has no per-job requeue)",
                  onclick: () => runRepair(REPAIRS[0], { dry: false, label: "Requeueing every dead job", anchor: list }),
                },
                total > 1 ? `Requeue (all ${total} dead jobs)` : "Requeue",
              )
            : null,
        ),
      );
    }
    const notes = [];
    if (total !== null) notes.push(h("p", null, `${fmtNum(total)} dead job${total === 1 ? "" : "s"} in the queues.`));
    if (scoped) notes.push(h("p", { class: "muted" }, "Listing them needs a token without a scope."));
    else if (listError) notes.push(errorNote(listError));
    else if (listed !== null && jobs.length < listed)
      notes.push(h("p", { class: "muted" }, `The newest ${fmtNum(jobs.length)} of ${fmtNum(listed)} dead memory jobs are listed.`));
    if (jobs.length === 0 && !total) notes.push(h("p", { class: "muted", dataset: { empty: "dead" } }, "No dead jobs."));
    const bulk =
      admin && total && (total > 1 || jobs.length === 0)
        ? h(
            "div",
            { class: "actions" },
            h(
              "button",
              { type: "button", dataset: { action: "requeue-all" }, onclick: (ev) => runRepair(REPAIRS[0], { dry: false, anchor: ev.currentTarget.parentElement }) },
              total > 1 ? `Requeue all ${fmtNum(total)} dead jobs` : "Requeue the dead job",
            ),
          )
        : null;
    const keepResult = admin && deadCard.contains(resultBox) ? resultBox : null;
    replace(deadCard, ...head, ...notes, list, keepResult, bulk);
  }

  // ---- recent errors -----------------------------------------------------------------------
  async function loadErrors() {
    if (!canAnalytics) {
      replace(errorsCard, h("h2", { id: "pl-errors" }, "Recent errors"), h("p", { class: "muted", dataset: { denied: "" } }, scoped ? "Needs a token without a scope." : "Needs the analytics permission."));
      return;
    }
    let r;
    try {
      r = await ctx.api("/api/analytics/errors?limit=50", { quiet: true });
    } catch (e) {
      if (e && e.status === 401) throw e;
      replace(errorsCard, h("h2", { id: "pl-errors" }, "Recent errors"), errorNote(e));
      return;
    }
    if (left) return;
    const errors = ((r && r.errors) || []).slice().reverse(); // newest first
    const list = h(
      "ol",
      { class: "error-list", dataset: { errors: "" } },
      errors.map((e) =>
        h(
          "li",
          { dataset: { code: e.code, stage: e.stage } },
          h("time", { datetime: e.timestamp }, fmtTime(e.timestamp)),
          " ",
          h("span", { class: "badge" }, e.stage),
          " ",
          h("code", null, e.code),
          " ",
          h("span", null, e.message),
          e.memoryId ? [" ", h("a", { href: `#/memories/${encodeURIComponent(e.memoryId)}` }, "memory")] : null,
          e.requestId ? h("span", { class: "muted" }, ` ${e.requestId}`) : null,
        ),
      ),
    );
    const summary = Object.entries((r && r.summary) || {});
    replace(
      errorsCard,
      h("h2", { id: "pl-errors" }, "Recent errors"),
      summary.length ? h("ul", { class: "inline-list" }, summary.map(([c, n]) => h("li", null, `${c}: ${fmtNum(n)}`))) : null,
      errors.length ? null : h("p", { class: "muted", dataset: { empty: "errors" } }, "No errors recorded since the daemon started."),
      list,
    );
  }

  // ---- repairs (admin) ---------------------------------------------------------------------
  const statsBox = h("dl", { class: "kv", dataset: { repairStats: "" } });
  async function loadStats() {
    if (!admin) return;
    const [dedup, cold, gaps] = await Promise.all(
      ["/api/repair/dedup-stats", "/api/repair/cold-stats", "/api/repair/embedding-gaps"].map((p) =>
        ctx.api(p, { quiet: true }).catch((e) => {
          if (e && e.status === 401) throw e;
          return { failed: e.message };
        }),
      ),
    );
    if (left) return;
    const line = (x, f) => (x && x.failed ? `unavailable: ${x.failed}` : f(x));
    replace(
      statsBox,
      kv("Duplicates", line(dedup, (d) => `${fmtNum(d.exactExcess)} extra copies in ${fmtNum(d.exactClusters)} groups, of ${fmtNum(d.totalActive)} live memories`)),
      kv("Embeddings", line(gaps, (g) => `coverage ${g.coverage} · ${fmtNum(g.unembedded)} without a current vector (${fmtNum(g.missing)} missing, ${fmtNum(g.staleModel)} of another model)`)),
      kv(
        "Cold archive",
        line(cold, (c) =>
          `${fmtNum(c.count)} rows, ${fmtNum(c.totalBytes)} bytes${c.oldest ? ` · ${fmtTime(c.oldest)} to ${fmtTime(c.newest)}` : ""}${
            Object.keys(c.byReason || {}).length ? ` · ${Object.entries(c.byReason).map(([k, v]) => `${k} ${v}`).join(", ")}` : ""
          }`,
        ),
      ),
    );
  }

  if (admin) {
    const repairList = h("ul", { class: "results repair-list" });
    for (const spec of REPAIRS) {
      const inputs = [];
      const optionFields = (spec.options || []).map((opt) => {
        const id = `repair-${spec.action}-${opt.name}`;
        const input = h("input", {
          id,
          name: opt.name,
          type: opt.type,
          step: opt.step,
          min: opt.min,
          max: opt.max,
          placeholder: opt.placeholder,
        });
        inputs.push([input, opt]);
        return opt.type === "checkbox"
          ? h("div", { class: "field field-check" }, input, h("label", { for: id }, opt.label))
          : h("div", { class: "field" }, h("label", { for: id }, opt.label), input);
      });
      const body = () => {
        if (!spec.dry) return undefined;
        if (spec.dryBody) return spec.dryBody();
        const b = { dryRun: true };
        for (const [input, opt] of inputs) {
          const v = optionValue(input, opt);
          if (v !== undefined) b[opt.name] = v;
        }
        return b;
      };
      const btn = h(
        "button",
        {
          type: "button",
          dataset: { repair: spec.action },
          class: spec.dry ? "" : spec.unavailable ? "" : "danger",
          onclick: (ev) => runRepair(spec, { dry: spec.dry, body: body(), anchor: ev.currentTarget.parentElement }),
        },
        spec.dry ? spec.dryLabel || "Dry run" : spec.unavailable ? "Try" : "Run",
      );
      repairList.append(
        h(
          "li",
          { class: ["repair", spec.unavailable ? "repair-unavailable" : ""], dataset: { repairAction: spec.action } },
          h("h3", null, spec.title, " ", h("code", { class: "muted" }, `POST /api/repair/${spec.action}`)),
          h("p", { class: "muted" }, spec.text, spec.dry ? " A dry run first says what it would change; applying is the second step." : ""),
          optionFields.length ? h("div", { class: "row" }, optionFields) : null,
          h("div", { class: "actions" }, btn),
        ),
      );
    }
    main.append(
      h(
        "section",
        { class: "card", "aria-labelledby": "pl-repairs" },
        h("h2", { id: "pl-repairs" }, "Repairs"),
        h("p", { class: "muted" }, "Admin only. Each repair is audited with the reason below."),
        statsBox,
        h("div", { class: "field" }, h("label", { for: "repair-reason" }, "Reason (recorded in the audit)"), reasonInput),
        resultBox,
        repairList,
      ),
    );
  } else {
    main.append(
      h(
        "section",
        { class: "card" },
        h("h2", null, "Repairs"),
        h("p", { class: "muted", dataset: { denied: "" } }, "Repairs and pausing the pipeline need an admin token."),
      ),
    );
  }

  await loadStatus();
  await Promise.all([loadDead(), loadErrors(), loadStats()]);
  main.dataset.ready = "true";

  // The counts move while jobs run: refresh them every 5 s.
  refreshTimer = setInterval(() => {
    if (!left && document.visibilityState !== "hidden") loadStatus().catch(() => {});
  }, 5000);

  return () => {
    left = true;
    clearInterval(refreshTimer);
  };
}
