// PERMISSION SNAPSHOT. Every orchestrator tool and who may call it.
// A diff in this file is a permission change: review it as one.
import 'reflect-metadata';
import { toolAccessOf } from '@crossauth/mcp-server';
import { DiagnosticsTools } from './workflows/diagnostics.tools';
import { WorkflowTools } from './workflows/workflow.tools';

describe('orchestrator tool permissions', () => {
  it('matches the reviewed access rules', () => {
    expect(toolAccessOf(DiagnosticsTools, WorkflowTools)).toMatchInlineSnapshot(`
{
  "begin_project_session": [
    "write",
  ],
  "finish_project_session": [
    "write",
  ],
  "health_check": "public",
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
  "session_buddy_diagnostics": [
    "admin",
  ],
}
`);
  });
});
