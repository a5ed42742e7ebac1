import { Controller, Get, Inject, NotFoundException, Res } from '@nestjs/common';
import { Public, publicJwkOf, type FileSigningKeys } from '@crossauth/auth';
import type { Response } from 'express';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { SIGNING_KEYS } from './signing-keys.constants';

/**
 * The public half of the signing key set (RFC 7517 JWK Set), at the metadata's
 * `jwks_uri`: the current key, the next one (published before it signs) and
 * retiring ones (until their tokens have expired). `max-age` is a quarter of
 * the publish lead, so a verifier honouring it has the next key well before use.
 */
@Public()
@Controller('.well-known')
export class JwksController {
  private readonly maxAge: number;
  private readonly ed25519Name: 'EdDSA' | 'Ed25519';

  constructor(
    @Inject(SIGNING_KEYS) private readonly keys: FileSigningKeys | null,
    @Inject(orchestratorConfig.KEY) config: OrchestratorConfig,
  ) {
    this.maxAge = Math.max(1, Math.floor(config.signing.publishSeconds / 4));
    this.ed25519Name = config.signing.ed25519Name;
  }

  @Get('jwks.json')
  jwks(@Res({ passthrough: true }) res: Response): { keys: object[] } {
    if (!this.keys)
      throw new NotFoundException(
        'this authorization server signs with a shared secret (HS256) and publishes no keys; set ORCHESTRATOR_SIGNING_ALG=Ed25519, EdDSA or ES256',
      );
    res.setHeader('Content-Type', 'application/jwk-set+json');
    res.setHeader('Cache-Control', `public, max-age=${this.maxAge}`);
    return { keys: this.keys.published.map((key) => publicJwkOf(key, this.ed25519Name)) };
  }
}
