/** DI token of the orchestrator's asymmetric signing keys (`FileSigningKeys`), or null in HS256 mode. */
export const SIGNING_KEYS = Symbol('orchestrator:signing-keys');
