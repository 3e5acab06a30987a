"""Drives Signet's MCP server with the official Python SDK (`pip install mcp`).

Run by crates/signet/tests/it/mcp.rs, which decides what to call and checks the report.
Input (environment):
  MCP_TRANSPORT  "http" or "stdio"
  MCP_URL        the /mcp endpoint (http)
  MCP_TOKEN      bearer token sent over http (optional)
  MCP_COMMAND    the server command line as a JSON array (stdio); the child inherits this
                 process's environment, so SIGNET_* variables reach `signet mcp`
  MCP_CALLS      JSON array of {"name", "arguments"}; a string argument "$N.key" is replaced
                 by the value of key in the JSON answer of call N
Output: one JSON object on stdout:
  {"initialize": {"server", "protocol"} | {"error"},
   "tools": [{"name", "description", "schema"}], "calls": [{"isError", "text"}]}
"""

import asyncio
import json
import os
import re
import sys

import httpx2
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

PLACEHOLDER = re.compile(r"^\$(\d+)\.(\w+)$")


def resolve(value, answers):
    """Replaces "$N.key" strings (anywhere in the arguments) from earlier answers."""
    if isinstance(value, str):
        m = PLACEHOLDER.match(value)
        return answers[int(m.group(1))][m.group(2)] if m else value
    if isinstance(value, dict):
        return {resolve(k, answers): resolve(v, answers) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, answers) for v in value]
    return value


async def scenario(read, write, report):
    async with ClientSession(read, write) as session:
        init = await session.initialize()
        report["initialize"] = {
            "server": init.server_info.name,
            "protocol": init.protocol_version,
        }
        tools = await session.list_tools()
        report["tools"] = [
            {"name": t.name, "description": t.description, "schema": t.input_schema}
            for t in tools.tools
        ]
        answers = []
        for call in json.loads(os.environ.get("MCP_CALLS", "[]")):
            args = resolve(call.get("arguments", {}), answers)
            result = await session.call_tool(call["name"], args)
            text = "".join(c.text for c in result.content if c.type == "text")
            report["calls"].append({"isError": bool(result.is_error), "text": text})
            try:
                answers.append(json.loads(text))
            except ValueError:
                answers.append({})


async def main():
    report = {"initialize": None, "tools": [], "calls": []}
    try:
        if os.environ["MCP_TRANSPORT"] == "http":
            headers = {}
            if os.environ.get("MCP_TOKEN"):
                headers["Authorization"] = "Bearer " + os.environ["MCP_TOKEN"]
            async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
                async with streamable_http_client(os.environ["MCP_URL"], http_client=http) as (r, w):
                    await scenario(r, w, report)
        else:
            command = json.loads(os.environ["MCP_COMMAND"])
            params = StdioServerParameters(
                command=command[0], args=command[1:], env=dict(os.environ)
            )
            async with stdio_client(params) as (r, w):
                await scenario(r, w, report)
    except BaseException as e:  # noqa: BLE001 - the report says what went wrong
        if report["initialize"] is None:
            report["initialize"] = {"error": describe(e)}
        else:
            report["error"] = describe(e)
    print(json.dumps(report))


def describe(e):
    """The message of an exception, or of the exceptions an exception group holds."""
    inner = getattr(e, "exceptions", None)
    if inner:
        return "; ".join(describe(x) for x in inner)
    return f"{type(e).__name__}: {e}"


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
