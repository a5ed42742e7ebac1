// PERMISSION SNAPSHOT. Every orchestrator tool and who may call it.
// A diff in this file is a permission change: review it as one.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolAccessOfModule, toolsTable } from '@crossauth/mcp-server';
import { AppModule } from './app.module';

describe('orchestrator tool permissions', () => {
  it('matches the reviewed access rules', () => {
    expect(toolAccessOfModule(AppModule)).toMatchInlineSnapshot(`
     {
       "begin_project_session": [
         "write",
       ],
       "finish_project_session": [
         "write",
       ],
       "grant_list": [
         "admin",
       ],
       "grant_revoke": [
         "admin",
       ],
       "health_check": "public",
       "jwt_diagnostics": [
         "admin",
       ],
       "oauth_client_add": [
         "admin",
       ],
       "oauth_client_list": [
         "admin",
       ],
       "oauth_client_remove": [
         "admin",
       ],
       "oauth_client_rotate_secret": [
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
       "signing_key_list": [
         "admin",
       ],
       "signing_key_rotate": [
         "admin",
       ],
       "user_add": [
         "admin",
       ],
       "user_list": [
         "admin",
       ],
       "user_remove": [
         "admin",
       ],
       "user_set_password": [
         "admin",
       ],
       "user_set_role": [
         "admin",
       ],
       "user_sign_out_everywhere": [
         "admin",
       ],
       "validate_jwt_token": [
         "admin",
       ],
     }
    `);
  });

  it("is what the README's Tools table says (paste the expected table there when a tool changes)", () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    const start = readme.indexOf('\n### orchestrator tools\n');
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start).split('\n\n')[1]).toBe(toolsTable(toolAccessOfModule(AppModule)));
  });
});
