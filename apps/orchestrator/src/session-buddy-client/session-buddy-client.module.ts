import { Module } from '@nestjs/common';
import { DownstreamTokenCache } from './downstream-token.cache';
import { SessionBuddyClient } from './session-buddy.client';
import { TokenEndpointClient } from './token-endpoint.client';

/** The orchestrator's calls to session-buddy, with the tokens it gets or mints for them. */
@Module({
  providers: [TokenEndpointClient, DownstreamTokenCache, SessionBuddyClient],
  exports: [DownstreamTokenCache, SessionBuddyClient],
})
export class SessionBuddyClientModule {}
