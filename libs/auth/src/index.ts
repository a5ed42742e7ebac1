export { AuthModule } from './lib/auth.module';
export { AUTH_OPTIONS } from './lib/auth.constants';
export { resolveAuthOptions, signingKeyId, verificationKeyIds, type AuthMode, type AuthModuleOptions, type ResolvedAuthOptions } from './lib/auth-options';
export { AUTH_FAILURE_REASONS, AuthConfigError, AuthError, describeFailure, type AuthFailureReason } from './lib/auth.errors';
export {
  ANONYMOUS_PRINCIPAL,
  LOCAL_PRINCIPAL,
  ROLE_SCOPES,
  SCOPES,
  effectiveScopes,
  hasScopes,
  missingScopes,
  type KnownScope,
  type Principal,
} from './lib/principal';
export { KeyRing, deriveKeyId, deriveRequestSigningKey, type ManagedKey } from './lib/keys/key-ring';
export { MIN_SECRET_LENGTH, assertAcceptableSecret } from './lib/keys/secret-policy';
export {
  ED25519_ALGORITHM_NAMES,
  TOKEN_SIGNING_ALGORITHMS,
  algorithmOfJwk,
  generateSigningKey,
  jwkThumbprint,
  privateSigningKeyFromText,
  publicJwkOf,
  signJwsInput,
  signingKeyFromJwk,
  signingKeyFromPrivate,
  verifyJwsInput,
  type AsymmetricAlgorithm,
  type Ed25519AlgorithmName,
  type PrivateSigningKey,
  type PublicSigningKey,
  type TokenSigningAlgorithm,
} from './lib/keys/asymmetric-key';
export type { PublicKeySource, SigningKeySource } from './lib/keys/public-key-source';
export { JwksError, JwksKeySource, parseJwks, type JwksKeySourceOptions } from './lib/keys/jwks-key-source';
export { FileSigningKeys, type KeySchedule, type SigningKeyInfo, type SigningKeyState } from './lib/keys/file-signing-keys';
export { TokenVerifierService, type TokenGrant } from './lib/tokens/token-verifier.service';
export { TokenIssuerService, type MintRequest, type MintedToken } from './lib/tokens/token-issuer.service';
export { ExchangeRefusedError, TokenExchangeService, type ExchangeRequest, type ExchangeSubject } from './lib/tokens/token-exchange.service';
export { ACCESS_TOKEN_TYPE, JWT_BEARER_CLIENT_ASSERTION, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './lib/oauth/oauth.constants';
export { validateClaims, type ClaimPolicy } from './lib/tokens/claims';
export { shown, type LegacyIssuer } from './lib/tokens/legacy-issuer';
export { decodeBase64UrlStrict, verifyHs256Signature, verifyJwsSignature, type JwtClaims, type JwtHeader, type VerificationKeys, type VerifiedSignature } from './lib/tokens/jwt-codec';
export { NoRevocations, type RevocationStore } from './lib/revocation/revocation-store';
export { RevocationIndex } from './lib/revocation/revocation-index';
export { subjectRevocationCutoff } from './lib/revocation/subject-cutoff';
export { AuthContextService, type AuthContextState } from './lib/context/auth-context.service';
export { AuthAuditService, type AuthDecision } from './lib/audit/auth-audit.service';
export { RequestAuthenticatorService, type Authentication } from './lib/http/request-authenticator.service';
export { extractBearerToken, tokenDigest, type CredentialSource } from './lib/http/bearer';
export { buildBearerChallenge, challengeBody, type ChallengeInput } from './lib/http/challenge';
export { ChallengeScopesService } from './lib/http/challenge-scopes.service';
export { authenticationOf, principalOf } from './lib/http/auth-request';
export { requestIdOf } from './lib/http/request-id';
export { JwtAuthGuard } from './lib/guards/jwt-auth.guard';
export { Public } from './lib/decorators/public.decorator';
export { RequireAuth, type RequireAuthOptions } from './lib/decorators/require-auth.decorator';
export { RequiresScopes } from './lib/decorators/requires-scopes.decorator';
export { CurrentPrincipal } from './lib/decorators/current-principal.decorator';
export { CROSSAUTH_JWT_STRATEGY, JwtStrategy } from './lib/strategies/jwt.strategy';
export { DEFAULT_LEGACY_ISSUERS_UNTIL, envBoolean, envInstant, envIssuerUrl, envList, issuerNames, legacyIssuers, parseEnvironment, readConnectionUrl, readSecretList, readSecretSettings, readSecretVariable, type Environment } from './lib/config/env';
export { SignatureError, type SignatureFailureReason } from './lib/signing/signature.errors';
export { REQUIRED_COMPONENTS, signRequest, signatureBase, verifyRequest, type SignableRequest, type VerifiedRequest, type VerifyRequestOptions } from './lib/signing/http-message-signature';
export { contentDigest, verifyContentDigest } from './lib/signing/content-digest';
export { MemoryNonceStore, type NonceStore, type NonceVerdict } from './lib/signing/nonce-store';
export { clientSecretMatches, deriveClientSecretKey, generateClientSecret, hashClientSecret } from './lib/oauth/client-secret';
export { CLIENT_ASSERTION_ALGORITHMS, ClientAssertionError, assertPublicJwks, createClientAssertion, verifyClientAssertion, type ClientAssertionPolicy, type ClientJwks } from './lib/oauth/client-assertion';
export { pythonJsonDumps } from './lib/signing/python-json';
export { isExactNumber, parseExactJson, stringifyExactJson, type ExactNumber } from './lib/signing/exact-json';
export {
  EnvelopeError,
  createEnvelope,
  signMessage,
  verifyEnvelope,
  verifyMessage,
  type EnvelopeFailureReason,
  type HmacKey,
  type MessageEnvelope,
} from './lib/signing/signed-message';
export { RequestSignatureVerifierService, type SignedRequestParts } from './lib/signing/request-signature-verifier.service';
export { AuthFailureThrottleService, AuthThrottledError } from './lib/throttle/auth-failure-throttle.service';
export { MemoryFailureThrottleStore, type FailureRule, type FailureThrottleStore } from './lib/throttle/failure-throttle.store';
export { AuthKeysService, provideSecretReload, type SecretSet } from './lib/keys/auth-keys.service';
