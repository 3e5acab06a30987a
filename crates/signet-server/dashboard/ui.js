// Small DOM helpers. Text is always set with textContent (escaping by construction): no HTML
// is ever built from strings.

/**
 * Creates an element. `attrs`: `class`, `dataset` (object), `style` (object, set through
 * el.style), `on<event>` (listener), booleans (set when true), other attributes as strings.
 * Children: nodes, strings (text nodes), numbers, arrays, null/undefined/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = tag.startsWith("svg:")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.setAttribute("class", Array.isArray(v) ? v.filter(Boolean).join(" ") : v);
    else if (k === "dataset") for (const [dk, dv] of Object.entries(v)) { if (dv !== undefined && dv !== null) el.dataset[dk] = String(dv); }
    else if (k === "style") Object.assign(el.style, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "value" && "value" in el) el.value = v;
    else if (k === "checked" && "checked" in el) el.checked = !!v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

/** Appends children (same rules as `h`). */
export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Removes every child of `el`. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

/** A number with thousands separators, or "—". */
export function fmtNum(n, digits) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return "—";
  const v = Number(n);
  return digits === undefined ? v.toLocaleString() : v.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A score (0.xxx) or "—". */
export function fmtScore(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return "—";
  return Number(n).toFixed(3);
}

/** A duration in seconds as "3d 4h", "5m 2s". */
export function fmtDuration(s) {
  if (s === null || s === undefined || Number.isNaN(Number(s))) return "—";
  let v = Math.floor(Number(s));
  const d = Math.floor(v / 86400); v -= d * 86400;
  const hr = Math.floor(v / 3600); v -= hr * 3600;
  const m = Math.floor(v / 60); v -= m * 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m ${v}s`;
  return `${v}s`;
}

/** A timestamp (ISO string or epoch seconds/ms) in the local format, or "—". */
export function fmtTime(t) {
  if (t === null || t === undefined || t === "") return "—";
  let d;
  if (typeof t === "number") d = new Date(t < 1e12 ? t * 1000 : t);
  else d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString();
}

/** A message paragraph for a failed card: "not permitted" on 403, else the error. */
export function errorNote(e) {
  if (e && e.status === 403) return h("p", { class: "muted", dataset: { denied: "" } }, "Not permitted");
  if (e && e.status === 404) return h("p", { class: "muted" }, "Not available on this daemon");
  return h("p", { class: "error-text" }, (e && e.message) || "Failed to load");
}

/** A labelled form field: `<label>text <input></label>` with the label tied to the control. */
let fieldSeq = 0;
export function field(labelText, control, hint) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, labelText), control, hint ? h("small", { class: "muted" }, hint) : null);
}

/** A card with a heading. */
export function card(title, ...children) {
  return h("section", { class: "card" }, h("h2", null, title), ...children);
}

/** Draws a sparkline of `values` into an SVG element (created if absent). */
export function sparkline(values, { width = 240, height = 48, label = "", svg } = {}) {
  const el = svg || h("svg:svg", { class: "spark", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, preserveAspectRatio: "none" });
  clear(el);
  const vals = values.filter((v) => Number.isFinite(v));
  if (label) el.setAttribute("aria-label", label);
  if (vals.length < 2) {
    el.append(h("svg:line", { x1: 0, y1: height - 1, x2: width, y2: height - 1, class: "spark-base" }));
    return el;
  }
  const max = Math.max(...vals), min = Math.min(0, ...vals);
  const span = max - min || 1;
  const step = width / (values.length - 1);
  const pts = values.map((v, i) => {
    const y = Number.isFinite(v) ? height - 2 - ((v - min) / span) * (height - 4) : height - 2;
    return `${(i * step).toFixed(1)},${y.toFixed(1)}`;
  });
  el.append(h("svg:polyline", { points: pts.join(" "), class: "spark-line", fill: "none" }));
  el.append(h("svg:polygon", { points: `0,${height} ${pts.join(" ")} ${width},${height}`, class: "spark-fill" }));
  return el;
}
