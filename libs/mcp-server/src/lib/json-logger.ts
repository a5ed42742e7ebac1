import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/** Keys whose values never reach a log line, at any depth (case-insensitive). */
export const DEFAULT_REDACTED_KEYS = [
  'authorization',
  'signature',
  'signature-input',
  'token',
  'token_to_check',
  'token_to_revoke',
  'secret',
  'password',
  'cookie',
  'set-cookie',
];

const REDACTED = '[redacted]';

/** Copies `value`, replacing the values of redacted keys (bounded depth, cycle-safe). */
export function redact(value: unknown, keys: ReadonlySet<string>, depth = 0, seen = new WeakSet<object>()): unknown {
  // Errors keep their own formatting (message, stack); crossauth errors never carry secrets.
  if (value === null || typeof value !== 'object' || depth > 8 || value instanceof Error) return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, keys, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = keys.has(k.toLowerCase()) ? REDACTED : redact(v, keys, depth + 1, seen);
  return out;
}

/**
 * Nest's JSON console logger with configured redaction. In stdio mode
 * everything goes to stderr, because stdout carries the MCP protocol.
 */
export class JsonLogger extends ConsoleLogger {
  private readonly redacted: ReadonlySet<string>;

  constructor(
    private readonly toStderr: boolean,
    levels: LogLevel[],
    redactedKeys: readonly string[] = DEFAULT_REDACTED_KEYS,
  ) {
    super({ json: true, colors: false, logLevels: levels });
    this.redacted = new Set(redactedKeys.map((k) => k.toLowerCase()));
  }

  protected override printMessages(messages: unknown[], context?: string, logLevel?: LogLevel, stream?: 'stdout' | 'stderr', errorStack?: unknown): void {
    super.printMessages(
      messages.map((m) => redact(m, this.redacted)),
      context,
      logLevel,
      this.toStderr ? 'stderr' : stream,
      errorStack,
    );
  }
}
