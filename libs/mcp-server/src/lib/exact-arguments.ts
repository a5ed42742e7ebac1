import { parseExactJson } from '@crossauth/auth';
import type { McpToolRegistry } from './mcp-tool-registry.service';

type Message = { method?: unknown; params?: { name?: unknown; arguments?: unknown } };

/** Whether any of these messages calls a tool declared with `exactNumbers`. */
export function callsExactNumbersTool(messages: readonly unknown[], tools: McpToolRegistry): boolean {
  return messages.some((m) => {
    const message = m as Message;
    return message?.method === 'tools/call' && typeof message.params?.name === 'string' && tools.get(message.params.name)?.exactNumbers === true;
  });
}

/**
 * Gives calls to `exactNumbers` tools their arguments as the caller wrote
 * them: the received text (one message or a batch) is parsed again with
 * numbers kept as text, and those calls' arguments replace the parsed ones.
 * Only when such a tool is called, so other requests pay nothing.
 */
export function restoreExactArguments(raw: string, messages: readonly unknown[], tools: McpToolRegistry): void {
  const exact = parseExactJson(raw);
  const exactMessages = (Array.isArray(exact) ? exact : [exact]) as Message[];
  messages.forEach((m, i) => {
    const message = m as Message;
    const name = message?.params?.name;
    const args = exactMessages[i]?.params?.arguments;
    if (message?.method === 'tools/call' && typeof name === 'string' && tools.get(name)?.exactNumbers && args !== undefined && message.params) {
      message.params.arguments = args;
    }
  });
}
