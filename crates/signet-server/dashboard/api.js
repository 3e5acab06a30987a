// The API client: one place that talks to the daemon. The token lives in sessionStorage only;
// it is sent as a bearer header, never put in a URL and never logged.

const TOKEN_KEY = "signet.token";

/** A non-2xx answer: `status`, `message` (the body's `error`), and the parsed `body`. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

const listeners = new Set();

/** Registers `fn(error)` called on every ApiError (the shell uses it for 401 and banners). */
export function onApiError(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

export function setToken(t) {
  try {
    sessionStorage.setItem(TOKEN_KEY, String(t));
  } catch {
    /* storage unavailable: the token is not kept */
  }
  whoamiCache = null;
}

export function clearToken() {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* nothing to clear */
  }
  whoamiCache = null;
}

function authHeaders(headers = {}) {
  const out = { Accept: "application/json", ...headers };
  const t = getToken();
  if (t) out.Authorization = `Bearer ${t}`;
  return out;
}

async function parseBody(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function defaultMessage(status) {
  if (status === 401) return "Authentication required";
  if (status === 403) return "Not permitted";
  if (status === 404) return "Not found";
  if (status === 429) return "Too many requests";
  if (status >= 500) return "Server error";
  return `HTTP ${status}`;
}

/**
 * Calls the API and returns the parsed JSON. `body` (an object) is sent as JSON.
 * Throws `ApiError` on a non-2xx answer or a network failure (status 0). `quiet: true` keeps
 * the shell's banner out of it (the view reports the failure where it happened).
 */
export async function api(path, { method = "GET", body, headers, signal, quiet = false } = {}) {
  const init = { method, headers: authHeaders(headers), signal, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    const err = new ApiError(0, "The daemon cannot be reached", null);
    err.quiet = quiet;
    notify(err);
    throw err;
  }
  const parsed = await parseBody(res);
  if (!res.ok) {
    const message =
      parsed && typeof parsed === "object" && typeof parsed.error === "string"
        ? parsed.error
        : defaultMessage(res.status);
    const err = new ApiError(res.status, message, parsed);
    err.retryAfter = res.headers.get("Retry-After");
    // `quiet`: the caller shows the failure itself (e.g. "not permitted" in a card); a 401
    // still reaches the shell so it can ask for a token.
    err.quiet = quiet && res.status !== 401;
    notify(err);
    throw err;
  }
  return parsed;
}

function notify(err) {
  for (const fn of listeners) {
    try {
      fn(err);
    } catch {
      /* a listener's failure is not the caller's */
    }
  }
}

let whoamiCache = null;

/** `GET /api/auth/whoami`, cached per page load (cleared on sign-in / sign-out). */
export function whoami() {
  if (!whoamiCache) {
    whoamiCache = api("/api/auth/whoami").catch((e) => {
      whoamiCache = null;
      throw e;
    });
  }
  return whoamiCache;
}

/** Forgets the cached whoami (after a sign-in). */
export function resetWhoami() {
  whoamiCache = null;
}

// The role table of the daemon (signet-core auth/role.rs).
const ROLE_GRANTS = {
  admin: () => true,
  operator: (p) => p !== "admin",
  agent: (p) =>
    ["open", "authenticated", "remember", "recall", "modify", "forget", "recover", "documents"].includes(p),
  readonly: (p) => ["open", "authenticated", "recall"].includes(p),
};

/**
 * Whether the caller described by `who` (a whoami answer) holds `permission` (`remember`,
 * `recall`, `modify`, `forget`, `recover`, `documents`, `diagnostics`, `analytics`, `admin`).
 * A local caller has full access; a token's role decides otherwise.
 */
export function can(who, permission) {
  if (!who) return false;
  if (who.local) return true;
  const role = who.claims && who.claims.role;
  const grants = ROLE_GRANTS[role];
  return grants ? grants(permission) : false;
}

/**
 * Reads a server-sent event stream with fetch (EventSource cannot send an Authorization
 * header). Calls `onEvent({ event, data, id, raw })` per frame — `data` is the parsed JSON when
 * it parses, else the text — and `onEvent({ event: "error", error })` if the stream fails.
 * Returns `{ close() }`.
 */
export function stream(path, onEvent) {
  const ctl = new AbortController();
  let closed = false;
  (async () => {
    let res;
    try {
      res = await fetch(path, {
        headers: authHeaders({ Accept: "text/event-stream" }),
        signal: ctl.signal,
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (e) {
      if (!closed) onEvent({ event: "error", error: new ApiError(0, "The daemon cannot be reached", null) });
      return;
    }
    if (!res.ok) {
      const parsed = await parseBody(res).catch(() => null);
      const message =
        parsed && typeof parsed === "object" && parsed.error ? parsed.error : defaultMessage(res.status);
      const err = new ApiError(res.status, message, parsed);
      notify(err);
      if (!closed) onEvent({ event: "error", error: err });
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    let frame = { event: "message", data: [], id: undefined };
    const dispatch = () => {
      if (frame.data.length === 0 && frame.event === "message") return;
      const raw = frame.data.join("\n");
      let data = raw;
      try {
        data = JSON.parse(raw);
      } catch {
        /* plain text */
      }
      if (!closed) onEvent({ event: frame.event, data, id: frame.id, raw });
    };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let nl;
        while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + (buf[nl] === "\r" && buf[nl + 1] === "\n" ? 2 : 1));
          if (line === "") {
            dispatch();
            frame = { event: "message", data: [], id: undefined };
            continue;
          }
          if (line.startsWith(":")) continue; // comment / keep-alive
          const colon = line.indexOf(":");
          const field = colon >= 0 ? line.slice(0, colon) : line;
          let val = colon >= 0 ? line.slice(colon + 1) : "";
          if (val.startsWith(" ")) val = val.slice(1);
          if (field === "event") frame.event = val || "message";
          else if (field === "data") frame.data.push(val);
          else if (field === "id") frame.id = val;
        }
      }
      if (!closed) onEvent({ event: "end" });
    } catch (e) {
      if (!closed && e.name !== "AbortError") onEvent({ event: "error", error: e });
    }
  })();
  return {
    close() {
      closed = true;
      ctl.abort();
    },
  };
}
