// Settings: the workspace's `agent.yaml` and identity files (`GET /api/config`, admin), each
// edited in a textarea and saved with `POST /api/config {file, content}`. The daemon checks an
// `agent.yaml` with its start-up loader and refuses an invalid one (400 naming the key and
// why): that message is shown in `[data-error]` and nothing is written.

import { h, replace, fmtNum } from "/assets/ui.js";

const CONFIG = "agent.yaml";

function status(kind, text) {
  // Only one of [data-message] / [data-error] exists at a time, and only while it says something.
  const attrs =
    kind === "error"
      ? { class: "error-text", role: "alert", dataset: { error: "" } }
      : { class: "ok-text", role: "status", dataset: { message: "" } };
  return h("p", attrs, text);
}

export async function render(main, ctx) {
  const admin = ctx.can(ctx.whoami, "admin");
  main.append(h("h1", null, "Settings"));

  if (!admin) {
    main.append(
      h(
        "section",
        { class: "card" },
        h("p", { class: "muted", dataset: { denied: "" } }, "Reading and editing the workspace files needs an admin token."),
      ),
    );
    main.dataset.ready = "true";
    return;
  }

  let files;
  try {
    const r = await ctx.api("/api/config", { quiet: true });
    files = (r && r.files) || [];
  } catch (e) {
    if (e && e.status === 401) throw e;
    main.append(h("section", { class: "card" }, status("error", `Could not read the workspace files: ${e.message}`)));
    main.dataset.ready = "true";
    return;
  }

  const dirty = new Set();
  const beforeUnload = (ev) => {
    if (dirty.size) {
      ev.preventDefault();
      ev.returnValue = "";
    }
  };
  window.addEventListener("beforeunload", beforeUnload);

  /** One editor: a textarea, a save and a revert button, and its status line. */
  function editor(file, { isConfig }) {
    const id = `file-${file.name.replace(/[^a-z0-9]+/gi, "-")}`;
    let saved = file.content;
    const textarea = h("textarea", {
      id,
      name: isConfig ? "agent-yaml" : `file-${file.name}`,
      dataset: { file: file.name },
      rows: isConfig ? "24" : "14",
      spellcheck: isConfig ? "false" : "true",
      autocomplete: "off",
      "aria-describedby": `${id}-help`,
    });
    textarea.value = file.content;
    Object.assign(textarea.style, { width: "100%", fontFamily: isConfig ? "var(--mono, monospace)" : "" });
    const statusSlot = h("div", { class: "file-status", "aria-live": "polite" });
    const sizeNote = h("span", { class: "muted" }, `${fmtNum(file.size)} bytes`);
    const saveBtn = h(
      "button",
      { type: "submit", class: "primary", dataset: isConfig ? { action: "save-config" } : { action: "save-file", file: file.name } },
      `Save ${file.name}`,
    );
    const revertBtn = h(
      "button",
      {
        type: "button",
        dataset: { action: "revert", file: file.name },
        onclick: () => {
          textarea.value = saved;
          dirty.delete(file.name);
          replace(statusSlot);
        },
      },
      "Revert",
    );
    textarea.addEventListener("input", () => {
      if (textarea.value !== saved) dirty.add(file.name);
      else dirty.delete(file.name);
    });
    const form = h(
      "form",
      { class: "file-editor", dataset: { fileEditor: file.name }, novalidate: true },
      h("div", { class: "field" }, h("label", { for: id }, file.name), textarea),
      h(
        "p",
        { id: `${id}-help`, class: "muted" },
        isConfig
          ? "Checked by the daemon with its start-up loader before anything is written: an invalid file is refused with the key and the reason, and the file on disk stays as it was. Pipeline and search settings apply at once (the file is watched); embedding, auth and network settings need a restart."
          : "An identity file, given to agents at session start. Saved as is.",
      ),
      h("div", { class: "actions" }, saveBtn, revertBtn, sizeNote),
      statusSlot,
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const content = textarea.value;
      saveBtn.disabled = true;
      replace(statusSlot, h("p", { class: "muted" }, "Saving…"));
      try {
        await ctx.api("/api/config", { method: "POST", body: { file: file.name, content }, quiet: true });
        saved = content;
        if (textarea.value === saved) dirty.delete(file.name);
        sizeNote.textContent = `${fmtNum(new TextEncoder().encode(content).length)} bytes`;
        replace(statusSlot, status("message", `Saved ${file.name}.`));
      } catch (e) {
        if (e && e.status === 401) {
          // The shell asks for a token (the API client told it).
          replace(statusSlot, status("error", "Sign-in required: enter a token, then save again."));
          return;
        }
        const why =
          e.status === 400
            ? `${e.message} — nothing was written.`
            : e.status === 403
              ? "Not permitted: saving needs an admin token."
              : e.status === 429
                ? `Too many requests${e.retryAfter ? `: try again in ${e.retryAfter} s` : ""}.`
                : `Could not save ${file.name}: ${e.message}`;
        replace(statusSlot, status("error", why));
        textarea.focus();
      } finally {
        saveBtn.disabled = false;
      }
    });
    // Ctrl/Cmd+S saves the file being edited.
    textarea.addEventListener("keydown", (ev) => {
      if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "s") {
        ev.preventDefault();
        form.requestSubmit();
      }
    });
    return form;
  }

  const config = files.find((f) => f.name === CONFIG) || { name: CONFIG, content: "", size: 0, missing: true };
  main.append(
    h(
      "section",
      { class: "card", "aria-labelledby": "settings-config" },
      h("h2", { id: "settings-config" }, "Configuration"),
      config.missing ? h("p", { class: "muted" }, "There is no agent.yaml in the workspace yet: the daemon runs on its defaults. Saving creates it.") : null,
      editor(config, { isConfig: true }),
    ),
  );

  const others = files.filter((f) => f.name !== CONFIG);
  const identity = others.filter((f) => f.name.endsWith(".md"));
  const yaml = others.filter((f) => !f.name.endsWith(".md"));
  const section = h(
    "section",
    { class: "card", "aria-labelledby": "settings-identity" },
    h("h2", { id: "settings-identity" }, "Identity files"),
  );
  if (identity.length === 0) section.append(h("p", { class: "muted" }, "No identity files (AGENTS.md, SOUL.md, IDENTITY.md, USER.md) in the workspace."));
  for (const f of identity) {
    section.append(h("details", { class: "file", open: identity.length === 1 }, h("summary", null, f.name, " ", h("span", { class: "muted" }, `${fmtNum(f.size)} bytes`)), editor(f, { isConfig: false })));
  }
  main.append(section);
  if (yaml.length) {
    const other = h("section", { class: "card", "aria-labelledby": "settings-other" }, h("h2", { id: "settings-other" }, "Other files"));
    for (const f of yaml) other.append(h("details", { class: "file" }, h("summary", null, f.name), editor(f, { isConfig: false })));
    main.append(other);
  }

  main.dataset.ready = "true";
  return () => window.removeEventListener("beforeunload", beforeUnload);
}
