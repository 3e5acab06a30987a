// Live: the daemon's log stream (`GET /api/logs/stream`, permission `diagnostics`) with level,
// category and text filters and pause/resume, and the memory event feed (`GET /sse`, permission
// `recall`, docs/EVENTS.md). A click on an entry shows its full JSON. Both lists are capped so
// the page never grows without bound; both streams close when the view is left.

import { stream } from "/assets/api.js";
import { h, clear, replace, fmtTime } from "/assets/ui.js";

const MAX_LOGS = 1000; // entries kept in the log list
const MAX_EVENTS = 500; // entries kept in the event list
const MAX_PAUSED = 1000; // entries held while paused (the oldest are dropped beyond)
const BACKLOG = 200; // entries read from GET /api/logs before the stream starts
const LEVELS = ["debug", "info", "warn", "error"];
const BADGE = { warn: "badge-warn", error: "badge-danger", debug: "", info: "badge-accent" };

/** A scrolling list box (styled from JS: the stylesheet has no rule for it). */
function scrollBox(list) {
  Object.assign(list.style, { listStyle: "none", margin: "0", padding: "0", fontSize: ".85rem" });
  const box = h("div", { class: "live-scroll" }, list);
  Object.assign(box.style, { maxHeight: "60vh", overflow: "auto", borderTop: "1px solid var(--border)", marginTop: ".5rem" });
  return box;
}

/** The look of one entry of a list (cursor, spacing), from JS for the same reason. */
function entryStyle(li) {
  Object.assign(li.style, { cursor: "pointer", padding: ".2rem .3rem", borderBottom: "1px solid var(--border)", overflowWrap: "anywhere" });
  return li;
}

/** Identifies a log entry across the backlog and the stream. */
function logKey(d) {
  return `${d.timestamp}|${d.category}|${d.message}|${d.requestId || ""}`;
}

function levelRank(l) {
  const i = LEVELS.indexOf(String(l || "").toLowerCase());
  return i < 0 ? 1 : i;
}

/** A short one-line summary of an event's data (never content: events carry none). */
function eventSummary(name, d) {
  if (!d || typeof d !== "object") return String(d ?? "");
  const parts = [];
  if (name === "health") parts.push(`status ${d.status}`, d.db === false ? "db down" : "db ok");
  if (name === "job.enqueued") parts.push(`${d.jobType || "job"} ${d.status || ""}`.trim());
  if (d.type) parts.push(d.type);
  if (d.project) parts.push(`project ${d.project}`);
  if (d.who) parts.push(`who ${d.who}`);
  if (d.version !== undefined) parts.push(`v${d.version}`);
  if (d.contentChanged) parts.push("content changed");
  return parts.join(" · ");
}

/** Whether the caller's token is limited to some memories (routes that cannot filter by scope
 * refuse it; admins bypass scope). */
function isScoped(who) {
  const c = who && !who.local && who.claims;
  return !!(c && c.role !== "admin" && c.scope && Object.keys(c.scope).some((k) => c.scope[k]));
}

