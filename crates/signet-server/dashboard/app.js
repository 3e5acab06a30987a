// The shell: navigation, the hash router, sign-in on 401, the error banner, and the lifecycle
// of the views (`views/<name>.js` exports `render(main, ctx)`, may return a cleanup function).

import { api, ApiError, whoami, can, setToken, clearToken, getToken, onApiError, resetWhoami } from "/assets/api.js";
import { h, clear } from "/assets/ui.js";

const VIEWS = ["overview", "memories", "map", "live", "pipeline", "settings", "tokens"];
const TITLES = {
  overview: "Overview",
  memories: "Memories",
  map: "Embedding map",
  live: "Live",
  pipeline: "Pipeline",
  settings: "Settings",
  tokens: "Tokens",
};

let cleanup = null; // the current view's cleanup
let seq = 0; // increases on every navigation; stale renders are discarded
let signinShown = false;

function parseHash() {
  const raw = (location.hash || "").replace(/^#\/?/, "");
  const parts = raw.split("/").filter((p) => p !== "").map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const name = parts.shift() || "overview";
  return { name, params: parts };
}

/** Navigates to a hash route ("/memories/x", "#/memories/x" or "memories/x"). */
function navigate(to) {
  const target = "#/" + String(to).replace(/^#?\/?/, "");
  if (location.hash === target) route({ focus: true });
  else location.hash = target;
}

// ---- error banner -------------------------------------------------------------------------

function bannerMessage(err) {
  const s = err.status;
  const detail = err.message ? `: ${err.message}` : "";
  if (s === 0) return "The daemon cannot be reached. Is it running?";
  if (s === 401) return `Sign-in required${detail}. Enter a token to continue.`;
  if (s === 403) return `Not permitted${detail}. Your token's role or scope does not allow this.`;
  if (s === 429) {
    const wait = err.retryAfter ? ` Try again in ${err.retryAfter} s.` : " Try again shortly.";
    return `Too many requests${detail}.${wait}`;
  }
  if (s >= 500) return `The daemon failed (HTTP ${s})${detail}.`;
  return `Request failed (HTTP ${s})${detail}.`;
}

/** Shows a message in the banner (`[data-error]`); the element exists only while shown. */
export function showError(message, kind = "error") {
  const slot = document.getElementById("banner");
  clear(slot);
  slot.append(
    h(
      "div",
      { class: ["banner", `banner-${kind}`], role: "alert" },
      h("span", { class: "banner-text", dataset: { error: "" } }, message),
      h("button", { type: "button", class: "banner-close", "aria-label": "Dismiss message", onclick: hideError }, "×"),
    ),
  );
}

export function hideError() {
  clear(document.getElementById("banner"));
}

onApiError((err) => {
  if (!(err instanceof ApiError)) return;
  if (err.quiet) return;
  if (err.status === 401) {
    showSignin(err);
    return;
  }
  if (err.status === 403 || err.status === 429 || err.status === 0 || err.status >= 500) {
    showError(bannerMessage(err), err.status === 403 ? "warn" : "error");
  }
});

// ---- sign-in ------------------------------------------------------------------------------

function showSignin(err) {
  // A token the daemon refuses (expired, malformed, revoked secret) is of no further use.
  if (getToken()) clearToken();
  showError(bannerMessage(err));
  if (signinShown) return;
  signinShown = true;
  // The view behind it cannot load: stop it.
  runCleanup();
  const main = document.getElementById("main");
  clear(main);
  main.removeAttribute("aria-busy");
  const input = h("input", {
    name: "token",
    id: "signin-token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "signin-help",
  });
  const form = h(
    "form",
    { class: "card signin", dataset: { signin: "" }, "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, "Sign in"),
    h(
      "p",
      { id: "signin-help", class: "muted" },
      "This daemon requires a token. It is kept in this tab's session storage only and sent as a bearer header.",
    ),
    h("div", { class: "field" }, h("label", { for: "signin-token" }, "Token"), input),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign in")),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) {
      input.focus();
      return;
    }
    setToken(t);
    resetWhoami();
    input.value = "";
    hideSignin();
    hideError();
    drawWhoami();
    route({ focus: true });
  });
  const slot = document.getElementById("signin-slot");
  clear(slot);
  slot.append(form);
  setTimeout(() => input.focus(), 0);
}

function hideSignin() {
  signinShown = false;
  clear(document.getElementById("signin-slot"));
}

// ---- who am I -----------------------------------------------------------------------------

async function drawWhoami() {
  const box = document.getElementById("whoami");
  clear(box);
  if (!getToken() && (await authMode()) === "team") return null;
  let who;
  try {
    who = await whoami();
  } catch {
    return null;
  }
  let label;
  if (who.local) label = `${who.mode} mode · local access`;
  else if (who.claims) label = `${who.claims.sub} · ${who.claims.role}`;
  else label = `${who.mode} mode`;
  box.append(h("span", { class: "who", dataset: { who: "" } }, label));
  if (getToken()) {
    box.append(
      h(
        "button",
        {
          type: "button",
          class: "link",
          dataset: { action: "signout" },
          onclick: () => {
            clearToken();
            resetWhoami();
            location.reload();
          },
        },
        "Sign out",
      ),
    );
  }
  return who;
}

let modePromise = null;
/** The daemon's auth mode (`GET /api/auth/status`, open in every mode), once per page load. */
function authMode() {
  if (!modePromise) {
    modePromise = api("/api/auth/status", { quiet: true })
      .then((s) => s.mode)
      .catch(() => null);
  }
  return modePromise;
}

// ---- router -------------------------------------------------------------------------------

function runCleanup() {
  const fn = cleanup;
  cleanup = null;
  if (typeof fn === "function") {
    try {
      fn();
    } catch (e) {
      console.warn("view cleanup failed", e);
    }
  }
}

function freshMain() {
  // A new <main> per navigation so listeners a view put on it do not outlive it.
  const old = document.getElementById("main");
  const main = h("main", { id: "main", tabindex: "-1", "aria-live": "polite", "aria-busy": "true" });
  old.replaceWith(main);
  return main;
}

function markNav(name) {
  for (const a of document.querySelectorAll("a[data-nav]")) {
    if (a.dataset.nav === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function route({ focus = false } = {}) {
  const my = ++seq;
  runCleanup();
  hideError();
  const { name, params } = parseHash();
  markNav(name);
  const main = freshMain();
  main.dataset.view = name;
  document.title = `${TITLES[name] || "Not found"} · Signet`;
  if (focus) main.focus({ preventScroll: true });

  if (!VIEWS.includes(name)) {
    main.append(
      h("h1", null, "Not found"),
      h("p", null, "There is no view named “", name, "”. ", h("a", { href: "#/overview" }, "Go to the overview"), "."),
    );
    main.removeAttribute("aria-busy");
    main.dataset.ready = "true";
    return;
  }

  // In team mode without a token every call answers 401: ask for one straight away.
  if (!getToken() && (await authMode()) === "team") {
    if (my !== seq) return;
    main.removeAttribute("aria-busy");
    showSignin(new ApiError(401, "this daemon runs in team mode", null));
    return;
  }
  if (my !== seq) return;

  let who;
  try {
    who = await whoami();
  } catch (e) {
    if (my !== seq) return;
    main.removeAttribute("aria-busy");
    if (e instanceof ApiError && e.status === 401) return; // the sign-in form is shown
    main.append(h("h1", null, TITLES[name]), h("p", { class: "error-text" }, "Cannot identify the caller: ", e.message || String(e)));
    return;
  }
  if (my !== seq) return;
  if (signinShown) hideSignin();

  let mod;
  try {
    mod = await import(`/assets/views/${name}.js`);
  } catch (e) {
    if (my !== seq) return;
    console.warn(`view ${name} failed to load`, e);
    main.removeAttribute("aria-busy");
    main.append(
      h("h1", null, TITLES[name]),
      h("p", { class: "error-text", dataset: { unavailable: "" } }, "This view is unavailable: its module failed to load."),
    );
    return;
  }
  if (my !== seq) return;
  if (typeof mod.render !== "function") {
    main.removeAttribute("aria-busy");
    main.append(h("h1", null, TITLES[name]), h("p", { class: "error-text" }, "This view is unavailable."));
    return;
  }

  const ctx = { api, whoami: who, can, navigate, params, showError };
  try {
    const result = await mod.render(main, ctx);
    if (my !== seq) {
      // Navigated away while rendering: clean up at once.
      if (typeof result === "function") {
        try {
          result();
        } catch {
          /* ignore */
        }
      }
      return;
    }
    cleanup = typeof result === "function" ? result : null;
  } catch (e) {
    if (my !== seq) return;
    if (e instanceof ApiError && e.status === 401) return;
    console.warn(`view ${name} failed`, e);
    main.append(h("p", { class: "error-text", role: "alert" }, "This view failed: ", (e && e.message) || String(e)));
  } finally {
    if (my === seq) main.removeAttribute("aria-busy");
  }
}

window.addEventListener("hashchange", () => route({ focus: true }));

// Keyboard: Alt+1..7 jumps to a view.
document.addEventListener("keydown", (ev) => {
  if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const i = Number(ev.key) - 1;
  if (Number.isInteger(i) && i >= 0 && i < VIEWS.length) {
    ev.preventDefault();
    navigate(VIEWS[i]);
  }
});

document.querySelector("[data-skip]")?.addEventListener("click", (ev) => {
  ev.preventDefault();
  document.getElementById("main")?.focus();
});

if (!location.hash) history.replaceState(null, "", "#/overview");
drawWhoami();
route();
