import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseEnvironment, readSecretList, readSecretVariable } from './env';

describe('environment helpers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crossauth-env-'));

  it('reads a secret from NAME_FILE, dropping one trailing newline', () => {
    const file = join(dir, 'secret');
    writeFileSync(file, 'from-a-file\n');
    expect(readSecretVariable({ X_SECRET_FILE: file }, 'X_SECRET')).toBe('from-a-file');
  });

  it('refuses NAME and NAME_FILE together', () => {
    expect(() => readSecretVariable({ X_SECRET: 'a', X_SECRET_FILE: '/x' }, 'X_SECRET')).toThrow(/either X_SECRET or X_SECRET_FILE/);
  });

  it('names the variable, not the path content, when the file is unreadable', () => {
    expect(() => readSecretVariable({ X_SECRET_FILE: join(dir, 'missing') }, 'X_SECRET')).toThrow(/X_SECRET_FILE points to a file that cannot be read/);
  });

  it('splits secret lists on commas and newlines', () => {
    expect(readSecretList({ P: 'a, b,,c' }, 'P')).toEqual(['a', 'b', 'c']);
    expect(readSecretList({}, 'P')).toEqual([]);
  });

  it('treats empty values as unset, so a copied .env.example starts on defaults', () => {
    const schema = z.object({ PORT: z.coerce.number().default(8678), MODE: z.enum(['a', 'b']).optional() });
    expect(parseEnvironment(schema, { PORT: '', MODE: '' })).toEqual({ PORT: 8678 });
  });

  it('reports every bad variable with its rule and never its value', () => {
    const schema = z.object({ PORT: z.coerce.number().int().max(65535), MODE: z.enum(['a', 'b']) });
    let message = '';
    try {
      parseEnvironment(schema, { PORT: '99999', MODE: 'hunter2-value' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/PORT: /);
    expect(message).toMatch(/MODE: /);
    expect(message).not.toContain('hunter2-value');
    expect(message).not.toContain('99999');
  });
});
