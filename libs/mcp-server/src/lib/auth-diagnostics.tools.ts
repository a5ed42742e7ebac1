import { Inject, Injectable } from '@nestjs/common';
import { AUTH_OPTIONS, AuthError, TokenVerifierService, signingKeyId, verificationKeyIds, type ResolvedAuthOptions } from '@crossauth/auth';
import { z } from 'zod';
import { McpSessionRegistry } from './mcp-session-registry.service';
import { McpTool } from './mcp-tool.decorator';

const validateInput = z.object({ token_to_check: z.string().min(1).max(16_384) });

const decode = (segment: string | undefined): unknown => {
  try {
    return JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8'));
  } catch {
    return null;
  }
};

/**
 * Token and session diagnostics, done safely: admin only, and never a secret,
 * its length, a signature or a raw session id in the output.
 */
@Injectable()
export class AuthDiagnosticsTools {
  constructor(
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
    private readonly verifier: TokenVerifierService,
    private readonly sessions: McpSessionRegistry,
  ) {}

  @McpTool({
    name: 'jwt_diagnostics',
    description: 'How this server checks tokens: mode, algorithm, issuers, audiences, key ids, skew, legacy acceptance.',
    scopes: ['admin'],
    annotations: { readOnlyHint: true },
  })
  jwtDiagnostics() {
    const rule = this.auth.requireSignedRequests;
    return {
      auth_mode: this.auth.mode,
      // What verifies here: HS256 with the shared-secret ring, EdDSA/ES256 with published keys.
      algorithms: [...(this.auth.keyRing ? ['HS256'] : []), ...(this.auth.publicKeys ? ['EdDSA', 'ES256'] : [])],
      public_key_issuers: this.auth.publicKeys?.issuers ?? [],
      accepted_issuers: this.auth.allowedIssuers,
      audiences: this.auth.audiences,
      key_ids: verificationKeyIds(this.auth),
      signing_key_id: signingKeyId(this.auth),
      clock_skew_seconds: this.auth.clockSkewSeconds,
      max_token_bytes: this.auth.maxTokenBytes,
      max_token_lifetime_seconds: this.auth.maxTokenLifetimeSeconds,
      accepts_legacy_tokens: this.auth.acceptLegacyTokens,
      signed_requests_required_for: rule === 'off' ? [] : rule === 'all' ? ['*'] : rule,
      verification_cache: this.verifier.cacheStats,
    };
  }

  @McpTool({
    name: 'validate_jwt_token',
    description: 'Decode a token and say exactly whether this server would accept it, and why not.',
    scopes: ['admin'],
    input: validateInput,
    annotations: { readOnlyHint: true },
  })
  validateJwtToken(input: z.infer<typeof validateInput>) {
    const [h, p] = input.token_to_check.split('.');
    const header = decode(h);
    const claims = decode(p);
    try {
      const principal = this.verifier.verifyUncached(input.token_to_check);
      return {
        valid: true,
        header,
        claims,
        principal: {
          subject: principal.subject,
          issuer: principal.issuer,
          scopes: principal.scopes,
          actor: principal.actor ?? null,
          expires_at: new Date(principal.expiresAt * 1000).toISOString(),
        },
      };
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return { valid: false, reason: error.reason, description: error.message, detail: error.detail ?? null, header, claims };
    }
  }

  @McpTool({
    name: 'session_diagnostics',
    description: 'Open MCP sessions (ids as short hashes), their owners and idle ages, and verification-cache use.',
    scopes: ['admin'],
    annotations: { readOnlyHint: true },
  })
  sessionDiagnostics() {
    const sessions = this.sessions.describe();
    return { session_count: sessions.length, sessions: sessions.slice(0, 200), verification_cache: this.verifier.cacheStats };
  }
}
