// The embedding map: the 2-D projection of the vectors (`GET /api/embeddings/projection`,
// at most 10000 points, each with its memory's who, type, importance, project and the start of
// its content) drawn on one canvas, coloured by project (or who, or type), sized by
// importance. Hover shows a memory's content (one positioned element), a click selects the
// nearest point (a uniform grid keeps hit tests fast at 10k points) and shows it with its
// neighbours (`GET /memory/similar`) and a link to its detail. Drag pans, the wheel zooms.

import { h, clear, replace, fmtNum } from "/assets/ui.js";

const LIMIT = 10000; // the projection's maximum
const HOVER_PX = 10; // hover radius in CSS pixels
const PALETTE = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
  "#b07aa1", "#ff9da7", "#9c755f", "#17becf", "#bcbd22", "#8c6bb1",
];
const OTHER = "#9a9a9a";

// ---- the hit-test grid ---------------------------------------------------------------------

/** A uniform grid over the points' bounds: `nearest` visits only the cells near the query. */
function buildGrid(xs, ys, bounds) {
  const n = xs.length;
  const g = Math.max(1, Math.min(256, Math.round(Math.sqrt(n / 3))));
  const w = (bounds.maxX - bounds.minX) / g || 1;
  const hgt = (bounds.maxY - bounds.minY) / g || 1;
  const cellOf = new Int32Array(n);
  const counts = new Int32Array(g * g + 1);
  for (let i = 0; i < n; i++) {
    const cx = Math.min(g - 1, Math.max(0, Math.floor((xs[i] - bounds.minX) / w)));
    const cy = Math.min(g - 1, Math.max(0, Math.floor((ys[i] - bounds.minY) / hgt)));
    const c = cy * g + cx;
    cellOf[i] = c;
    counts[c + 1]++;
  }
  for (let c = 0; c < g * g; c++) counts[c + 1] += counts[c];
  const start = counts.slice();
  const items = new Int32Array(n);
  const fill = counts.slice(0, g * g);
  for (let i = 0; i < n; i++) items[fill[cellOf[i]]++] = i;

  /** The index of the point nearest (wx, wy) within `maxDist` (world units), or -1. */
  function nearest(wx, wy, maxDist = Infinity, skip = null) {
    if (n === 0) return -1;
    const cx = Math.min(g - 1, Math.max(0, Math.floor((wx - bounds.minX) / w)));
    const cy = Math.min(g - 1, Math.max(0, Math.floor((wy - bounds.minY) / hgt)));
    const cell = Math.min(w, hgt);
    let best = -1;
    let bestD = maxDist === Infinity ? Infinity : maxDist * maxDist;
    for (let ring = 0; ring < g; ring++) {
      const bound = Math.max(0, ring - 1) * cell;
      if (bound * bound > bestD) break;
      const x0 = cx - ring, x1 = cx + ring, y0 = cy - ring, y1 = cy + ring;
      for (let y = Math.max(0, y0); y <= Math.min(g - 1, y1); y++) {
        const edgeRow = y === y0 || y === y1;
        for (let x = Math.max(0, x0); x <= Math.min(g - 1, x1); x++) {
          if (!edgeRow && x !== x0 && x !== x1) continue; // only the ring's cells
          const c = y * g + x;
          for (let k = start[c]; k < start[c + 1]; k++) {
            const i = items[k];
            if (skip && skip(i)) continue;
            const dx = xs[i] - wx, dy = ys[i] - wy;
            const d = dx * dx + dy * dy;
            if (d < bestD) {
              bestD = d;
              best = i;
            }
          }
        }
      }
    }
    return best;
  }
  return { nearest };
}

// ---- the view ------------------------------------------------------------------------------

function keyOf(meta, by) {
  if (!meta) return "(unknown)";
  const v = meta[by];
  return v === null || v === undefined || v === "" ? `(no ${by})` : String(v);
}

