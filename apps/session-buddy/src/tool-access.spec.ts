// PERMISSION SNAPSHOT. Every session-buddy tool and who may call it.
// A diff in this file is a permission change: review it as one.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolAccessOfModule, toolsTable } from '@crossauth/mcp-server';
import { AppModule } from './app.module';

describe('session-buddy tool permissions', () => {
  it('matches the reviewed access rules', () => {
    expect(toolAccessOfModule(AppModule)).toMatchInlineSnapshot(`
{
  "checkpoint": [
    "write",
  ],
  "delete_reflection": [
    "delete",
  ],
  "end": [
    "write",
  ],
  "health_check": "public",
  "jwt_diagnostics": [
    "admin",
  ],
  "list_project_messages": [
    "read",
  ],
  "list_sessions": [
    "read",
  ],
  "quick_search": [
    "read",
  ],
  "receive_project_message": [
    "write",
  ],
  "reflection_stats": [
    "read",
  ],
  "revoke_subject": [
    "admin",
  ],
  "revoke_token": [
    "admin",
  ],
  "session_diagnostics": [
    "admin",
  ],
  "start": [
    "write",
  ],
  "status": [
    "read",
  ],
  "store_reflection": [
    "write",
  ],
  "track_session_end": [
    "write",
  ],
  "track_session_start": [
    "write",
  ],
  "validate_jwt_token": [
    "admin",
  ],
}
`);
  });

  it('leaves no tool unprotected except the health check', () => {
    const access = toolAccessOfModule(AppModule);
    expect(
      Object.entries(access)
        .filter(([, rule]) => rule === 'public')
        .map(([name]) => name),
    ).toEqual(['health_check']);
    for (const [name, rule] of Object.entries(access)) if (name !== 'health_check') expect(rule).not.toEqual([]);
  });

  it("is what the README's Tools table says (paste the expected table there when a tool changes)", () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    const start = readme.indexOf('\n### session-buddy tools\n');
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start).split('\n\n')[1]).toBe(toolsTable(toolAccessOfModule(AppModule)));
  });
});
