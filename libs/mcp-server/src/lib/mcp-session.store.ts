/**
 * What every instance must know of a 2025-era MCP session to serve it: who
 * owns it and what was negotiated at `initialize`. Times are ms since the epoch.
 */
export interface McpSessionRecord {
  readonly id: string;
  /** `iss` + `sub` of the creator (see `ownerOf`). */
  readonly owner: string;
  readonly protocolVersion: string;
  readonly clientCapabilities: Record<string, unknown>;
  readonly clientInfo: { readonly name: string; readonly version: string } & Record<string, unknown>;
  readonly createdAt: number;
}

/**
 * Sessions shared between instances, so a request carrying `Mcp-Session-Id`
 * may land on any of them. Without one, a session lives only in the instance
 * that opened it.
 */
export interface McpSessionStore {
  /** Records a new session; it expires after `idleMs` unless touched. */
  save(record: McpSessionRecord, idleMs: number): Promise<void>;
  find(id: string): Promise<McpSessionRecord | undefined>;
  /** Pushes the idle expiry back; best effort. */
  touch(id: string, idleMs: number): void;
  /** Deletes it everywhere: every instance drops its copy. */
  remove(id: string): Promise<void>;
  /** Called with {@link keyOf} of each session removed, by any instance. */
  onRemoved(listener: (key: string) => void): void;
  /** The key a session is announced by (a digest: ids are never published). */
  keyOf(id: string): string;
}
