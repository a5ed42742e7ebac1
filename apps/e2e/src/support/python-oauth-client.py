"""The official Python `mcp` client signing a person in (its OAuthClientProvider), for the e2e suite.

Usage: python-oauth-client.py MCP_URL REDIRECT_URI [CLIENT_METADATA_URL]
Talks to the test over stdio, one JSON object per line:
  out {"authorize": URL}       the SDK sends the person to URL; the test answers with one line,
  in  "<callback query>"       the query the browser brought back to REDIRECT_URI, or "stop"
  out {"step": ..., ...}       what each step saw
Steps: call `start`; wait until the access token has expired by the lifetime the server gave
(`expires_in`), call again (the SDK refreshes); wait for the line "again", call once more.
"""

import asyncio
import json
import sys
import time
from urllib.parse import parse_qs

from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata


def say(**fields) -> None:
    print(json.dumps(fields), flush=True)


async def read_line() -> str:
    return (await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)).strip()


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens = None
        self.client_info = None
        self.saved_at = 0.0

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens) -> None:
        self.tokens = tokens
        self.saved_at = time.time()

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info) -> None:
        self.client_info = client_info


async def redirect(url: str) -> None:
    say(authorize=url)


async def callback() -> AuthorizationCodeResult:
    line = await read_line()
    if line == "stop":
        raise RuntimeError("the person did not sign in again")
    params = {k: v[0] for k, v in parse_qs(line).items()}
    return AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))


async def call(provider: OAuthClientProvider, url: str, tool: str, args: dict) -> dict:
    async with create_mcp_http_client(auth=provider) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(tool, args)
                return result.model_dump(mode="json", by_alias=True, exclude_none=True)


def leaves(error: BaseException) -> list[BaseException]:
    """The failures inside (nested) exception groups, which anyio task groups raise."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


async def main(url: str, redirect_uri: str, metadata_url: str | None) -> None:
    storage = MemoryStorage()
    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="Python mcp client",
            redirect_uris=[redirect_uri],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect,
        callback_handler=callback,
        client_metadata_url=metadata_url,
    )
    say(step="first", result=await call(provider, url, "start", {"project": "python-oauth"}))
    first = storage.tokens
    # The access token's lifetime as the server stated it, then a moment: the SDK now holds an expired token.
    while time.time() <= storage.saved_at + (first.expires_in or 0) + 1:
        await asyncio.sleep(0.2)
    say(step="expired", result=await call(provider, url, "list_sessions", {}), rotated=storage.tokens.refresh_token != first.refresh_token)
    say(step="waiting")
    if await read_line() == "again":
        try:
            say(step="after", result=await call(provider, url, "list_sessions", {}))
        except BaseException as error:  # noqa: BLE001 - the e2e asserts on what failed
            say(step="after", error="; ".join(f"{type(e).__name__}: {e}" for e in leaves(error)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
