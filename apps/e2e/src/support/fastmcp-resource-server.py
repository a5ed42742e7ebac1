"""A third-party MCP server (FastMCP) that makes crossauth's orchestrator its
authorization server, configured the way its quick start says: from the
authorization server's RFC 8414 metadata alone, no crossauth code.

Usage: fastmcp-resource-server.py AUTHORIZATION_SERVER PORT MODE
  MODE "jwks": JWTVerifier on the metadata's jwks_uri, its issuer, and this
    server's MCP URL as the audience (RFC 9068 section 4).
  MODE "introspection": IntrospectionTokenVerifier at the metadata's
    introspection_endpoint, authenticating as the client whose id and secret
    are in FASTMCP_CLIENT_ID and FASTMCP_CLIENT_SECRET.
FASTMCP_ALGORITHM names the JWS algorithm for "jwks" (Ed25519 by default).
Serves protected resource metadata naming the authorization server, so MCP
clients discover it, and one tool, `whoami`, answering who the token is for.
"""

import json
import os
import sys
import urllib.request

from fastmcp import FastMCP
from fastmcp.server.auth import RemoteAuthProvider
from fastmcp.server.auth.providers.introspection import IntrospectionTokenVerifier
from fastmcp.server.auth.providers.jwt import JWTVerifier
from fastmcp.server.dependencies import get_access_token

authorization_server, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
base_url = f"http://127.0.0.1:{port}"
with urllib.request.urlopen(f"{authorization_server}/.well-known/oauth-authorization-server") as res:
    metadata = json.load(res)

if mode == "jwks":
    verifier = JWTVerifier(
        jwks_uri=metadata["jwks_uri"],
        issuer=metadata["issuer"],
        audience=f"{base_url}/mcp",
        algorithm=os.environ.get("FASTMCP_ALGORITHM", "Ed25519"),
    )
elif mode == "introspection":
    verifier = IntrospectionTokenVerifier(
        introspection_url=metadata["introspection_endpoint"],
        client_id=os.environ["FASTMCP_CLIENT_ID"],
        client_secret=os.environ["FASTMCP_CLIENT_SECRET"],
    )
else:
    sys.exit(f"unknown mode {mode!r}: jwks or introspection")

mcp = FastMCP("third-party", auth=RemoteAuthProvider(token_verifier=verifier, authorization_servers=[metadata["issuer"]], base_url=base_url))


@mcp.tool
def whoami() -> dict:
    """Who the bearer token was issued to, as this server's verifier read it."""
    token = get_access_token()
    return {"client_id": token.client_id, "subject": token.subject, "scopes": sorted(token.scopes)}


if __name__ == "__main__":
    mcp.run(transport="http", host="127.0.0.1", port=port, path="/mcp", show_banner=False)
