import { Injectable } from '@nestjs/common';

/**
 * The scopes a `401` challenge names (MCP 2026-07-28 authorization: a
 * challenge carries `scope` beside `resource_metadata`, so a client can ask
 * for them in one authorization). The resource declares them once it knows
 * its tools; until then the challenge names none.
 */
@Injectable()
export class ChallengeScopesService {
  private declared: readonly string[] = [];

  /** Sets the scopes every later 401 names, sorted and without repeats. */
  declare(scopes: Iterable<string>): void {
    this.declared = [...new Set(scopes)].sort();
  }

  get scopes(): readonly string[] {
    return this.declared;
  }
}
