import { isExactNumber } from './exact-json';

/**
 * Exactly the bytes of Python's `json.dumps(value, sort_keys=True)` with its
 * defaults (`ensure_ascii=True`, separators `", "` and `": "`), so HMACs over
 * messages match the Python predecessors byte for byte.
 *
 * Numbers: safe integers print as Python ints, everything else as Python's
 * float repr (`1e-05`, `1e+16`, `-0.0`); a `bigint` prints as an int. A number
 * kept as written ({@link parseExactJson}) prints as Python would after
 * `json.loads`: a literal with a fraction or exponent is a float (`85.0` stays
 * `85.0`), any other is an int of any size. NaN and Infinity are refused
 * (Python would emit invalid JSON for them).
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return pythonString(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return pythonNumber(value);
  if (isExactNumber(value)) return pythonLiteral(value.value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => compareCodePoints(a, b));
    return `{${entries.map(([k, v]) => `${pythonString(k)}: ${pythonJsonDumps(v)}`).join(', ')}}`;
  }
  throw new TypeError(`cannot serialise a ${typeof value} as JSON`);
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function pythonString(s: string): string {
  let out = '"';
  // Iterating UTF-16 code units yields surrogate pairs for astral characters, as Python's ensure_ascii does.
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const code = s.charCodeAt(i);
    if (SHORT_ESCAPES[ch]) out += SHORT_ESCAPES[ch];
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const FLOAT_LITERAL = /[.eE]/;

// Python's json.loads makes a float of any literal with a fraction or exponent, an int of the rest.
function pythonLiteral(literal: string): string {
  return FLOAT_LITERAL.test(literal) ? pythonFloat(Number(literal)) : BigInt(literal).toString();
}

function pythonNumber(n: number): string {
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) return String(n);
  return pythonFloat(n);
}

function pythonFloat(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError('NaN and Infinity are not valid JSON');
  if (Object.is(n, -0)) return '-0.0';
  // JS and Python both print the shortest round-tripping digits; only the layout differs.
  const [mantissa, expPart] = n.toExponential().split('e') as [string, string];
  const exponent = Number(expPart);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let body: string;
  if (exponent >= -5 && exponent < 16) {
    // Python's repr switches to exponent form below 1e-4 and from 1e16 up.
    if (exponent < -4) body = formatExponent(digits, exponent);
    else if (exponent < 0) body = `0.${'0'.repeat(-exponent - 1)}${digits}`;
    else if (digits.length > exponent + 1) body = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
    else body = `${digits}${'0'.repeat(exponent + 1 - digits.length)}.0`;
  } else {
    body = formatExponent(digits, exponent);
  }
  return negative ? `-${body}` : body;
}

function formatExponent(digits: string, exponent: number): string {
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const sign = exponent < 0 ? '-' : '+';
  return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/** Python sorts str keys by code point; JS's default sort compares UTF-16 units. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = (x.value.codePointAt(0) as number) - (y.value.codePointAt(0) as number);
    if (d !== 0) return d;
  }
}
