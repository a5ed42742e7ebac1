export { AuthModule } from './lib/auth.module';
export { AUTH_OPTIONS } from './lib/auth.constants';
export { resolveAuthOptions, signingKeyId, verificationKeyIds, type AuthModuleOptions, type ResolvedAuthOptions } from './lib/auth-options';
export { AuthConfigError, AuthError } from './lib/auth.errors';
export { ANONYMOUS_PRINCIPAL, SCOPES, hasScopes, scopesForRole, type Principal } from './lib/principal';
export { KeyRing, deriveKeyId } from './lib/keys/key-ring';
export { assertAcceptableSecret } from './lib/keys/secret-policy';
export { generateSigningKey, privateSigningKeyFromText, publicJwkOf, type PrivateSigningKey } from './lib/keys/asymmetric-key';
export { JwksKeySource } from './lib/keys/jwks-key-source';
export { FileSigningKeys } from './lib/keys/file-signing-keys';
export { TokenVerifierService, type TokenGrant } from './lib/tokens/token-verifier.service';
export { TokenIssuerService, type MintedToken } from './lib/tokens/token-issuer.service';
export { ExchangeRefusedError, TokenExchangeService } from './lib/tokens/token-exchange.service';
export { ACCESS_TOKEN_TYPE, JWT_BEARER_CLIENT_ASSERTION, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './lib/oauth/oauth.constants';
export { shown, type LegacyIssuer } from './lib/tokens/legacy-issuer';
export { decodeBase64UrlStrict } from './lib/tokens/jwt-codec';
export type { RevocationStore } from './lib/revocation/revocation-store';
export { RevocationIndex } from './lib/revocation/revocation-index';
export { subjectRevocationCutoff } from './lib/revocation/subject-cutoff';
export { AuthContextService } from './lib/context/auth-context.service';
export { AuthAuditService } from './lib/audit/auth-audit.service';
export { RequestAuthenticatorService, type Authentication } from './lib/http/request-authenticator.service';
export { buildBearerChallenge, challengeBody } from './lib/http/challenge';
export { ChallengeScopesService } from './lib/http/challenge-scopes.service';
export { authenticationOf } from './lib/http/auth-request';
export { requestIdOf } from './lib/http/request-id';
export { Public } from './lib/decorators/public.decorator';
export { RequireAuth, type RequireAuthOptions } from './lib/decorators/require-auth.decorator';
export { RequiresScopes } from './lib/decorators/requires-scopes.decorator';
export { CurrentPrincipal } from './lib/decorators/current-principal.decorator';
export {
  DEFAULT_LEGACY_ISSUERS_UNTIL,
  envBoolean,
  envInstant,
  envIssuerUrl,
  envList,
  issuerNames,
  legacyIssuers,
  parseEnvironment,
  readConnectionUrl,
  readSecretList,
  readSecretSettings,
  readSecretVariable,
  type Environment,
} from './lib/config/env';
export { SignatureError, type SignatureFailureReason } from './lib/signing/signature.errors';
export { signRequest, verifyRequest } from './lib/signing/http-message-signature';
export { MemoryNonceStore, type NonceStore, type NonceVerdict } from './lib/signing/nonce-store';
export { csrfTokenFor, csrfTokenMatches, signBrowserSession, verifyBrowserSession, type BrowserSession } from './lib/browser/browser-session';
export { openSealedValue, sealValue } from './lib/browser/sealed-value';
export { pkceChallengeProblem, pkceVerifierMatches } from './lib/oauth/pkce';
export { redirectUriMatches, redirectUriProblem } from './lib/oauth/redirect-uri';
export { hashPassword, passwordMatches, passwordNeedsRehash, passwordProblem } from './lib/accounts/password-hash';
export { clientSecretMatches, deriveClientSecretKey, generateClientSecret, hashClientSecret } from './lib/oauth/client-secret';
export {
  CLIENT_ASSERTION_ALGORITHMS,
  ClientAssertionError,
  assertPublicJwks,
  createClientAssertion,
  verifyClientAssertion,
  type ClientJwks,
} from './lib/oauth/client-assertion';
export { isExactNumber, parseExactJson, stringifyExactJson } from './lib/signing/exact-json';
export { EnvelopeError, createEnvelope, verifyEnvelope } from './lib/signing/signed-message';
export { RequestSignatureVerifierService } from './lib/signing/request-signature-verifier.service';
export { AuthFailureThrottleService, AuthThrottledError } from './lib/throttle/auth-failure-throttle.service';
export { MemoryFailureThrottleStore, type FailureRule, type FailureThrottleStore } from './lib/throttle/failure-throttle.store';
export { AuthKeysService, provideSecretReload } from './lib/keys/auth-keys.service';
export {
  CLIENT_METADATA_DEFAULTS,
  ClientMetadataError,
  clientMetadataUrlProblem,
  fetchClientMetadataDocument,
  isClientMetadataUrl,
  type ClientMetadataDocument,
  type ClientMetadataFetchOptions,
} from './lib/oauth/client-metadata-document';
export { ownerOf } from './lib/principal';
export { OUTSIDE_ALGORITHMS, SCOPE_CLAIMS, TrustFileError, parseTrustFile, trustUrlProblem, type TrustedIssuerSettings } from './lib/trust/trust-file';
export { TrustedIssuers, type OutsideIssuer, type TrustOptions } from './lib/trust/trusted-issuers';
