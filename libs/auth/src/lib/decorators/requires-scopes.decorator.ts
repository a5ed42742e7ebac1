import { SetMetadata } from '@nestjs/common';
import { REQUIRED_SCOPES_KEY } from '../auth.constants';

/** Every listed scope is required (`admin` satisfies any). */
export const RequiresScopes = (...scopes: string[]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_SCOPES_KEY, scopes);
