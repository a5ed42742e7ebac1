"""A real Python MCP client (the official `mcp` package) for the e2e suite.

Usage: python-mcp-client.py URL ERA TOOL ARGS_JSON
  ERA is "legacy" (the 2025 initialize handshake, with a session) or
  "modern" (2026-07-28 server/discover, one request per call).
The bearer token comes from the MCP_TOKEN environment variable, never argv;
or, given MCP_CLIENT_ID, MCP_CLIENT_SECRET and MCP_ISSUER, the client gets its
own by discovery and client credentials (the SDK's ClientCredentialsOAuthProvider).
Prints one JSON line: the negotiated version, the listed tool names and the
call's result, or {"error": ...} with the failure the client reported.
"""

import asyncio
import json
import os
import sys

from mcp.client.auth import TokenStorage
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens) -> None:
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info) -> None:
        self.client_info = client_info


async def main(url: str, era: str, tool: str, args: dict) -> dict:
    headers = {"Authorization": f"Bearer {os.environ['MCP_TOKEN']}"} if os.environ.get("MCP_TOKEN") else {}
    auth = None
    if os.environ.get("MCP_CLIENT_ID"):
        auth = ClientCredentialsOAuthProvider(
            server_url=url,
            storage=MemoryStorage(),
            client_id=os.environ["MCP_CLIENT_ID"],
            client_secret=os.environ["MCP_CLIENT_SECRET"],
            issuer=os.environ["MCP_ISSUER"],
        )
    async with create_mcp_http_client(headers=headers, auth=auth) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                if era == "modern":
                    await session.discover()
                else:
                    await session.initialize()
                tools = await session.list_tools()
                result = await session.call_tool(tool, args)
                return {
                    "protocol_version": session.protocol_version,
                    "tools": sorted(t.name for t in tools.tools),
                    "result": result.model_dump(mode="json", by_alias=True, exclude_none=True),
                }


def leaves(error: BaseException) -> list[BaseException]:
    """The failures inside (nested) exception groups, which anyio task groups raise."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


if __name__ == "__main__":
    try:
        out = asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])))
    except BaseException as error:  # noqa: BLE001 - the e2e asserts on what failed
        out = {"error": "; ".join(f"{type(e).__name__}: {e}" for e in leaves(error))}
    print(json.dumps(out))
