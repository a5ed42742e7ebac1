import { Module } from '@nestjs/common';
import { SessionBuddyClientModule } from '../session-buddy-client/session-buddy-client.module';
import { DiagnosticsTools } from './diagnostics.tools';
import { WorkflowTools } from './workflow.tools';

/** The orchestrator's own tools: project workflows over session-buddy, and their diagnostics. */
@Module({
  imports: [SessionBuddyClientModule],
  providers: [WorkflowTools, DiagnosticsTools],
})
export class WorkflowsModule {}