export async function render(main, ctx) {
  let left = false;
  const cleanups = [];
  main.append(h("h1", null, "Embedding map"));

  // ---- data --------------------------------------------------------------------------------
  // The projection cannot filter by scope: the daemon refuses
  // scoped tokens there (admins bypass scope), so a scoped caller is told without a call.
  const who = ctx.whoami;
  const scope = who && who.claims && who.claims.scope;
  const scoped = scope && Object.keys(scope).some((k) => scope[k]) && who.claims.role !== "admin" && !who.local;
  if (scoped) {
    main.append(
      h(
        "section",
        { class: "card" },
        h("p", { class: "muted", dataset: { denied: "" } }, "The map shows every memory's vector, so it needs a token without a scope (your token is limited to some memories)."),
      ),
    );
    main.dataset.ready = "true";
    return;
  }
  let proj;
  try {
    proj = await ctx.api(`/api/embeddings/projection?limit=${LIMIT}`, { quiet: true });
  } catch (e) {
    if (e && e.status === 401) throw e;
    main.append(
      h(
        "section",
        { class: "card" },
        h("p", { class: "error-text", dataset: { mapError: "" } }, e.status === 403 ? "Not permitted: the projection needs an unscoped token with the recall permission." : `The projection could not be loaded: ${e.message}`),
      ),
    );
    main.dataset.ready = "true";
    return;
  }
  const nodes = (proj && proj.nodes) || [];
  if (left) return;

  if (nodes.length === 0) {
    let why = "";
    try {
      const st = await ctx.api("/api/embeddings/status", { quiet: true });
      if (st && st.available === false) why = st.keywordOnlyReason || st.error || "no embedding provider is configured";
      else if (st) why = `${fmtNum(st.indexed)} vectors are indexed (${st.provider} / ${st.model}).`;
    } catch {
      /* the reason is optional */
    }
    main.append(
      h(
        "section",
        { class: "card", dataset: { mapEmpty: "" } },
        h("h2", null, "No vectors yet"),
        h(
          "p",
          null,
          "The map places memories by their embeddings, and there are none to place. Memories get a vector when an embedding provider is configured (README, “Semantic recall”); existing ones can then be embedded with the re-embed repair on the Pipeline page.",
        ),
        why ? h("p", { class: "muted" }, why) : null,
      ),
      // The canvas exists even when empty, so the map's state is always readable.
      h("canvas", { dataset: { map: "", points: "0" }, width: "1", height: "1", hidden: true, "aria-hidden": "true" }),
    );
    main.dataset.ready = "true";
    return;
  }

  // Each node carries its memory's fields (who, type, importance, project, content).
  const meta = new Map(nodes.map((node) => [node.id, node]));
  if (left) return;

  const n = nodes.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const radius = new Float32Array(n);
  const metas = new Array(n);
  const indexOf = new Map();
  const bounds = { minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
  for (let i = 0; i < n; i++) {
    const node = nodes[i];
    xs[i] = Number(node.x) || 0;
    ys[i] = Number(node.y) || 0;
    const m = meta.get(node.id) || null;
    metas[i] = m;
    indexOf.set(node.id, i);
    const imp = m && Number.isFinite(Number(m.importance)) ? Math.min(1, Math.max(0, Number(m.importance))) : 0.5;
    radius[i] = 1.5 + imp * 4;
    if (xs[i] < bounds.minX) bounds.minX = xs[i];
    if (xs[i] > bounds.maxX) bounds.maxX = xs[i];
    if (ys[i] < bounds.minY) bounds.minY = ys[i];
    if (ys[i] > bounds.maxY) bounds.maxY = ys[i];
  }
  const grid = buildGrid(xs, ys, bounds);

  // ---- layout ------------------------------------------------------------------------------
  const colorSel = h(
    "select",
    { name: "color", id: "map-color" },
    h("option", { value: "project" }, "project"),
    h("option", { value: "who" }, "who"),
    h("option", { value: "type" }, "type"),
  );
  const zoomIn = h("button", { type: "button", dataset: { action: "zoom-in" }, "aria-label": "Zoom in" }, "+");
  const zoomOut = h("button", { type: "button", dataset: { action: "zoom-out" }, "aria-label": "Zoom out" }, "−");
  const reset = h("button", { type: "button", dataset: { action: "reset-view" } }, "Reset view");
  const legend = h("ul", { class: "map-legend", dataset: { legend: "" }, "aria-label": "Colours" });
  Object.assign(legend.style, { listStyle: "none", padding: "0", margin: ".5rem 0 0", display: "flex", flexWrap: "wrap", gap: ".25rem 1rem", fontSize: ".85rem" });
  const canvas = h("canvas", {
    dataset: { map: "" },
    tabindex: "0",
    role: "img",
    "aria-label": `Embedding map of ${n} memories. Arrow keys pan, plus and minus zoom, Enter selects the point nearest the centre, Escape clears the selection.`,
  });
  Object.assign(canvas.style, { display: "block", width: "100%", height: "min(70vh, 640px)", cursor: "crosshair", touchAction: "none", borderRadius: "var(--radius, 6px)", background: "var(--code-bg)" });
  const tooltip = h("div", { class: "map-tooltip", role: "tooltip", hidden: true });
  Object.assign(tooltip.style, {
    position: "absolute", pointerEvents: "none", maxWidth: "320px", padding: ".4rem .6rem", zIndex: "2",
    background: "var(--panel)", color: "var(--fg)", border: "1px solid var(--border)", borderRadius: "6px",
    fontSize: ".85rem", boxShadow: "0 2px 8px rgba(0,0,0,.2)", overflowWrap: "anywhere", whiteSpace: "pre-wrap",
  });
  const wrap = h("div", { class: "map-wrap" }, canvas, tooltip);
  wrap.style.position = "relative";
  const selectedSlot = h("div", { class: "map-selected-slot", "aria-live": "polite" });
  const countNote = h(
    "p",
    { class: "muted", dataset: { mapCount: "" } },
    `${fmtNum(n)} memories`,
    proj.total > n ? ` of ${fmtNum(proj.total)} vectors (the projection shows at most ${fmtNum(LIMIT)})` : "",
    proj.cachedAt ? ` · layout computed ${new Date(proj.cachedAt).toLocaleString()}` : "",
  );
  main.append(
    h(
      "section",
      { class: "card", "aria-labelledby": "map-title" },
      h("h2", { id: "map-title", class: "visually-hidden" }, "Map"),
      h(
        "div",
        { class: "row" },
        h("div", { class: "field" }, h("label", { for: "map-color" }, "Colour by"), colorSel),
        h("div", { class: "actions" }, zoomIn, zoomOut, reset),
      ),
      countNote,
      wrap,
      legend,
      h("p", { class: "muted" }, "Size follows importance. Drag to pan, scroll to zoom, click a point to select it."),
    ),
    selectedSlot,
  );

  // ---- colours -----------------------------------------------------------------------------
  let colorOf = new Array(n); // colour string per point
  let groups = new Map(); // colour -> Int32Array of point indices
  function recolor() {
    const by = colorSel.value;
    const counts = new Map();
    const keys = new Array(n);
    for (let i = 0; i < n; i++) {
      keys[i] = keyOf(metas[i], by);
      counts.set(keys[i], (counts.get(keys[i]) || 0) + 1);
    }
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const colorFor = new Map();
    ranked.slice(0, PALETTE.length).forEach(([k], i) => colorFor.set(k, PALETTE[i]));
    const lists = new Map();
    for (let i = 0; i < n; i++) {
      const c = colorFor.get(keys[i]) || OTHER;
      colorOf[i] = c;
      if (!lists.has(c)) lists.set(c, []);
      lists.get(c).push(i);
    }
    groups = new Map([...lists.entries()].map(([c, l]) => [c, Int32Array.from(l)]));
    clear(legend);
    let otherCount = 0;
    for (const [k, count] of ranked) {
      const c = colorFor.get(k);
      if (!c) {
        otherCount += count;
        continue;
      }
      legend.append(legendItem(c, k, count));
    }
    if (otherCount) legend.append(legendItem(OTHER, "other", otherCount));
    draw();
  }
  function legendItem(color, label, count) {
    const swatch = h("span", { "aria-hidden": "true" });
    Object.assign(swatch.style, { display: "inline-block", width: ".8rem", height: ".8rem", borderRadius: "50%", background: color, marginRight: ".35rem", verticalAlign: "middle" });
    return h("li", null, swatch, label, h("span", { class: "muted" }, ` ${fmtNum(count)}`));
  }

  // ---- view transform ------------------------------------------------------------------------
  let cssW = 0, cssH = 0, dpr = 1;
  let zoom = 1, panX = 0, panY = 0;
  const cx0 = (bounds.minX + bounds.maxX) / 2;
  const cy0 = (bounds.minY + bounds.maxY) / 2;
  function baseScale() {
    const pad = 16;
    const dx = bounds.maxX - bounds.minX || 1;
    const dy = bounds.maxY - bounds.minY || 1;
    return Math.max(1e-9, Math.min((cssW - 2 * pad) / dx, (cssH - 2 * pad) / dy));
  }
  const scale = () => baseScale() * zoom;
  const toScreenX = (x) => cssW / 2 + (x - cx0) * scale() + panX;
  const toScreenY = (y) => cssH / 2 - (y - cy0) * scale() + panY;
  const toWorldX = (sx) => (sx - cssW / 2 - panX) / scale() + cx0;
  const toWorldY = (sy) => -(sy - cssH / 2 - panY) / scale() + cy0;

  // ---- drawing -------------------------------------------------------------------------------
  let selected = -1;
  let hovered = -1;
  let neighbours = new Set();
  let drawQueued = 0;
  const g2 = canvas.getContext("2d");
  function themeColor(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }
  function draw() {
    if (!cssW || !cssH) return;
    const s = scale();
    const grow = Math.min(3, Math.max(1, Math.sqrt(zoom)));
    g2.setTransform(dpr, 0, 0, dpr, 0, 0);
    g2.clearRect(0, 0, cssW, cssH);
    g2.globalAlpha = selected >= 0 ? 0.55 : 0.8;
    const ox = cssW / 2 - cx0 * s + panX;
    const oy = cssH / 2 + cy0 * s + panY;
    for (const [color, idx] of groups) {
      g2.fillStyle = color;
      g2.beginPath();
      for (let k = 0; k < idx.length; k++) {
        const i = idx[k];
        const sx = ox + xs[i] * s;
        const sy = oy - ys[i] * s;
        if (sx < -10 || sy < -10 || sx > cssW + 10 || sy > cssH + 10) continue;
        const r = radius[i] * grow;
        g2.moveTo(sx + r, sy);
        g2.arc(sx, sy, r, 0, Math.PI * 2);
      }
      g2.fill();
    }
    g2.globalAlpha = 1;
    const fg = themeColor("--fg", "#222");
    const accent = themeColor("--accent", "#2563eb");
    const ring = (i, color, width, extra) => {
      g2.beginPath();
      g2.arc(toScreenX(xs[i]), toScreenY(ys[i]), radius[i] * grow + extra, 0, Math.PI * 2);
      g2.lineWidth = width;
      g2.strokeStyle = color;
      g2.stroke();
    };
    for (const i of neighbours) ring(i, accent, 1.5, 2);
    if (hovered >= 0 && hovered !== selected) ring(hovered, fg, 1.5, 2);
    if (selected >= 0) {
      g2.fillStyle = colorOf[selected];
      g2.beginPath();
      g2.arc(toScreenX(xs[selected]), toScreenY(ys[selected]), radius[selected] * grow + 1, 0, Math.PI * 2);
      g2.fill();
      ring(selected, fg, 2.5, 3);
    }
    canvas.dataset.points = String(n);
  }
  function queueDraw() {
    if (drawQueued) return;
    drawQueued = requestAnimationFrame(() => {
      drawQueued = 0;
      draw();
    });
  }
  function resize() {
    const rect = canvas.getBoundingClientRect();
    dpr = window.devicePixelRatio || 1;
    cssW = Math.max(1, rect.width);
    cssH = Math.max(1, rect.height);
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    draw();
  }

  // ---- hover and selection -------------------------------------------------------------------
  function pointAt(sx, sy, px) {
    return grid.nearest(toWorldX(sx), toWorldY(sy), px === Infinity ? Infinity : px / scale());
  }
  function snippet(text, max = 240) {
    const t = String(text || "").replace(/\s+/g, " ").trim();
    return t.length > max ? `${t.slice(0, max - 1)}…` : t;
  }
  function showTooltip(i, sx, sy) {
    if (i < 0) {
      tooltip.hidden = true;
      return;
    }
    const m = metas[i];
    replace(
      tooltip,
      h("div", null, snippet(m ? m.content || m.text : nodes[i].id)),
      m ? h("div", { class: "muted" }, [m.type, m.who, m.importance !== undefined ? `importance ${Number(m.importance).toFixed(2)}` : null].filter(Boolean).join(" · ")) : null,
    );
    tooltip.hidden = false;
    const tw = tooltip.offsetWidth, th = tooltip.offsetHeight;
    let tx = sx + 14, ty = sy + 14;
    if (tx + tw > cssW) tx = Math.max(0, sx - tw - 14);
    if (ty + th > cssH) ty = Math.max(0, sy - th - 14);
    tooltip.style.left = `${tx}px`;
    tooltip.style.top = `${ty}px`;
  }

  let selectSeq = 0;
  async function select(i) {
    const my = ++selectSeq;
    selected = i;
    neighbours = new Set();
    queueDraw();
    if (i < 0) {
      clear(selectedSlot);
      return;
    }
    const id = nodes[i].id;
    const m = metas[i];
    const content = h("p", { class: "detail-content", dataset: { field: "content" } }, m ? m.content || m.text || "" : "");
    const facts = h("dl", { class: "kv" });
    const fill = (rec) => {
      clear(facts);
      const row = (k, v) => (v === null || v === undefined || v === "" ? null : [h("dt", null, k), h("dd", null, String(v))]);
      facts.append(
        ...[
          row("type", rec.type),
          row("who", rec.who),
          row("project", rec.project),
          row("importance", rec.importance !== undefined && rec.importance !== null ? Number(rec.importance).toFixed(2) : null),
          row("tags", Array.isArray(rec.tags) ? rec.tags.join(", ") : rec.tags),
          row("created", rec.createdAt || rec.created_at),
        ]
          .filter(Boolean)
          .flat(),
      );
    };
    if (m) fill(m);
    const near = h("ol", { class: "results map-neighbours", dataset: { neighbours: "" } }, h("li", { class: "muted" }, "Finding neighbours…"));
    const panel = h(
      "section",
      { class: "card", dataset: { mapSelected: id }, "aria-labelledby": "map-sel-title" },
      h("h2", { id: "map-sel-title" }, "Selected memory"),
      content,
      facts,
      h(
        "div",
        { class: "actions" },
        h("a", { href: `#/memories/${encodeURIComponent(id)}`, dataset: { action: "open-memory" } }, "Open the memory"),
        h("button", { type: "button", class: "link", dataset: { action: "clear-selection" }, onclick: () => select(-1) }, "Clear selection"),
      ),
      h("h3", null, "Neighbours"),
      near,
    );
    replace(selectedSlot, panel);

    // The full record (content, project) and the nearest memories.
    const [rec, sim] = await Promise.all([
      ctx.api(`/api/memory/${encodeURIComponent(id)}`, { quiet: true }).catch(() => null),
      ctx.api(`/memory/similar?id=${encodeURIComponent(id)}&k=8`, { quiet: true }).catch((e) => ({ failed: e })),
    ]);
    if (left || my !== selectSeq) return;
    if (rec && typeof rec === "object") {
      if (rec.content) content.textContent = rec.content;
      fill(rec);
    }
    clear(near);
    if (sim && sim.failed) near.append(h("li", { class: "muted" }, `Neighbours unavailable: ${sim.failed.message}`));
    else {
      const results = (sim && sim.results) || [];
      if (!results.length) near.append(h("li", { class: "muted" }, "No neighbours."));
      for (const r of results) {
        const j = indexOf.get(r.id);
        if (j !== undefined) neighbours.add(j);
        near.append(
          h(
            "li",
            { dataset: { memoryId: r.id } },
            h("div", { class: "result-head" }, h("span", { class: "score" }, Number(r.score).toFixed(2)), r.type ? h("span", { class: "badge" }, r.type) : null, j === undefined ? h("span", { class: "muted" }, "not on the map") : null),
            h("div", { class: "result-content" }, h("a", { href: `#/memories/${encodeURIComponent(r.id)}` }, snippet(r.content, 200))),
          ),
        );
      }
      queueDraw();
    }
  }

  // ---- input ---------------------------------------------------------------------------------
  let drag = null;
  let hoverFrame = 0;
  let lastMove = null;
  const local = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  };
  canvas.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    const [sx, sy] = local(ev);
    drag = { sx, sy, panX, panY, moved: false, id: ev.pointerId };
    canvas.setPointerCapture(ev.pointerId);
  });
  canvas.addEventListener("pointermove", (ev) => {
    const [sx, sy] = local(ev);
    if (drag) {
      const dx = sx - drag.sx, dy = sy - drag.sy;
      if (!drag.moved && dx * dx + dy * dy > 16) {
        drag.moved = true;
        canvas.style.cursor = "grabbing";
        tooltip.hidden = true;
      }
      if (drag.moved) {
        panX = drag.panX + dx;
        panY = drag.panY + dy;
        queueDraw();
        return;
      }
    }
    lastMove = [sx, sy];
    if (!hoverFrame) {
      hoverFrame = requestAnimationFrame(() => {
        hoverFrame = 0;
        if (!lastMove) return;
        const [x, y] = lastMove;
        const i = pointAt(x, y, HOVER_PX);
        if (i !== hovered) {
          hovered = i;
          queueDraw();
        }
        showTooltip(i, x, y);
      });
    }
  });
  canvas.addEventListener("pointerup", (ev) => {
    if (!drag) return;
    const wasDrag = drag.moved;
    drag = null;
    canvas.style.cursor = "crosshair";
    try {
      canvas.releasePointerCapture(ev.pointerId);
    } catch {
      /* already released */
    }
    if (wasDrag) return;
    const [sx, sy] = local(ev);
    select(pointAt(sx, sy, Infinity));
  });
  canvas.addEventListener("pointerleave", () => {
    lastMove = null;
    tooltip.hidden = true;
    if (hovered >= 0) {
      hovered = -1;
      queueDraw();
    }
  });
  function zoomAt(factor, sx, sy) {
    const wx = toWorldX(sx), wy = toWorldY(sy);
    zoom = Math.min(200, Math.max(0.5, zoom * factor));
    // Keep the world point under (sx, sy) where it was.
    panX = sx - cssW / 2 - (wx - cx0) * scale();
    panY = sy - cssH / 2 + (wy - cy0) * scale();
    tooltip.hidden = true;
    queueDraw();
  }
  canvas.addEventListener(
    "wheel",
    (ev) => {
      ev.preventDefault();
      const [sx, sy] = local(ev);
      zoomAt(Math.exp(-ev.deltaY * 0.0015), sx, sy);
    },
    { passive: false },
  );
  canvas.addEventListener("keydown", (ev) => {
    const step = 40;
    let handled = true;
    switch (ev.key) {
      case "ArrowLeft": panX += step; break;
      case "ArrowRight": panX -= step; break;
      case "ArrowUp": panY += step; break;
      case "ArrowDown": panY -= step; break;
      case "+": case "=": zoomAt(1.25, cssW / 2, cssH / 2); break;
      case "-": case "_": zoomAt(0.8, cssW / 2, cssH / 2); break;
      case "0": zoom = 1; panX = 0; panY = 0; break;
      case "Enter": case " ": select(pointAt(cssW / 2, cssH / 2, Infinity)); break;
      case "Escape": select(-1); break;
      default: handled = false;
    }
    if (handled) {
      ev.preventDefault();
      queueDraw();
    }
  });
  zoomIn.addEventListener("click", () => zoomAt(1.5, cssW / 2, cssH / 2));
  zoomOut.addEventListener("click", () => zoomAt(1 / 1.5, cssW / 2, cssH / 2));
  reset.addEventListener("click", () => {
    zoom = 1;
    panX = 0;
    panY = 0;
    queueDraw();
  });
  colorSel.addEventListener("change", recolor);

  const ro = new ResizeObserver(() => resize());
  ro.observe(canvas);
  cleanups.push(() => ro.disconnect());
  const scheme = window.matchMedia("(prefers-color-scheme: dark)");
  const onScheme = () => queueDraw();
  scheme.addEventListener("change", onScheme);
  cleanups.push(() => scheme.removeEventListener("change", onScheme));

  resize();
  recolor();
  canvas.dataset.points = String(n);
  main.dataset.ready = "true";

  return () => {
    left = true;
    if (drawQueued) cancelAnimationFrame(drawQueued);
    if (hoverFrame) cancelAnimationFrame(hoverFrame);
    for (const fn of cleanups) fn();
  };
}
