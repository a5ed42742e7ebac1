import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AUTH_OPTIONS,
  AuthError,
  TokenVerifierService,
  subjectRevocationCutoff,
  verificationKeyIds,
  type Principal,
  type ResolvedAuthOptions,
  type TokenGrant,
} from '@crossauth/auth';
import { McpTool, ToolError } from '@crossauth/mcp-server';
import { z } from 'zod';
import { PersistentRevocationStore } from '@crossauth/storage';

const revokeTokenInput = z.object({
  jti: z.string().min(1).max(128).optional(),
  token_to_revoke: z.string().min(1).max(8192).optional(),
});
const revokeSubjectInput = z.object({
  subject: z.string().regex(/^[\w.@:+-]{1,256}$/, 'subject must be a plain identifier'),
  issued_before: z.iso.datetime({ offset: true }).optional(),
});

/** Admin tools that revoke tokens, effective at once and across restarts. */
@Injectable()
export class RevocationTools {
  private readonly logger = new Logger(RevocationTools.name);

  constructor(
    private readonly store: PersistentRevocationStore,
    private readonly verifier: TokenVerifierService,
    @Inject(AUTH_OPTIONS) private readonly auth: ResolvedAuthOptions,
  ) {}

  @McpTool({
    name: 'revoke_token',
    description: 'Revoke one token, by its jti or by the token itself (its signature must be ours; it may have expired).',
    scopes: ['admin'],
    input: revokeTokenInput,
    annotations: { destructiveHint: true, idempotentHint: true },
  })
  async revokeToken(input: z.infer<typeof revokeTokenInput>, principal: Principal) {
    const now = Math.floor(Date.now() / 1000);
    let jti = input.jti;
    let expiresAt = now + this.auth.maxTokenLifetimeSeconds + this.auth.clockSkewSeconds;
    if (input.token_to_revoke) {
      if (verificationKeyIds(this.auth).length === 0) throw new ToolError('auth is disabled: there is nothing to revoke', 'auth_disabled');
      let grant: TokenGrant;
      try {
        grant = this.verifier.grantOf(input.token_to_revoke);
      } catch (error) {
        if (error instanceof AuthError) throw new ToolError(`token_to_revoke: not a token of ours (${error.reason})`, 'invalid_argument');
        throw error;
      }
      if (!grant.tokenId) throw new ToolError('token_to_revoke: it has no jti; revoke its subject instead', 'invalid_argument');
      jti = grant.tokenId;
      if (grant.expiresAt !== undefined) expiresAt = Math.min(expiresAt, grant.expiresAt + this.auth.clockSkewSeconds);
    }
    if (!jti) throw new ToolError('jti or token_to_revoke is required', 'invalid_argument');
    await this.store.revokeToken(jti, expiresAt, principal.subject);
    const evicted = this.verifier.evict((p) => p.tokenId === jti);
    this.logger.warn({ event: 'token_revoked', jti, by: principal.subject, evicted });
    return { revoked: 'token', jti, until: new Date(expiresAt * 1000).toISOString() };
  }

  @McpTool({
    name: 'revoke_subject',
    description:
      'Revoke every token of a subject issued up to a time (default: now), including tokens whose iat is ahead of this server by up to the accepted clock skew. Tokens minted afterwards work once their iat passes the returned tokens_accepted_from.',
    scopes: ['admin'],
    input: revokeSubjectInput,
    annotations: { destructiveHint: true, idempotentHint: true },
  })
  async revokeSubject(input: z.infer<typeof revokeSubjectInput>, principal: Principal) {
    const atMs = input.issued_before ? Date.parse(input.issued_before) : Date.now();
    const cutoff = subjectRevocationCutoff(atMs, this.auth.clockSkewSeconds);
    const expiresAt = cutoff + this.auth.maxTokenLifetimeSeconds + this.auth.clockSkewSeconds;
    await this.store.revokeSubject(input.subject, cutoff, expiresAt, principal.subject);
    const evicted = this.verifier.evict((p) => p.subject === input.subject && (p.issuedAt ?? 0) < cutoff);
    this.logger.warn({ event: 'subject_revoked', subject: input.subject, before: cutoff, by: principal.subject, evicted });
    return {
      revoked: 'subject',
      subject: input.subject,
      issued_up_to: new Date(atMs).toISOString(),
      tokens_accepted_from: new Date(cutoff * 1000).toISOString(),
    };
  }
}
