// Tokens (admin): the auth mode (`GET /api/auth/status`) and minting a scoped token
// (`POST /api/auth/token {role, sub?, scope?: {project, agent, user}, ttlSeconds?}`), shown
// once in `[data-token]` with a copy button. The daemon stores no token (they are signed
// with the workspace secret), so the page cannot show it again.

import { h, replace, fmtTime } from "/assets/ui.js";

const ROLES = [
  ["readonly", "recall only"],
  ["agent", "remember, recall, modify, forget, recover, documents"],
  ["operator", "everything an agent may, plus diagnostics, analytics and connectors"],
  ["admin", "everything, including minting tokens, config writes and repairs"],
];
const TTL_UNITS = [
  ["3600", "hours"],
  ["86400", "days"],
];

export async function render(main, ctx) {
  const who = ctx.whoami;
  main.append(h("h1", null, "Tokens"));

  let mode = who && who.mode;
  try {
    const st = await ctx.api("/api/auth/status", { quiet: true });
    if (st && st.mode) mode = st.mode;
  } catch (e) {
    if (e && e.status === 401) throw e;
  }

  const modeCard = h(
    "section",
    { class: "card", "aria-labelledby": "tokens-mode" },
    h("h2", { id: "tokens-mode" }, "Authentication"),
    h("dl", { class: "kv" }, h("dt", null, "Mode"), h("dd", { dataset: { authMode: mode || "" } }, mode || "unknown"),
      h("dt", null, "You"), h("dd", null, who && who.claims ? `${who.claims.sub} (${who.claims.role}${who.claims.exp ? `, until ${fmtTime(who.claims.exp)}` : ""})` : who && who.local ? "a local caller (no token needed)" : "—")),
  );
  if (mode === "local") {
    modeCard.append(
      h(
        "p",
        { class: "muted", dataset: { localNote: "" } },
        "This daemon runs in local mode: every caller on this machine is trusted and needs no token. Tokens are for team and hybrid mode (set auth.mode in agent.yaml and restart). Minting needs the workspace secret (.daemon/auth-secret), which local mode may not have created yet; `signet token create` on the host works without the API.",
      ),
    );
  } else if (mode === "hybrid") {
    modeCard.append(h("p", { class: "muted" }, "Hybrid mode: callers on this host need no token; everyone else presents one."));
  } else if (mode === "team") {
    modeCard.append(h("p", { class: "muted" }, "Team mode: every caller presents a token."));
  }
  main.append(modeCard);

  if (!ctx.can(who, "admin")) {
    main.append(h("section", { class: "card" }, h("p", { class: "muted", dataset: { denied: "" } }, "Minting tokens needs an admin token.")));
    main.dataset.ready = "true";
    return;
  }

  // ---- the mint form -----------------------------------------------------------------------
  const role = h("select", { name: "role", id: "tok-role" }, ROLES.map(([r, what]) => h("option", { value: r, selected: r === "agent" }, `${r} — ${what}`)));
  const sub = h("input", { name: "sub", id: "tok-sub", type: "text", maxlength: "256", placeholder: "e.g. claude-code:alice", autocomplete: "off" });
  const project = h("input", { name: "project", id: "tok-project", type: "text", placeholder: "any project", autocomplete: "off" });
  const agent = h("input", { name: "agent", id: "tok-agent", type: "text", placeholder: "any agent (who)", autocomplete: "off" });
  const user = h("input", { name: "user", id: "tok-user", type: "text", placeholder: "any user", autocomplete: "off" });
  const ttl = h("input", { name: "ttl", id: "tok-ttl", type: "number", min: "1", step: "1", placeholder: "default", inputmode: "numeric" });
  const ttlUnit = h("select", { name: "ttlUnit", id: "tok-ttl-unit", "aria-label": "Lifetime unit" }, TTL_UNITS.map(([v, l]) => h("option", { value: v, selected: v === "86400" }, l)));
  const mintBtn = h("button", { type: "submit", class: "primary", dataset: { action: "mint" } }, "Mint token");
  const out = h("div", { class: "token-out", "aria-live": "polite" });

  const form = h(
    "form",
    { class: "card", dataset: { mint: "" }, "aria-labelledby": "tokens-mint", novalidate: true },
    h("h2", { id: "tokens-mint" }, "Mint a token"),
    h("div", { class: "row" },
      h("div", { class: "field field-grow" }, h("label", { for: "tok-role" }, "Role"), role),
      h("div", { class: "field field-grow" }, h("label", { for: "tok-sub" }, "Subject (who the token names; default token:<role>)"), sub),
    ),
    h("p", { class: "muted" }, "Scope: leave a field empty not to restrict it. project matches a memory's project, agent its who, user its user. A scoped token sees and changes only memories inside its scope; admin tokens ignore scope."),
    h("div", { class: "row" },
      h("div", { class: "field field-grow" }, h("label", { for: "tok-project" }, "Project"), project),
      h("div", { class: "field field-grow" }, h("label", { for: "tok-agent" }, "Agent"), agent),
      h("div", { class: "field field-grow" }, h("label", { for: "tok-user" }, "User"), user),
    ),
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "tok-ttl" }, "Lifetime (empty: the daemon's default, auth.defaultTokenTtlSeconds)"), ttl),
      h("div", { class: "field" }, h("label", { for: "tok-ttl-unit" }, "Unit"), ttlUnit),
    ),
    h("div", { class: "actions" }, mintBtn),
    out,
  );

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { role: role.value };
    if (sub.value.trim()) body.sub = sub.value.trim();
    const scope = {};
    if (project.value.trim()) scope.project = project.value.trim();
    if (agent.value.trim()) scope.agent = agent.value.trim();
    if (user.value.trim()) scope.user = user.value.trim();
    if (Object.keys(scope).length) body.scope = scope;
    if (ttl.value.trim()) {
      const n = Number(ttl.value);
      if (!Number.isFinite(n) || n <= 0) {
        replace(out, h("p", { class: "error-text", role: "alert", dataset: { error: "" } }, "The lifetime must be a positive number."));
        ttl.focus();
        return;
      }
      body.ttlSeconds = Math.round(n * Number(ttlUnit.value));
    }
    mintBtn.disabled = true;
    replace(out, h("p", { class: "muted" }, "Minting…"));
    let r;
    try {
      r = await ctx.api("/api/auth/token", { method: "POST", body, quiet: true });
    } catch (e) {
      mintBtn.disabled = false;
      const why =
        e.status === 403 ? "Not permitted: minting needs an admin token." : e.status === 429 ? "Too many requests: try again shortly." : e.message;
      replace(out, h("p", { class: "error-text", role: "alert", dataset: { error: "" } }, `The token was not minted: ${why}`));
      return;
    }
    mintBtn.disabled = false;
    const tokenEl = h("code", { class: "token-value", dataset: { token: "" }, tabindex: "0" }, r.token);
    Object.assign(tokenEl.style, { display: "block", overflowWrap: "anywhere", wordBreak: "break-all", padding: ".5rem", userSelect: "all" });
    const copyNote = h("span", { class: "muted", role: "status" });
    const copy = h(
      "button",
      {
        type: "button",
        dataset: { action: "copy" },
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(r.token);
            copyNote.textContent = "Copied.";
          } catch {
            // No clipboard (insecure context or denied): select the text for Ctrl+C.
            const range = document.createRange();
            range.selectNodeContents(tokenEl);
            const sel = window.getSelection();
            sel.removeAllRanges();
            sel.addRange(range);
            copyNote.textContent = "Selected: press Ctrl+C (or ⌘C) to copy.";
          }
        },
      },
      "Copy",
    );
    const c = r.claims || {};
    const scopeText = c.scope && Object.keys(c.scope).length ? Object.entries(c.scope).map(([k, v]) => `${k}=${v}`).join(", ") : "unrestricted";
    replace(
      out,
      h(
        "div",
        { class: "token-minted", role: "status" },
        h("h3", null, "Your new token"),
        h("p", { class: "warn-text" }, "Shown once: the daemon does not store tokens (they are signed with the workspace secret), so this page cannot show it again. Copy it now. A token cannot be revoked on its own: rotate the secret to end them all, or keep lifetimes short."),
        tokenEl,
        h("div", { class: "actions" }, copy, copyNote),
        h(
          "dl",
          { class: "kv" },
          h("dt", null, "Subject"), h("dd", null, c.sub || "—"),
          h("dt", null, "Role"), h("dd", null, c.role || body.role),
          h("dt", null, "Scope"), h("dd", null, scopeText),
          h("dt", null, "Expires"), h("dd", null, r.expiresAt ? fmtTime(r.expiresAt) : "—"),
        ),
        h("p", { class: "muted" }, "Use it as a bearer header: Authorization: Bearer <token>. Never put it in a URL."),
      ),
    );
    tokenEl.focus();
  });

  main.append(form);
  main.dataset.ready = "true";
  // The minted token lives only in this view's DOM: leaving the page drops it.
  return () => replace(out);
}
