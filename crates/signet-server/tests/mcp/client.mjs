// Drives Signet's MCP server with the official TypeScript SDK (@modelcontextprotocol/sdk).
//
// Run by crates/signet/tests/it/mcp.rs (from a directory whose node_modules holds the SDK),
// which decides what to call and checks the report. Same input and output as client.py:
//   MCP_TRANSPORT "http" | "stdio"; MCP_URL; MCP_TOKEN; MCP_COMMAND (JSON array); MCP_CALLS
//   (JSON array of {name, arguments}; "$N.key" is replaced from the JSON answer of call N).
//   stdout: {"initialize": {server, protocol} | {error}, "tools": [...], "calls": [...]}
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const PLACEHOLDER = /^\$(\d+)\.(\w+)$/;

function resolve(value, answers) {
  if (typeof value === "string") {
    const m = PLACEHOLDER.exec(value);
    return m ? answers[Number(m[1])][m[2]] : value;
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, answers));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [resolve(k, answers), resolve(v, answers)]),
    );
  }
  return value;
}

function transport() {
  const env = process.env;
  if (env.MCP_TRANSPORT === "http") {
    const headers = env.MCP_TOKEN ? { Authorization: `Bearer ${env.MCP_TOKEN}` } : {};
    return new StreamableHTTPClientTransport(new URL(env.MCP_URL), { requestInit: { headers } });
  }
  const [command, ...args] = JSON.parse(env.MCP_COMMAND);
  return new StdioClientTransport({ command, args, env: { ...env }, stderr: "inherit" });
}

const report = { initialize: null, tools: [], calls: [] };
const client = new Client({ name: "signet-test-node", version: "0.0.0" });
try {
  await client.connect(transport());
  report.initialize = {
    server: client.getServerVersion()?.name,
    protocol: client.transport?.protocolVersion ?? null,
  };
  const listed = await client.listTools();
  report.tools = listed.tools.map((t) => ({
    name: t.name,
    description: t.description,
    schema: t.inputSchema,
  }));
  const answers = [];
  for (const call of JSON.parse(process.env.MCP_CALLS ?? "[]")) {
    const result = await client.callTool({
      name: call.name,
      arguments: resolve(call.arguments ?? {}, answers),
    });
    const text = result.content
      .filter((c) => c.type === "text")
      .map((c) => c.text)
      .join("");
    report.calls.push({ isError: result.isError === true, text });
    try {
      answers.push(JSON.parse(text));
    } catch {
      answers.push({});
    }
  }
} catch (e) {
  const message = `${e?.name ?? "Error"}: ${e?.message ?? e}`;
  if (report.initialize === null) report.initialize = { error: message };
  else report.error = message;
} finally {
  await client.close().catch(() => {});
}
process.stdout.write(JSON.stringify(report) + "\n");
