// Memories: hybrid search with every filter and each result's explanation, the listing with a
// pager (never everything at once), batch forget with preview/confirm, and the detail view
// (#/memories/<id>) with the history as a timeline, a word diff, edit, forget, recover and
// "find similar". Write buttons exist only when the caller holds the permission.

import { h, replace, clear, fmtNum, fmtScore, fmtTime } from "/assets/ui.js";

const PAGE = 50;
const MAX_LIMIT = 1000;
const TYPES = [
  "fact", "preference", "decision", "rationale", "learning", "issue", "rule",
  "daily-log", "episodic", "procedural", "semantic", "system",
];
const EXPLAIN_PARTS = [
  ["keyword", "Keyword"],
  ["vector", "Vector"],
  ["fused", "Fused"],
  ["rehearsal", "Rehearsal"],
  ["graph", "Graph"],
  ["final", "Final"],
];

// The last search, kept while the page is open so "back" from a detail restores it.
let lastSearch = null;

export async function render(main, ctx) {
  if (ctx.params && ctx.params.length > 0) return renderDetail(main, ctx, ctx.params.join("/"));
  return renderList(main, ctx);
}

function memoryHref(id) {
  return `#/memories/${encodeURIComponent(id)}`;
}

function tagList(tags) {
  if (!tags) return [];
  if (Array.isArray(tags)) return tags;
  return String(tags).split(",").map((t) => t.trim()).filter(Boolean);
}

function excerpt(text, n = 480) {
  const s = String(text || "");
  return s.length > n ? s.slice(0, n) + "…" : s;
}

function message(box, text, kind = "ok") {
  replace(box, h("p", { class: kind === "ok" ? "ok-text" : "error-text", dataset: kind === "ok" ? { message: "" } : { error: "" }, role: kind === "ok" ? "status" : "alert" }, text));
}

function errText(e) {
  if (!e) return "Failed";
  if (e.status === 403) return `Not permitted: ${e.message}`;
  if (e.status === 409) return `Conflict: ${e.message}`;
  if (e.status === 429) return `Too many requests: ${e.message}`;
  return e.message || String(e);
}

// ---- list and search --------------------------------------------------------------------------

