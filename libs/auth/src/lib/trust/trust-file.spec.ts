import { parseTrustFile, trustUrlProblem, TrustFileError } from './trust-file';

const options = { allowLoopbackHttp: false, ownIssuers: ['http://127.0.0.1:8678'] };
const parse = (text: string, o = options) => parseTrustFile(text, 'trust.yaml', o);
const refusal = (text: string, o = options): string => {
  try {
    parse(text, o);
  } catch (error) {
    expect(error).toBeInstanceOf(TrustFileError);
    return (error as Error).message;
  }
  throw new Error('the file was accepted');
};

const okta = `
issuers:
  - issuer: https://example.okta.com/oauth2/default
    audiences: [api://session-buddy]
    algorithms: [RS256]
    scope_claim: scp
    scopes: [read, write]
`;

describe('parseTrustFile', () => {
  it('reads YAML with defaults: discovery by OpenID, RS256, scope, 300 s refresh', () => {
    expect(parse(okta)).toEqual([
      {
        issuer: 'https://example.okta.com/oauth2/default',
        keys: { discovery: 'oidc' },
        audiences: ['api://session-buddy'],
        algorithms: ['RS256'],
        scopeClaim: 'scp',
        scopes: ['read', 'write'],
        refreshSeconds: 300,
        minRefetchSeconds: 10,
      },
    ]);
  });

  it('reads JSON, and a jwks_uri for an issuer that is not a URL (a Kubernetes service-account issuer)', () => {
    const [entry] = parse(
      JSON.stringify({
        issuers: [
          {
            issuer: 'kubernetes/serviceaccount',
            jwks_uri: 'https://k8s.example/openid/v1/jwks',
            audiences: ['sb'],
            scopes: ['read'],
            algorithms: ['RS256', 'ES256'],
          },
        ],
      }),
    );
    expect(entry).toMatchObject({ keys: { jwksUri: 'https://k8s.example/openid/v1/jwks' }, algorithms: ['RS256', 'ES256'], scopeClaim: 'scope' });
  });

  it('allows http to loopback only with the development switch', () => {
    const local = 'issuers:\n  - issuer: http://127.0.0.1:9000\n    audiences: [sb]\n    scopes: [read]\n';
    expect(refusal(local)).toMatch(/trust\.yaml:2:\d+ \(issuers\.0\.issuer\): .*needs the development switch/);
    expect(parse(local, { ...options, allowLoopbackHttp: true })).toHaveLength(1);
    expect(refusal(local.replace('127.0.0.1', 'idp.internal'), { ...options, allowLoopbackHttp: true })).toMatch(/must be https$/);
  });

  it.each([
    ['HS256', okta.replace('[RS256]', '[HS256]'), /issuers\.0\.algorithms\.0/],
    ['RS384', okta.replace('[RS256]', '[RS384]'), /issuers\.0\.algorithms\.0/],
    ['no audiences', okta.replace('audiences: [api://session-buddy]', 'audiences: []'), /issuers\.0\.audiences/],
    ['no scope cap', okta.replace('    scopes: [read, write]\n', ''), /issuers\.0\.scopes/],
    ['an unknown scope', okta.replace('[read, write]', '[read, superuser]'), /scopes must be among read, write, delete, admin \(not superuser\)/],
    ['an unknown field', okta.replace('scope_claim: scp', 'scope_claim: scp\n    audience: x'), /Unrecognized key/],
    ['an unknown scope claim', okta.replace('scope_claim: scp', 'scope_claim: groups'), /issuers\.0\.scope_claim/],
    [
      'both jwks_uri and discovery',
      okta.replace('scope_claim: scp', 'scope_claim: scp\n    jwks_uri: https://x/keys\n    discovery: oauth'),
      /jwks_uri or discovery, not both/,
    ],
    ['an http jwks_uri', okta.replace('scope_claim: scp', 'scope_claim: scp\n    jwks_uri: http://keys.example/jwks'), /jwks_uri must be https/],
    ['the same issuer twice', okta + okta.replace('issuers:\n', ''), /listed twice/],
    ['this deployment’s own issuer', okta.replace('https://example.okta.com/oauth2/default', 'http://127.0.0.1:8678'), /this deployment's own/],
    ['YAML that does not parse', 'issuers:\n  - issuer: [unclosed\n', /^trust\.yaml:\d+:\d+: not valid YAML or JSON/],
    ['a list at the top', '- a\n- b\n', /top level/],
  ])('refuses %s, naming where and why', (_what, text, expected) => {
    expect(refusal(text)).toMatch(expected);
  });

  it('never echoes values from the file in a refusal of its structure', () => {
    expect(refusal(okta.replace('[read, write]', '"s3cr3t-looking"'))).not.toContain('s3cr3t');
  });
});

describe('trustUrlProblem', () => {
  it.each([
    ['https://idp.example', undefined],
    ['http://idp.example', 'must be https'],
    ['ftp://idp.example', 'must be https'],
    ['https://user:pw@idp.example', 'must not carry credentials'],
    ['https://idp.example/#x', 'must not have a fragment'],
    ['not a url', 'is not a URL'],
  ])('%s → %s', (url, problem) => {
    expect(trustUrlProblem(url, true)).toBe(problem);
  });

  it('takes every loopback form with the switch', () => {
    for (const url of ['http://localhost:1', 'http://127.0.0.9:1', 'http://[::1]:1']) expect(trustUrlProblem(url, true)).toBeUndefined();
  });
});
