// PERMISSION SNAPSHOT. Every session-buddy tool and who may call it.
// A diff in this file is a permission change: review it as one.
import 'reflect-metadata';
import { toolAccessOf } from '@crossauth/mcp-server';
import { AppModule } from './app.module';

// Every class the app provides: a tool added anywhere in the app shows up here.
const providers = (Reflect.getMetadata('providers', AppModule) as unknown[]).filter(
  (p): p is abstract new (...args: never[]) => unknown => typeof p === 'function',
);

describe('session-buddy tool permissions', () => {
  it('matches the reviewed access rules', () => {
    expect(toolAccessOf(...providers)).toMatchInlineSnapshot(`
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
    const access = toolAccessOf(...providers);
    expect(Object.entries(access).filter(([, rule]) => rule === 'public').map(([name]) => name)).toEqual(['health_check']);
    for (const [name, rule] of Object.entries(access)) if (name !== 'health_check') expect(rule).not.toEqual([]);
  });
});