async function renderList(main, ctx) {
  const { api, whoami, can } = ctx;
  const canForget = can(whoami, "forget");

  const ctl = (name, attrs = {}) => h("input", { name, id: `m-${name}`, type: "text", ...attrs });
  const q = ctl("q", { type: "search", placeholder: "What are you looking for?", autocomplete: "off" });
  const type = h("select", { name: "type", id: "m-type" }, h("option", { value: "" }, "any type"), TYPES.map((t) => h("option", { value: t }, t)));
  const tags = ctl("tags", { placeholder: "a,b" });
  const who = ctl("who");
  const project = ctl("project");
  const pinned = h("input", { name: "pinned", id: "m-pinned", type: "checkbox" });
  const importanceMin = ctl("importanceMin", { type: "number", min: "0", max: "1", step: "0.05", inputmode: "decimal" });
  const since = ctl("since", { type: "date" });
  const until = ctl("until", { type: "date" });
  const lab = (ctrl, text, cls) => h("div", { class: ["field", cls] }, h("label", { for: ctrl.id }, text), ctrl);

  const form = h(
    "form",
    { class: "card", dataset: { search: "" }, role: "search", "aria-label": "Search memories" },
    h("div", { class: "row" }, lab(q, "Query", "field-grow"), h("button", { type: "submit", class: "primary" }, "Search"), h("button", { type: "button", dataset: { action: "reset" } }, "Clear")),
    h(
      "div",
      { class: "row" },
      lab(type, "Type"),
      lab(tags, "Tags (all must match)"),
      lab(who, "Who"),
      lab(project, "Project"),
      lab(importanceMin, "Importance ≥"),
      lab(since, "Since"),
      lab(until, "Until"),
      h("div", { class: "field field-check" }, pinned, h("label", { for: pinned.id }, "Pinned only")),
    ),
  );

  const summary = h("p", { class: "muted", "aria-live": "polite", dataset: { summary: "" } });
  const list = h("ol", { class: "results", dataset: { results: "" } });
  const pager = h("div", { class: "pager" });
  const batchBox = h("div");
  main.append(h("h1", null, "Memories"), form, summary, batchBox, list, pager);

  const selected = new Set();
  let current = null; // { mode: "list"|"recall"|"filter", limit, offset, filters }

  function readForm() {
    return {
      q: q.value.trim(),
      type: type.value,
      tags: tags.value.trim(),
      who: who.value.trim(),
      project: project.value.trim(),
      pinned: pinned.checked,
      importanceMin: importanceMin.value.trim(),
      since: since.value,
      until: until.value,
    };
  }

  function writeForm(f) {
    q.value = f.q || "";
    type.value = f.type || "";
    tags.value = f.tags || "";
    who.value = f.who || "";
    project.value = f.project || "";
    pinned.checked = !!f.pinned;
    importanceMin.value = f.importanceMin || "";
    since.value = f.since || "";
    until.value = f.until || "";
  }

  const hasFilters = (f) => !!(f.type || f.tags || f.who || f.project || f.pinned || f.importanceMin || f.since || f.until);

  function filterBody(f) {
    const b = {};
    if (f.type) b.type = f.type;
    if (f.tags) b.tags = f.tags;
    if (f.who) b.who = f.who;
    if (f.project) b.project = f.project;
    if (f.pinned) b.pinned = true;
    if (f.importanceMin !== "") {
      const n = Number(f.importanceMin);
      if (Number.isFinite(n)) b.importance_min = n;
    }
    if (f.since) b.since = f.since;
    if (f.until) b.until = f.until;
    return b;
  }

  function resultItem(m, { score, source, explain, showExplain }) {
    const id = String(m.id);
    const li = h("li", { dataset: { memoryId: id } });
    const head = h("div", { class: "result-head" });
    if (canForget) {
      const box = h("input", {
        type: "checkbox",
        name: "select",
        "aria-label": `Select memory ${id} for batch forget`,
        checked: selected.has(id),
        onchange: (ev) => {
          if (ev.target.checked) selected.add(id);
          else selected.delete(id);
          li.classList.toggle("selected", ev.target.checked);
          drawBatch();
        },
      });
      head.append(box);
    }
    if (score !== undefined) head.append(h("span", null, "score ", h("span", { class: "score", dataset: { score: String(score) } }, fmtScore(score))));
    head.append(h("span", { class: "badge", dataset: { source: source || "" }, title: "Source leg" }, source || "—"));
    head.append(h("span", { class: "badge badge-accent" }, m.type || "—"));
    if (m.pinned === true || m.pinned === 1) head.append(h("span", { class: "badge badge-warn" }, "pinned"));
    if (m.importance !== null && m.importance !== undefined) head.append(h("span", null, `importance ${Number(m.importance).toFixed(2)}`));
    if (m.who) head.append(h("span", null, `by ${m.who}`));
    if (m.project) head.append(h("span", null, `project ${m.project}`));
    head.append(h("time", { datetime: m.created_at || "" }, fmtTime(m.created_at)));
    li.append(head, h("p", { class: "result-content" }, h("a", { href: memoryHref(id) }, excerpt(m.content))));
    const tl = tagList(m.tags);
    const foot = h("div", { class: "result-head" }, tl.map((t) => h("span", { class: "badge" }, `#${t}`)));
    if (showExplain) {
      const panel = h("div", { class: "explain", dataset: { explain: "" }, hidden: true, id: `explain-${cssId(id)}` });
      const ex = explain && typeof explain === "object" ? explain : {};
      for (const [part, label] of EXPLAIN_PARTS) {
        let v = ex[part];
        if ((v === undefined || v === null) && part === "final") v = score;
        panel.append(h("div", null, h("span", { class: "part-label" }, label), h("span", { class: "part-value", dataset: { part } }, typeof v === "number" ? fmtScore(v) : v === undefined || v === null ? "—" : String(v))));
      }
      const btn = h(
        "button",
        {
          type: "button",
          class: "link",
          dataset: { action: "explain" },
          "aria-expanded": "false",
          "aria-controls": panel.id,
          onclick: () => {
            const open = panel.hidden;
            panel.hidden = !open;
            btn.setAttribute("aria-expanded", String(open));
            btn.textContent = open ? "Hide explanation" : "Why this result?";
          },
        },
        "Why this result?",
      );
      foot.append(btn);
      li.append(foot, panel);
    } else if (tl.length) {
      li.append(foot);
    }
    return li;
  }

  function drawBatch() {
    clear(batchBox);
    if (!canForget || selected.size === 0) return;
    batchBox.append(
      h(
        "div",
        { class: "card", dataset: { batch: "" } },
        h("div", { class: "row" }, h("strong", null, `${selected.size} selected`),
          h("button", { type: "button", class: "danger", dataset: { action: "batch-preview" }, onclick: () => batchPreview() }, "Forget selected…"),
          h("button", { type: "button", dataset: { action: "batch-clear" }, onclick: () => { selected.clear(); for (const c of list.querySelectorAll("input[name=select]")) { c.checked = false; c.closest("li")?.classList.remove("selected"); } drawBatch(); } }, "Clear selection"),
        ),
        h("div", { dataset: { batchBody: "" } }),
      ),
    );
  }

  async function batchPreview() {
    const bodyBox = batchBox.querySelector("[data-batch-body]");
    const ids = [...selected];
    replace(bodyBox, h("p", { class: "muted" }, "Previewing…"));
    let preview;
    try {
      preview = await api("/api/memory/forget", { method: "POST", body: { mode: "preview", ids, limit: Math.min(200, Math.max(ids.length, 1)) }, quiet: true });
    } catch (e) {
      message(bodyBox, errText(e), "error");
      return;
    }
    const pinnedCount = preview.candidates.filter((c) => c.pinned).length;
    const reason = h("input", { type: "text", name: "reason", id: "batch-reason", required: true, placeholder: "Why forget these?" });
    const force = h("input", { type: "checkbox", name: "force", id: "batch-force" });
    const out = h("div");
    const confirm = h("button", { type: "button", class: "danger primary", dataset: { action: "confirm-batch-forget" } }, `Forget ${preview.count}`);
    confirm.addEventListener("click", async () => {
      const r = reason.value.trim();
      if (!r) {
        message(out, "A reason is required.", "error");
        reason.focus();
        return;
      }
      confirm.disabled = true;
      const body = { mode: "execute", ids, reason: r, force: force.checked, limit: Math.min(200, Math.max(ids.length, 1)) };
      if (preview.requiresConfirm) body.confirm_token = preview.confirmToken;
      try {
        const res = await api("/api/memory/forget", { method: "POST", body, quiet: true });
        const failed = res.results.filter((x) => x.status !== "deleted");
        replace(
          out,
          h("p", { class: "ok-text", dataset: { message: "" }, role: "status" }, `Forgot ${res.deleted} of ${res.requested}.`),
          failed.length ? h("ul", null, failed.map((x) => h("li", null, `${x.id}: ${x.status}${x.error ? " — " + x.error : ""}`))) : null,
        );
        selected.clear();
        run(current, { keepMessage: true });
      } catch (e) {
        confirm.disabled = false;
        message(out, errText(e), "error");
      }
    });
    replace(
      bodyBox,
      h("p", null, `${preview.count} memories would be forgotten`, preview.requiresConfirm ? " (this needs confirmation)" : "", "."),
      h("ul", { class: "muted", dataset: { preview: "" } }, preview.candidates.map((c) => h("li", null, h("a", { href: memoryHref(c.id) }, c.id), c.pinned ? " (pinned)" : "", ` · v${c.version}`))),
      h("div", { class: "row" },
        h("div", { class: "field field-grow" }, h("label", { for: reason.id }, "Reason"), reason),
        pinnedCount ? h("div", { class: "field field-check" }, force, h("label", { for: force.id }, `Also pinned ones (${pinnedCount})`)) : null,
        confirm,
        h("button", { type: "button", onclick: () => drawBatch() }, "Cancel")),
      out,
    );
    reason.focus();
  }

  async function run(spec, { append = false, keepMessage = false } = {}) {
    current = spec;
    lastSearch = spec;
    const f = spec.filters;
    if (!append) {
      clear(list);
      clear(pager);
      if (!keepMessage) drawBatch();
      summary.textContent = "Loading…";
    }
    try {
      if (spec.mode === "list") {
        const res = await api(`/api/memories?limit=${PAGE}&offset=${spec.offset}`);
        for (const m of res.memories) list.append(resultItem(m, { source: m.source_type || "—" }));
        const shown = list.children.length;
        const total = res.stats ? res.stats.total : shown;
        summary.textContent = `Showing ${fmtNum(shown)} of ${fmtNum(total)} memories, newest first (${fmtNum(res.stats ? res.stats.withEmbeddings : 0)} with vectors, ${fmtNum(res.stats ? res.stats.critical : 0)} critical).`;
        clear(pager);
        if (shown < total && res.memories.length > 0) {
          pager.append(
            h(
              "button",
              {
                type: "button",
                dataset: { action: "more" },
                onclick: (ev) => {
                  ev.target.disabled = true;
                  run({ ...spec, offset: spec.offset + res.memories.length }, { append: true });
                },
              },
              `Load ${fmtNum(Math.min(PAGE, total - shown))} more`,
            ),
          );
        }
      } else if (spec.mode === "recall") {
        const body = { query: f.q, limit: spec.limit, ...filterBody(f), explain: true };
        const res = await api("/api/memory/recall", { method: "POST", body });
        clear(list);
        for (const r of res.results) list.append(resultItem(r, { score: r.score, source: r.source, explain: r.explain, showExplain: true }));
        summary.textContent = `${fmtNum(res.results.length)} result${res.results.length === 1 ? "" : "s"} for “${res.query}” (${res.method} recall).`;
        moreResults(spec, res.results.length);
      } else {
        const params = new URLSearchParams({ limit: String(spec.limit) });
        for (const [k, v] of Object.entries(filterBody(f))) params.set(k, String(v));
        const res = await api(`/memory/search?${params}`);
        const rows = res.results || [];
        clear(list);
        for (const r of rows) list.append(resultItem(r, { score: r.score, source: "filter" }));
        summary.textContent = `${fmtNum(rows.length)} memories match the filters (best first by decayed importance).`;
        moreResults(spec, rows.length);
      }
    } catch (e) {
      summary.textContent = "";
      if (e && e.status === 401) return;
      replace(pager, h("p", { class: "error-text", role: "alert" }, errText(e)));
    }
    main.dataset.ready = "true";
  }

  function moreResults(spec, got) {
    clear(pager);
    if (got >= spec.limit && spec.limit < MAX_LIMIT) {
      pager.append(
        h("button", { type: "button", dataset: { action: "more-results" }, onclick: () => run({ ...spec, limit: Math.min(MAX_LIMIT, spec.limit + PAGE) }) }, "Show more results"),
      );
    }
  }

  function specFromForm() {
    const f = readForm();
    if (f.q) return { mode: "recall", limit: 20, filters: f };
    if (hasFilters(f)) return { mode: "filter", limit: PAGE, filters: f };
    return { mode: "list", offset: 0, filters: f };
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    selected.clear();
    run(specFromForm());
  });
  form.querySelector("[data-action=reset]").addEventListener("click", () => {
    writeForm({});
    selected.clear();
    run({ mode: "list", offset: 0, filters: readForm() });
    q.focus();
  });

  if (lastSearch) {
    writeForm(lastSearch.filters);
    const spec = lastSearch.mode === "list" ? { ...lastSearch, offset: 0 } : lastSearch;
    await run(spec);
  } else {
    await run({ mode: "list", offset: 0, filters: readForm() });
  }
}

