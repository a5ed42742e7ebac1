import { Module } from '@nestjs/common';
import { SessionBuddyClientModule } from '../session-buddy-client/session-buddy-client.module';
import { StorageModule } from '../storage/storage.module';
import { AccountsModule } from '../accounts/accounts.module';
import { LoginModule } from '../login/login.module';
import { AuthorizationCodesService } from './authorization-codes.service';
import { ClientMetadataDocumentsService } from './client-metadata-documents.service';
import { ClientRegistrationService } from './client-registration.service';
import { AuthorizeController } from './authorize.controller';
import { AuthorizationServerMetadataController } from './authorization-server-metadata.controller';
import { GrantRevocationService } from './grant-revocation.service';
import { GrantsService } from './grants.service';
import { GrantsTools } from './grants.tools';
import { OAuthHousekeepingService } from './oauth-housekeeping.service';
import { OAuthClientsService } from './oauth-clients.service';
import { OAuthClientsTools } from './oauth-clients.tools';
import { RevocationOutboxService } from './revocation-outbox.service';
import { RegistrationController } from './registration.controller';
import { TokenController } from './token.controller';

/**
 * The OAuth authorization server: metadata, the token, revocation and
 * introspection endpoints, the authorization endpoint people sign in at, the
 * grants and refresh tokens they make, registered clients and their
 * administration, and the outbox that carries revocations to session-buddy.
 */
@Module({
  imports: [StorageModule, SessionBuddyClientModule, AccountsModule, LoginModule],
  controllers: [AuthorizationServerMetadataController, AuthorizeController, TokenController, RegistrationController],
  providers: [
    AuthorizationCodesService,
    ClientMetadataDocumentsService,
    ClientRegistrationService,
    OAuthClientsService,
    OAuthClientsTools,
    GrantRevocationService,
    GrantsService,
    GrantsTools,
    OAuthHousekeepingService,
    RevocationOutboxService,
  ],
})
export class OAuthModule {}
