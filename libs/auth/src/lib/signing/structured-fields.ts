import { SignatureError } from './signature.errors';

// A strict parser for the subset of RFC 8941 structured fields that RFC 9421
// needs: a dictionary with exactly one member whose value is an inner list of
// strings with parameters (Signature-Input), or a byte sequence (Signature).
// Anything outside the subset is refused rather than guessed at.

const KEY = /^[a-z*][a-z0-9_\-.*]*/;
const TOKEN_INTEGER = /^-?\d{1,15}/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A parameter value: RFC 8941 integer or string. */
export type ParamValue = number | string;

function fail(detail: string): never {
  throw new SignatureError('signature_invalid', detail);
}

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  peek(): string {
    return this.s[this.i] ?? '';
  }
  eat(ch: string): void {
    if (this.s[this.i] !== ch) fail(`expected "${ch}" at ${this.i}`);
    this.i++;
  }
  match(re: RegExp): string | undefined {
    const m = re.exec(this.s.slice(this.i));
    if (!m) return undefined;
    this.i += m[0].length;
    return m[0];
  }
  get done(): boolean {
    return this.i >= this.s.length;
  }
}

function parseString(c: Cursor): string {
  c.eat('"');
  let out = '';
  for (;;) {
    const ch = c.peek();
    if (ch === '') fail('unterminated string');
    c.i++;
    if (ch === '"') return out;
    if (ch === '\\') {
      const next = c.peek();
      if (next !== '"' && next !== '\\') fail('bad escape in string');
      out += next;
      c.i++;
      continue;
    }
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) fail('non-printable character in string');
    out += ch;
  }
}

function parseParams(c: Cursor): Map<string, ParamValue> {
  const params = new Map<string, ParamValue>();
  while (c.peek() === ';') {
    c.i++;
    const key = c.match(KEY) ?? fail('bad parameter name');
    if (params.has(key)) fail(`duplicate parameter ${key}`);
    c.eat('=');
    if (c.peek() === '"') params.set(key, parseString(c));
    else {
      const int = c.match(TOKEN_INTEGER) ?? fail(`parameter ${key} is neither an integer nor a string`);
      if (/^[.\w]/.test(c.peek())) fail(`parameter ${key} is not an integer`);
      params.set(key, Number(int));
    }
  }
  return params;
}

function singleMember(c: Cursor): string {
  const label = c.match(KEY) ?? fail('bad dictionary key');
  c.eat('=');
  return label;
}

function expectEnd(c: Cursor): void {
  if (!c.done) fail('more than one signature or trailing bytes');
}

/** Parses `Signature-Input: label=("a" "b");k=v…`. */
export function parseSignatureInput(header: string): { label: string; components: string[]; params: Map<string, ParamValue> } {
  const c = new Cursor(header.trim());
  const label = singleMember(c);
  c.eat('(');
  const components: string[] = [];
  for (;;) {
    while (c.peek() === ' ') c.i++;
    if (c.peek() === ')') break;
    const name = parseString(c);
    if (components.includes(name)) fail(`component ${name} listed twice`);
    components.push(name);
    if (c.peek() !== ' ' && c.peek() !== ')') fail('components must be separated by a space');
  }
  c.eat(')');
  const params = parseParams(c);
  expectEnd(c);
  return { label, components, params };
}

/** Parses `Signature: label=:base64:`, refusing non-canonical base64. */
export function parseSignature(header: string): { label: string; signature: Buffer } {
  const c = new Cursor(header.trim());
  const label = singleMember(c);
  c.eat(':');
  const end = c.s.indexOf(':', c.i);
  if (end < 0) fail('unterminated byte sequence');
  const b64 = c.s.slice(c.i, end);
  c.i = end + 1;
  if (c.peek() === ';') fail('parameters on the signature are not supported');
  expectEnd(c);
  if (!BASE64.test(b64) || b64.length % 4 !== 0) fail('signature is not canonical base64');
  const signature = Buffer.from(b64, 'base64');
  if (signature.toString('base64') !== b64) fail('signature is not canonical base64');
  return { label, signature };
}

/** Serialises an inner list with parameters, as it appears in `@signature-params`. */
export function serializeSignatureParams(components: readonly string[], params: ReadonlyArray<[string, ParamValue]>): string {
  const list = `(${components.map((n) => `"${n}"`).join(' ')})`;
  return list + params.map(([k, v]) => `;${k}=${typeof v === 'number' ? String(v) : `"${v.replace(/[\\"]/g, '\\$&')}"`}`).join('');
}
