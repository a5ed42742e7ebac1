import type { FailureRule, FailureThrottleStore, NonceStore } from '@crossauth/auth';
import type { McpSessionStore } from '@crossauth/mcp-server';
import type { RedisConnection } from './redis-connection';
import { RedisFailureThrottleStore } from './redis-failure-throttle.store';
import { RedisMcpSessionStore } from './redis-mcp-session.store';
import { RedisNonceStore } from './redis-nonce.store';

/** What several instances of a service share through Redis; each absent (the process's memory) without it. */
export interface SharedStores {
  readonly nonceStore?: NonceStore;
  readonly failureThrottleStore?: (rule: FailureRule) => FailureThrottleStore;
  readonly sessionStore?: McpSessionStore;
}

/**
 * The replay store, the failure throttle and the MCP session records on one
 * Redis connection, so a nonce seen anywhere is a replay everywhere, failures
 * count for the deployment and a session survives its instance. `lossGuardMs`:
 * how long every nonce is refused after Redis lost its memory (the longest a
 * signature or assertion stays acceptable).
 */
export function sharedStores(redis: RedisConnection | null, options: { readonly lossGuardMs: number }): SharedStores {
  if (!redis) return {};
  return {
    nonceStore: new RedisNonceStore(redis.client, { lossGuardMs: options.lossGuardMs }),
    failureThrottleStore: (rule) => new RedisFailureThrottleStore(redis, rule),
    sessionStore: new RedisMcpSessionStore(redis),
  };
}