function settle(promise) {
  return promise.then((value) => ({ status: "fulfilled", value }), (reason) => ({ status: "rejected", reason }));
}

function cssId(id) {
  return String(id).replace(/[^A-Za-z0-9_-]/g, "_");
}

// ---- word diff --------------------------------------------------------------------------------

/** Tokens: words and the whitespace between them, so the diff keeps the text's spacing. */
function tokens(s) {
  return String(s || "").match(/\s+|[^\s]+/g) || [];
}

/** A word diff of `a` → `b` as a list of [op, text] with op in "=", "-", "+". */
export function wordDiff(a, b) {
  const x = tokens(a), y = tokens(b);
  // Trim the common prefix and suffix, then LCS on the middle.
  let pre = 0;
  while (pre < x.length && pre < y.length && x[pre] === y[pre]) pre++;
  let suf = 0;
  while (suf < x.length - pre && suf < y.length - pre && x[x.length - 1 - suf] === y[y.length - 1 - suf]) suf++;
  const xs = x.slice(pre, x.length - suf), ys = y.slice(pre, y.length - suf);
  const out = [];
  if (pre) out.push(["=", x.slice(0, pre).join("")]);
  const n = xs.length, m = ys.length;
  if (n * m > 4_000_000) {
    if (n) out.push(["-", xs.join("")]);
    if (m) out.push(["+", ys.join("")]);
  } else {
    const dp = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--) dp[i][j] = xs[i] === ys[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    let i = 0, j = 0;
    const push = (op, t) => {
      const lastOp = out[out.length - 1];
      if (lastOp && lastOp[0] === op) lastOp[1] += t;
      else out.push([op, t]);
    };
    while (i < n && j < m) {
      if (xs[i] === ys[j]) { push("=", xs[i]); i++; j++; }
      else if (dp[i + 1][j] >= dp[i][j + 1]) { push("-", xs[i]); i++; }
      else { push("+", ys[j]); j++; }
    }
    while (i < n) push("-", xs[i++]);
    while (j < m) push("+", ys[j++]);
  }
  if (suf) out.push(["=", x.slice(x.length - suf).join("")]);
  return out;
}

