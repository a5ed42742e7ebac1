// `npm start` on a terminal: each service's JSON log line as one short,
// readable line. Nest's start-up chatter (modules initialised, routes mapped)
// is left out; warnings and errors always show. JSON stays the format
// everywhere else (containers, log shippers, pipes) and with
// CROSSAUTH_LOG_FORMAT=json.

/** Nest's own start-up lines, which say nothing a person starting the services needs. */
const CHATTER = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);
const LEVELS = { log: 'info', warn: 'WARN', error: 'ERROR', fatal: 'FATAL', debug: 'debug', verbose: 'trace' };
const MAX_VALUE = 72;

/** One value of a structured message, shortened: long objects are summarised, not dumped. */
function shortValue(value) {
  if (typeof value === 'string') return value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE - 1)}…` : value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return shortValue(value.join(','));
  const text = JSON.stringify(value);
  if (text === undefined || text.length <= MAX_VALUE) return text;
  return value && typeof value === 'object' ? `{${Object.keys(value).length} entries}` : `${text.slice(0, MAX_VALUE - 1)}…`;
}

/**
 * The readable form of one line a service wrote, or null to leave it out.
 * A line that is not one of our JSON log lines passes through unchanged.
 */
export function readableLine(service, text) {
  let entry;
  try {
    entry = JSON.parse(text);
  } catch {
    return text;
  }
  if (!entry || typeof entry !== 'object' || !('level' in entry) || !('message' in entry)) return text;
  if (entry.level === 'log' && CHATTER.has(entry.context)) return null;
  const time = new Date(typeof entry.timestamp === 'number' ? entry.timestamp : Date.now()).toTimeString().slice(0, 8);
  let body;
  const message = entry.message;
  if (message && typeof message === 'object') {
    const { event, message: text2, ...fields } = message;
    const head = [event, text2].filter((v) => typeof v === 'string').join(': ');
    const rest = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${shortValue(v)}`);
    body = [head || entry.context, ...rest].join(' ');
  } else {
    body = String(message);
  }
  const level = LEVELS[entry.level] ?? String(entry.level);
  const stack = typeof entry.stack === 'string' && entry.level !== 'log' ? `\n${entry.stack}` : '';
  return `${time} ${service.padEnd(13)} ${level.padEnd(5)} ${body}${stack}`;
}
