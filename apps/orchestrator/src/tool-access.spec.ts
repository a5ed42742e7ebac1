// PERMISSION SNAPSHOT. Every orchestrator tool and who may call it.
// A diff in this file is a permission change: review it as one.
import 'reflect-metadata';
import { toolAccessOf } from '@crossauth/mcp-server';
import { AppModule } from './app.module';

// Every class the app provides: a tool added anywhere in the app shows up here.
const providers = (Reflect.getMetadata('providers', AppModule) as unknown[]).filter(
  (p): p is abstract new (...args: never[]) => unknown => typeof p === 'function',
);

describe('orchestrator tool permissions', () => {
  it('matches the reviewed access rules', () => {
    expect(toolAccessOf(...providers)).toMatchInlineSnapshot(`
{
  "begin_project_session": [
    "write",
  ],
  "finish_project_session": [
    "write",
  ],
  "health_check": "public",
  "jwt_diagnostics": [
    "admin",
  ],
  "project_status": [
    "read",
  ],
  "recall": [
    "read",
  ],
  "record_progress": [
    "write",
  ],
  "remember": [
    "write",
  ],
  "send_project_message": [
    "write",
  ],
  "session_buddy_diagnostics": [
    "admin",
  ],
  "session_diagnostics": [
    "admin",
  ],
  "validate_jwt_token": [
    "admin",
  ],
}
`);
  });
});