export async function render(main, ctx) {
  const who = ctx.whoami;
  const scoped = isScoped(who);
  const canLogs = ctx.can(who, "diagnostics") && !scoped;
  const canEvents = ctx.can(who, "recall");
  const streams = [];
  let closed = false;

  // ---- the JSON pane (shared by both lists) ----------------------------------------------
  const jsonSlot = h("div", { class: "live-json", "aria-live": "polite" });
  let selectedLi = null;
  function showJson(li, value, title) {
    if (selectedLi) {
      selectedLi.removeAttribute("aria-current");
      selectedLi.style.background = "";
    }
    selectedLi = li;
    li.setAttribute("aria-current", "true");
    li.style.background = "var(--accent-soft)";
    replace(
      jsonSlot,
      h(
        "div",
        { class: "card" },
        h(
          "div",
          { class: "live-json-head" },
          h("h2", null, title),
          h(
            "button",
            {
              type: "button",
              class: "link",
              dataset: { action: "close-json" },
              onclick: () => {
                clear(jsonSlot);
                if (selectedLi) {
                  selectedLi.removeAttribute("aria-current");
                  selectedLi.style.background = "";
                }
                selectedLi = null;
              },
            },
            "Close",
          ),
        ),
        h("pre", { dataset: { json: "" }, class: "json", tabindex: "0" }, JSON.stringify(value, null, 2)),
      ),
    );
  }

  // An entry is a <li> that opens its JSON on click or Enter/Space.
  function clickable(li, value, title) {
    li.tabIndex = 0;
    li.setAttribute("role", "button");
    li.addEventListener("click", (ev) => {
      if (ev.target.closest("a")) return; // a link inside the entry navigates instead
      showJson(li, value, title);
    });
    li.addEventListener("keydown", (ev) => {
      if (ev.target !== li) return;
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        showJson(li, value, title);
      }
    });
  }

  // Keeps a list scrolled to the bottom (newest last) unless the reader scrolled up.
  function stickToBottom(box, fn) {
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
    fn();
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  main.append(
    h("h1", null, "Live"),
    h(
      "p",
      { class: "muted" },
      "The daemon's log entries and memory events as they happen. Click an entry to see its full JSON. ",
      `The log list keeps the newest ${MAX_LOGS} entries, the event list the newest ${MAX_EVENTS}.`,
    ),
  );

  // ---- logs ------------------------------------------------------------------------------
  const logSection = h("section", { class: "card live-logs", "aria-labelledby": "live-logs-title" });
  const logStatus = h("span", { class: "muted live-status", dataset: { streamStatus: "logs" }, role: "status" }, "connecting…");
  logSection.append(h("div", { class: "live-head" }, h("h2", { id: "live-logs-title" }, "Log stream"), logStatus));

  const logs = []; // { entry, li, text }
  let pausedBuffer = [];
  let paused = false;
  let backlogKeys = null; // keys of the entries GET /api/logs gave, to drop stream duplicates
  let early = []; // stream entries that arrived before the backlog was drawn
  let backlogDone = false;
  let logList = null;
  let logBox = null;
  let countNote = null;
  let pauseBtn = null;

  const levelSel = h(
    "select",
    { name: "level", id: "live-level" },
    h("option", { value: "" }, "all levels"),
    h("option", { value: "debug" }, "debug and above"),
    h("option", { value: "info" }, "info and above"),
    h("option", { value: "warn" }, "warn and above"),
    h("option", { value: "error" }, "error only"),
  );
  const catInput = h("input", {
    name: "category",
    id: "live-category",
    type: "text",
    placeholder: "e.g. memory, api, pipeline",
    autocomplete: "off",
    list: "live-categories",
  });
  const catList = h("datalist", { id: "live-categories" });
  const knownCats = new Set();
  const searchInput = h("input", {
    name: "search",
    id: "live-search",
    type: "search",
    placeholder: "text in message or data",
    autocomplete: "off",
  });

  function filterState() {
    return {
      min: levelSel.value ? levelRank(levelSel.value) : -1,
      cat: catInput.value.trim().toLowerCase(),
      q: searchInput.value.trim().toLowerCase(),
    };
  }
  function passes(item, f) {
    if (f.min >= 0 && levelRank(item.entry.level) < f.min) return false;
    if (f.cat && !String(item.entry.category || "").toLowerCase().includes(f.cat)) return false;
    if (f.q && !item.text.includes(f.q)) return false;
    return true;
  }
  function updateCount() {
    if (!countNote) return;
    const shown = logs.filter((l) => !l.li.hidden).length;
    const held = paused && pausedBuffer.length ? ` · ${pausedBuffer.length} new while paused` : "";
    countNote.textContent = `${shown} shown of ${logs.length}${held}`;
  }
  function applyFilters() {
    const f = filterState();
    for (const item of logs) item.li.hidden = !passes(item, f);
    updateCount();
  }

  function logLi(entry) {
    const level = String(entry.level || "info").toLowerCase();
    const li = h(
      "li",
      { class: ["log-entry", `level-${level}`], dataset: { level, category: entry.category || "" } },
      h("time", { class: "log-time", datetime: entry.timestamp || "" }, entry.timestamp ? fmtTime(entry.timestamp) : ""),
      " ",
      h("span", { class: ["log-level", "badge", BADGE[level]] }, level),
      " ",
      h("span", { class: "log-category muted" }, entry.category ? `${entry.category}:` : ""),
      " ",
      h("span", { class: "log-message" }, entry.message || ""),
      entry.requestId ? h("span", { class: "log-request muted" }, ` ${entry.requestId}`) : null,
    );
    entryStyle(li);
    clickable(li, entry, `Log entry · ${level} · ${entry.category || ""}`);
    return li;
  }

  function addLogs(entries) {
    if (!logList || entries.length === 0) return;
    const f = filterState();
    const frag = document.createDocumentFragment();
    for (const entry of entries) {
      const text = `${entry.message || ""} ${entry.category || ""} ${entry.requestId || ""} ${
        entry.data ? JSON.stringify(entry.data) : ""
      }`.toLowerCase();
      const li = logLi(entry);
      const item = { entry, li, text };
      li.hidden = !passes(item, f);
      logs.push(item);
      frag.append(li);
      if (entry.category && !knownCats.has(entry.category)) {
        knownCats.add(entry.category);
        catList.append(h("option", { value: entry.category }));
      }
    }
    stickToBottom(logBox, () => {
      logList.append(frag);
      while (logs.length > MAX_LOGS) {
        const old = logs.shift();
        if (old.li === selectedLi) selectedLi = null;
        old.li.remove();
      }
    });
    updateCount();
  }

  // Batches stream entries into one DOM update per 50 ms (a timer, not an animation frame, so a
  // hidden tab still keeps up).
  let queued = [];
  let frame = 0;
  function enqueue(entry) {
    queued.push(entry);
    if (!frame) {
      frame = setTimeout(() => {
        frame = 0;
        const batch = queued;
        queued = [];
        addLogs(batch.slice(-MAX_LOGS));
      }, 50);
    }
  }

  function setPaused(p) {
    paused = p;
    pauseBtn.textContent = p ? "Resume" : "Pause";
    pauseBtn.setAttribute("aria-pressed", p ? "true" : "false");
    pauseBtn.dataset.paused = p ? "true" : "false";
    if (!p && pausedBuffer.length) {
      const held = pausedBuffer;
      pausedBuffer = [];
      addLogs(held);
    }
    updateCount();
  }

  function onLogFrame(f) {
    if (closed) return;
    if (f.event === "error") {
      logStatus.textContent = `disconnected: ${(f.error && f.error.message) || "stream failed"}`;
      logStatus.dataset.state = "error";
      return;
    }
    if (f.event === "end") {
      logStatus.textContent = "stream ended (the daemon closed it)";
      logStatus.dataset.state = "ended";
      reconnectLogs.hidden = false;
      return;
    }
    const d = f.data;
    if (!d || typeof d !== "object") return;
    if (d.type === "connected" && !d.level) {
      logStatus.textContent = "connected";
      logStatus.dataset.state = "connected";
      reconnectLogs.hidden = true;
      connected("logs");
      return;
    }
    if (!backlogDone) {
      early.push(d);
      return;
    }
    if (backlogKeys && backlogKeys.has(logKey(d))) return;
    if (paused) {
      pausedBuffer.push(d);
      if (pausedBuffer.length > MAX_PAUSED) pausedBuffer.splice(0, pausedBuffer.length - MAX_PAUSED);
      updateCount();
      return;
    }
    enqueue(d);
  }

  const reconnectLogs = h(
    "button",
    {
      type: "button",
      dataset: { action: "reconnect-logs" },
      hidden: true,
      onclick: () => {
        reconnectLogs.hidden = true;
        openLogStream();
      },
    },
    "Reconnect",
  );
  let logStream = null;
  function openLogStream() {
    if (logStream) logStream.close();
    logStatus.textContent = "connecting…";
    logStream = stream("/api/logs/stream", onLogFrame);
    streams.push(logStream);
  }

  if (!canLogs) {
    logStatus.textContent = "";
    logSection.append(
      h("p", { class: "muted", dataset: { denied: "" } }, scoped
        ? "The log stream needs a token without a scope (log entries are not filtered by memory)."
        : "The log stream needs the diagnostics permission (admin or operator)."),
    );
  } else {
    pauseBtn = h(
      "button",
      { type: "button", dataset: { action: "pause" }, "aria-pressed": "false", onclick: () => setPaused(!paused) },
      "Pause",
    );
    const clearBtn = h(
      "button",
      {
        type: "button",
        dataset: { action: "clear-logs" },
        onclick: () => {
          for (const l of logs) l.li.remove();
          logs.length = 0;
          pausedBuffer = [];
          updateCount();
        },
      },
      "Clear",
    );
    for (const el of [levelSel, catInput, searchInput]) el.addEventListener("input", applyFilters);
    countNote = h("span", { class: "muted", dataset: { logCount: "" } }, "");
    logList = h("ol", { class: "log-list", dataset: { log: "" }, "aria-label": "Log entries, newest last" });
    logBox = scrollBox(logList);
    logSection.append(
      h(
        "div",
        { class: "row live-filters", role: "group", "aria-label": "Log filters" },
        h("div", { class: "field" }, h("label", { for: "live-level" }, "Level"), levelSel),
        h("div", { class: "field" }, h("label", { for: "live-category" }, "Category"), catInput, catList),
        h("div", { class: "field" }, h("label", { for: "live-search" }, "Search"), searchInput),
        h("div", { class: "actions" }, pauseBtn, clearBtn, reconnectLogs),
      ),
      countNote,
      logBox,
    );
  }

  // ---- events ----------------------------------------------------------------------------
  const evSection = h("section", { class: "card live-events", "aria-labelledby": "live-events-title" });
  const evStatus = h("span", { class: "muted live-status", dataset: { streamStatus: "events" }, role: "status" }, "connecting…");
  evSection.append(h("div", { class: "live-head" }, h("h2", { id: "live-events-title" }, "Memory events"), evStatus));
  let evList = null;
  let evBox = null;
  const reconnectEvents = h(
    "button",
    {
      type: "button",
      dataset: { action: "reconnect-events" },
      hidden: true,
      onclick: () => {
        reconnectEvents.hidden = true;
        openEventStream();
      },
    },
    "Reconnect",
  );

  function onEventFrame(f) {
    if (closed) return;
    if (f.event === "error") {
      evStatus.textContent = `disconnected: ${(f.error && f.error.message) || "stream failed"}`;
      evStatus.dataset.state = "error";
      reconnectEvents.hidden = false;
      return;
    }
    if (f.event === "end") {
      evStatus.textContent = "stream ended (the daemon closed it)";
      evStatus.dataset.state = "ended";
      reconnectEvents.hidden = false;
      return;
    }
    if (f.event === "connected") {
      evStatus.textContent = "connected";
      evStatus.dataset.state = "connected";
      connected("events");
      return;
    }
    const d = f.data;
    const name = f.event || "message";
    const memId = d && typeof d === "object" ? d.id || d.memoryId : null;
    const li = h(
      "li",
      { class: ["event-entry", `event-${name.replace(/[^a-z0-9]+/gi, "-")}`], dataset: { event: name } },
      h("time", { class: "log-time", datetime: (d && d.timestamp) || "" }, d && d.timestamp ? fmtTime(d.timestamp) : ""),
      " ",
      h("span", { class: ["event-name", "badge", name === "memory.deleted" ? "badge-warn" : name === "health" ? "" : "badge-accent"] }, name),
      " ",
      h("span", { class: "event-summary" }, eventSummary(name, d)),
      memId && name !== "memory.deleted"
        ? [" ", h("a", { href: `#/memories/${encodeURIComponent(memId)}`, class: "event-link" }, "open")]
        : memId
          ? [" ", h("a", { href: `#/memories/${encodeURIComponent(memId)}`, class: "event-link" }, "open (deleted)")]
          : null,
    );
    entryStyle(li);
    clickable(li, { event: name, data: d }, `Event · ${name}`);
    stickToBottom(evBox, () => {
      evList.append(li);
      while (evList.children.length > MAX_EVENTS) {
        const first = evList.firstElementChild;
        if (first === selectedLi) selectedLi = null;
        first.remove();
      }
    });
    if (emptyEvents.isConnected) emptyEvents.remove();
  }
  const emptyEvents = h("p", { class: "muted", dataset: { empty: "events" } }, "No events yet: remember, edit or forget a memory to see one.");

  let evStream = null;
  function openEventStream() {
    if (evStream) evStream.close();
    evStatus.textContent = "connecting…";
    evStream = stream("/sse", onEventFrame);
    streams.push(evStream);
  }

  if (!canEvents) {
    evStatus.textContent = "";
    evSection.append(h("p", { class: "muted", dataset: { denied: "" } }, "The event feed needs the recall permission."));
  } else {
    evList = h("ol", { class: "event-list", dataset: { events: "" }, "aria-label": "Memory events, newest last" });
    evBox = scrollBox(evList);
    evSection.append(h("div", { class: "actions" }, reconnectEvents), emptyEvents, evBox);
  }

  main.append(h("div", { class: "live-grid layout-2" }, logSection, evSection), jsonSlot);

  // ---- start -----------------------------------------------------------------------------
  // Ready once both streams said "connected" (so an entry logged after that is seen), or after
  // a few seconds whatever they did.
  const waiting = new Set();
  let readyTimer = 0;
  function markReady() {
    if (readyTimer) clearTimeout(readyTimer);
    readyTimer = 0;
    if (!closed) main.dataset.ready = "true";
  }
  function connected(which) {
    waiting.delete(which);
    if (waiting.size === 0 && backlogDone) markReady();
  }
  if (canLogs) waiting.add("logs");
  if (canEvents) waiting.add("events");

  // The stream opens first; what it sends before the backlog is drawn waits in `early`.
  if (canLogs) openLogStream();
  else backlogDone = true;
  if (canEvents) openEventStream();
  if (canLogs) {
    try {
      const r = await ctx.api(`/api/logs?limit=${BACKLOG}`, { quiet: true });
      const entries = (r && r.logs) || [];
      backlogKeys = new Set(entries.map(logKey));
      addLogs(entries);
    } catch (e) {
      if (e && e.status === 401) throw e;
      logSection.append(h("p", { class: "error-text" }, `Could not read recent entries: ${e.message || e}`));
    }
    backlogDone = true;
    const held = early.filter((d) => !(backlogKeys && backlogKeys.has(logKey(d))));
    early = [];
    for (const d of held) onLogFrame({ event: "message", data: d });
  }
  if (waiting.size === 0) markReady();
  else readyTimer = setTimeout(markReady, 4000);

  return () => {
    closed = true;
    if (frame) clearTimeout(frame);
    if (readyTimer) clearTimeout(readyTimer);
    for (const s of streams) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
  };
}
