/**
 * A failure the caller should see verbatim as a tool error (`isError: true`):
 * bad state ("no open session"), not found, conflicts. Anything else thrown by
 * a tool is logged and reported as an internal error without details.
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';

  constructor(
    message: string,
    /** A stable code for clients, e.g. `session_not_found`. */
    readonly code = 'tool_error',
  ) {
    super(message);
  }
}