function diffNode(a, b) {
  return h(
    "div",
    { class: "diff", dataset: { diff: "" } },
    wordDiff(a, b).map(([op, t]) => (op === "=" ? t : op === "-" ? h("del", null, t) : h("ins", null, t))),
  );
}

// ---- detail -----------------------------------------------------------------------------------

async function renderDetail(main, ctx, id) {
  const { api, whoami, can } = ctx;
  const perms = {
    modify: can(whoami, "modify"),
    forget: can(whoami, "forget"),
    recover: can(whoami, "recover"),
  };
  const back = h("p", null, h("a", { href: "#/memories" }, "← All memories"));
  const section = h("section", { dataset: { detail: "" }, "aria-labelledby": "detail-title" });
  main.append(back, section);

  async function load({ note } = {}) {
    const enc = encodeURIComponent(id);
    // The history first: a deleted memory keeps it, and its last event says whether the
    // memory is live (so a deleted one is not fetched only to answer 404).
    const histR = await settle(api(`/api/memory/${enc}/history`, { quiet: true }));
    const events = histR.status === "fulfilled" ? histR.value.history || [] : [];
    const lastEvent = events.length ? events[events.length - 1].event : null;
    const memR = lastEvent === "deleted" || lastEvent === "purged"
      ? { status: "rejected", reason: { status: 404, message: "deleted" } }
      : await settle(api(`/api/memory/${enc}`, { quiet: true }));
    clear(section);
    const mem = memR.status === "fulfilled" ? memR.value : null;
    const hist = histR.status === "fulfilled" ? histR.value.history || [] : null;
    if (!mem && (!hist || hist.length === 0)) {
      const e = memR.reason;
      section.append(
        h("h1", { id: "detail-title" }, "Memory"),
        h("p", { class: "error-text", role: "alert" }, e && e.status === 404 ? `No memory ${id}.` : errText(e)),
      );
      return;
    }
    const deleted = !mem;
    let content = mem ? mem.content : "";
    if (deleted) {
      for (let i = hist.length - 1; i >= 0 && !content; i--) content = hist[i].new_content || hist[i].newContent || hist[i].old_content || hist[i].oldContent || "";
    }

    const msgBox = h("div", { dataset: { messages: "" } });
    const actions = h("div", { class: "actions" });
    const formBox = h("div");
    const similarBox = h("div");

    section.append(
      h("h1", { id: "detail-title" }, "Memory ", deleted ? h("span", { class: "badge badge-danger", dataset: { deleted: "" } }, "deleted") : null),
      h("div", { class: "layout-2" },
        h("div", null,
          h("div", { class: "detail-content", dataset: { field: "content" } }, content || "—"),
          actions,
          msgBox,
          formBox,
          similarBox,
          h("section", { class: "card" },
            h("h2", null, "History"),
            hist === null
              ? h("p", { class: "error-text" }, errText(histR.reason))
              : historyList(hist)),
        ),
        h("aside", { class: "card", "aria-label": "Properties" }, h("h2", null, "Properties"), props(mem, id, deleted)),
      ),
    );
    if (note) message(msgBox, note);

    // Buttons, only those the caller may use.
    if (!deleted && perms.modify) actions.append(h("button", { type: "button", dataset: { action: "edit" }, onclick: () => editForm(mem, formBox, msgBox) }, "Edit"));
    if (!deleted && perms.forget) actions.append(h("button", { type: "button", class: "danger", dataset: { action: "forget" }, onclick: () => forgetForm(mem, formBox, msgBox) }, "Forget…"));
    if (deleted && perms.recover) {
      const reason = h("input", { type: "text", name: "recover-reason", id: "recover-reason", value: "Recovered from the dashboard" });
      const btn = h("button", { type: "button", class: "primary", dataset: { action: "recover" } }, "Recover");
      btn.addEventListener("click", async () => {
        const r = reason.value.trim() || "Recovered from the dashboard";
        btn.disabled = true;
        try {
          const res = await api(`/api/memory/${encodeURIComponent(id)}/recover`, { method: "POST", body: { reason: r }, quiet: true });
          await load({ note: `Recovered (version ${res.newVersion ?? "?"}).` });
        } catch (e) {
          btn.disabled = false;
          message(msgBox, errText(e), "error");
        }
      });
      reason.classList.add("wide-input");
      actions.append(h("label", { for: reason.id }, "Reason"), reason, btn);
    }
    if (!deleted) actions.append(h("button", { type: "button", dataset: { action: "similar" }, onclick: () => similar(similarBox, mem) }, "Find similar"));
  }

  function props(mem, id, deleted) {
    if (!mem) return h("dl", { class: "kv" }, h("dt", null, "ID"), h("dd", { class: "mono" }, id), h("dt", null, "State"), h("dd", null, "deleted (recoverable within the retention window)"));
    const rows = [
      ["ID", mem.id],
      ["Type", mem.type],
      ["Importance", mem.importance === null || mem.importance === undefined ? "—" : Number(mem.importance).toFixed(2)],
      ["Pinned", mem.pinned ? "yes" : "no"],
      ["Tags", tagList(mem.tags).join(", ") || "—"],
      ["Who", mem.who || "—"],
      ["Project", mem.project || "—"],
      ["Source", [mem.source_type, mem.source_id].filter(Boolean).join(" · ") || "—"],
      ["Session", mem.sessionId || "—"],
      ["Version", mem.version],
      ["Created", fmtTime(mem.created_at)],
      ["Updated", mem.updated_at ? `${fmtTime(mem.updated_at)}${mem.updated_by ? " by " + mem.updated_by : ""}` : "—"],
      ["Accessed", `${fmtNum(mem.access_count)} times${mem.last_accessed ? ", last " + fmtTime(mem.last_accessed) : ""}`],
      ["Embedding", mem.embedding_model || "none"],
      ["Extraction", mem.extraction_status || "—"],
      ["Confidence", mem.confidence === null || mem.confidence === undefined ? "—" : String(mem.confidence)],
    ];
    return h("dl", { class: "kv" }, rows.map(([k, v]) => [h("dt", null, k), h("dd", { dataset: { field: k.toLowerCase() } }, v === null || v === undefined ? "—" : String(v))]));
  }

  function historyList(events) {
    if (events.length === 0) return h("ol", { class: "timeline", dataset: { history: "" } });
    return h(
      "ol",
      { class: "timeline", dataset: { history: "" } },
      events.map((ev) => {
        const oldC = ev.oldContent ?? ev.old_content ?? null;
        const newC = ev.newContent ?? ev.new_content ?? null;
        const by = ev.changedBy ?? ev.changed_by ?? "—";
        const at = ev.createdAt ?? ev.created_at;
        let change = null;
        if (oldC !== null && newC !== null && oldC !== newC) change = diffNode(oldC, newC);
        else if (oldC === null && newC !== null) change = h("div", { class: "diff" }, h("ins", null, newC));
        return h(
          "li",
          { dataset: { event: ev.event } },
          h("div", { class: "event-head" },
            h("span", { class: "badge badge-accent" }, ev.event),
            h("span", { dataset: { who: "" } }, "by ", h("strong", null, by), ev.actorType || ev.actor_type ? ` (${ev.actorType || ev.actor_type})` : ""),
            h("time", { class: "muted", datetime: at || "" }, fmtTime(at))),
          h("p", { dataset: { why: "" } }, ev.reason ? ["Why: ", ev.reason] : h("span", { class: "muted" }, "No reason given")),
          change,
        );
      }),
    );
  }

  function editForm(mem, box, msgBox) {
    const content = h("textarea", { name: "content", id: "edit-content", rows: "6" });
    content.value = mem.content;
    const mtype = h("select", { name: "type", id: "edit-type" }, [...new Set([mem.type, ...TYPES])].filter(Boolean).map((t) => h("option", { value: t }, t)));
    mtype.value = mem.type;
    const tags = h("input", { type: "text", name: "tags", id: "edit-tags", value: tagList(mem.tags).join(",") });
    const importance = h("input", { type: "number", name: "importance", id: "edit-importance", min: "0", max: "1", step: "0.05", value: mem.importance ?? "" });
    const pinned = h("input", { type: "checkbox", name: "pinned", id: "edit-pinned", checked: !!mem.pinned });
    const reason = h("input", { type: "text", name: "reason", id: "edit-reason", required: true, placeholder: "Why this change?" });
    const err = h("div");
    const save = h("button", { type: "submit", class: "primary", dataset: { action: "save" } }, "Save");
    const form = h(
      "form",
      { class: "card", dataset: { edit: "" }, "aria-label": "Edit memory" },
      h("h2", null, "Edit"),
      h("div", { class: "field" }, h("label", { for: content.id }, "Content"), content),
      h("div", { class: "row" },
        h("div", { class: "field" }, h("label", { for: mtype.id }, "Type"), mtype),
        h("div", { class: "field" }, h("label", { for: tags.id }, "Tags"), tags),
        h("div", { class: "field" }, h("label", { for: importance.id }, "Importance"), importance),
        h("div", { class: "field field-check" }, pinned, h("label", { for: pinned.id }, "Pinned")),
        h("div", { class: "field field-grow" }, h("label", { for: reason.id }, "Reason (required)"), reason)),
      h("div", { class: "actions" }, save, h("button", { type: "button", onclick: () => clear(box) }, "Cancel"), h("span", { class: "muted" }, `Saves only if the memory is still at version ${mem.version}.`)),
      err,
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = reason.value.trim();
      if (!r) {
        message(err, "A reason is required.", "error");
        reason.focus();
        return;
      }
      const body = { reason: r, if_version: mem.version };
      if (content.value !== mem.content) body.content = content.value;
      if (mtype.value && mtype.value !== mem.type) body.type = mtype.value;
      const newTags = tags.value.split(",").map((t) => t.trim()).filter(Boolean).join(",");
      if (newTags !== tagList(mem.tags).join(",")) body.tags = newTags;
      if (importance.value !== "" && Number(importance.value) !== Number(mem.importance)) body.importance = Number(importance.value);
      if (pinned.checked !== !!mem.pinned) body.pinned = pinned.checked;
      if (Object.keys(body).length === 2) {
        message(err, "Nothing changed.", "error");
        return;
      }
      save.disabled = true;
      try {
        const res = await api(`/api/memory/${encodeURIComponent(id)}`, { method: "PATCH", body, quiet: true });
        await load({ note: res.status === "updated" ? `Saved (version ${res.newVersion ?? "?"}).` : `No change: ${res.status}` });
      } catch (e) {
        save.disabled = false;
        const extra = e && e.status === 409 && e.body && e.body.currentVersion ? ` The memory is now at version ${e.body.currentVersion}; reload to see the change.` : "";
        message(err, errText(e) + extra, "error");
      }
    });
    replace(box, form);
    content.focus();
    void msgBox;
  }

  function forgetForm(mem, box, msgBox) {
    const reason = h("input", { type: "text", name: "reason", id: "forget-reason", required: true, placeholder: "Why forget it?" });
    const force = mem.pinned ? h("input", { type: "checkbox", name: "force", id: "forget-force" }) : null;
    const err = h("div");
    const confirm = h("button", { type: "submit", class: "danger primary", dataset: { action: "confirm-forget" } }, "Forget this memory");
    const form = h(
      "form",
      { class: "card", dataset: { forget: "" }, "aria-label": "Forget memory" },
      h("h2", null, "Forget"),
      h("p", { class: "muted" }, "A soft delete: the memory can be recovered during the retention window."),
      h("div", { class: "row" },
        h("div", { class: "field field-grow" }, h("label", { for: reason.id }, "Reason (required)"), reason),
        force ? h("div", { class: "field field-check" }, force, h("label", { for: force.id }, "It is pinned: forget it anyway")) : null),
      h("div", { class: "actions" }, confirm, h("button", { type: "button", onclick: () => clear(box) }, "Cancel")),
      err,
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = reason.value.trim();
      if (!r) {
        message(err, "A reason is required.", "error");
        reason.focus();
        return;
      }
      if (force && !force.checked) {
        message(err, "This memory is pinned: tick the box to forget it anyway.", "error");
        force.focus();
        return;
      }
      confirm.disabled = true;
      try {
        await api(`/api/memory/${encodeURIComponent(id)}`, {
          method: "DELETE",
          body: { reason: r, force: force ? force.checked : false, if_version: mem.version },
          quiet: true,
        });
        await load({ note: "Forgotten. It can be recovered below." });
      } catch (e) {
        confirm.disabled = false;
        const hint = e && e.body && e.body.status === "pinned_requires_force" ? " Tick the box to forget a pinned memory." : "";
        message(err, errText(e) + hint, "error");
      }
    });
    replace(box, form);
    reason.focus();
    void msgBox;
  }

  async function similar(box, mem) {
    if (mem && !mem.embedding_model) {
      replace(box, h("section", { class: "card", dataset: { similar: "" } }, h("h2", null, "Similar memories"),
        h("p", { class: "muted" }, "This memory has no vector yet, so it has no neighbours (is an embedding provider configured? See the overview's Embeddings card).")));
      return;
    }
    replace(box, h("p", { class: "muted" }, "Looking for neighbours…"));
    try {
      const res = await api(`/memory/similar?id=${encodeURIComponent(id)}&k=10`, { quiet: true });
      replace(
        box,
        h("section", { class: "card", dataset: { similar: "" } },
          h("h2", null, "Similar memories"),
          res.results.length === 0
            ? h("p", { class: "muted" }, "No neighbours found.")
            : h("ol", { class: "results" }, res.results.map((r) =>
              h("li", { dataset: { memoryId: r.id } },
                h("div", { class: "result-head" },
                  h("span", null, "similarity ", h("span", { class: "score", dataset: { score: String(r.score) } }, Number(r.score).toFixed(2))),
                  h("span", { class: "badge badge-accent" }, r.type),
                  h("time", { datetime: r.created_at }, fmtTime(r.created_at))),
                h("p", { class: "result-content" }, h("a", { href: memoryHref(r.id) }, excerpt(r.content, 300))))))),
      );
    } catch (e) {
      replace(box, h("p", { class: "error-text", role: "alert" }, `Find similar: ${errText(e)}`));
    }
  }

  await load();
  main.dataset.ready = "true";
}
