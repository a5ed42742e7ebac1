import { Inject, Injectable } from '@nestjs/common';
import type { FileSigningKeys } from '@crossauth/auth';
import { McpTool, ToolError } from '@crossauth/mcp-server';
import { z } from 'zod';
import type { OrchestratorConfig } from '../config/env.schema';
import { orchestratorConfig } from '../config/orchestrator.config';
import { SIGNING_KEYS } from './signing-keys.constants';

const rotateInput = z.object({ alg: z.enum(['EdDSA', 'ES256']).optional().describe("the new key's algorithm; default ORCHESTRATOR_SIGNING_ALG") });

/** Admin tools behind `crossauth keys list|rotate`. Public key facts only; private keys never leave the keys file. */
@Injectable()
export class SigningKeysTools {
  constructor(
    @Inject(SIGNING_KEYS) private readonly keys: FileSigningKeys | null,
    @Inject(orchestratorConfig.KEY) private readonly config: OrchestratorConfig,
  ) {}

  @McpTool({
    name: 'signing_key_list',
    description: 'The published signing keys and their states (next, current, retiring).',
    scopes: ['admin'],
    annotations: { readOnlyHint: true },
  })
  list() {
    return { alg: this.config.signing.alg, keys: this.available().list() };
  }

  @McpTool({
    name: 'signing_key_rotate',
    description:
      'Add the next signing key: published in the JWKS now, signing after ORCHESTRATOR_SIGNING_KEY_PUBLISH_SECONDS; the current key stays published until its tokens expire.',
    scopes: ['admin'],
    input: rotateInput,
  })
  rotate(input: z.infer<typeof rotateInput>) {
    const keys = this.available();
    const alg = input.alg ?? (this.config.signing.alg === 'HS256' ? keys.current.alg : this.config.signing.alg);
    const added = keys.rotate(alg);
    return { added: added.kid, alg, signs_from: added.activeFrom, keys: keys.list() };
  }

  private available(): FileSigningKeys {
    if (!this.keys)
      throw new ToolError(
        'the orchestrator signs with the shared secret (ORCHESTRATOR_SIGNING_ALG=HS256): rotate ORCHESTRATOR_AUTH_SECRET instead',
        'not_applicable',
      );
    return this.keys;
  }
}
