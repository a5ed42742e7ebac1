import { redirectUriMatches, redirectUriProblem } from './redirect-uri';

describe('redirect URIs (RFC 6749 §3.1.2, RFC 8252, RFC 9700 §4.1.3)', () => {
  it.each([
    'https://app.example/callback',
    'http://127.0.0.1/callback',
    'http://[::1]:8080/cb',
    'http://localhost:3000/cb',
    'cursor://anysphere.cursor-retrieval/oauth',
    'com.example.app:/oauth2redirect',
  ])('accepts %s for registration', (uri) => {
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  it.each([
    ['a relative URI', '/callback', /not an absolute URI/],
    ['a fragment', 'https://app.example/cb#x', /fragment/],
    ['credentials', 'https://user:pw@app.example/cb', /credentials/],
    ['http on a public host', 'http://app.example/cb', /must be a loopback address/],
    ['http on a private address', 'http://192.168.1.10/cb', /must be a loopback address/],
    ['javascript:', 'javascript:alert(1)', /scheme javascript: is not accepted/],
    ['data:', 'data:text/html,hi', /scheme data: is not accepted/],
    ['file:', 'file:///etc/passwd', /scheme file: is not accepted/],
  ])('refuses %s', (_name, uri, message) => {
    expect(redirectUriProblem(uri)).toMatch(message);
  });

  const registered = ['https://app.example/callback', 'http://127.0.0.1/callback', 'http://[::1]/cb', 'cursor://anysphere.cursor-retrieval/oauth'];

  it.each([
    ['the exact URI', 'https://app.example/callback'],
    ['a loopback redirect on another port', 'http://127.0.0.1:53124/callback'],
    ['an IPv6 loopback redirect on another port', 'http://[::1]:8080/cb'],
    ['a private-use scheme, exactly', 'cursor://anysphere.cursor-retrieval/oauth'],
  ])('matches %s', (_name, uri) => {
    expect(redirectUriMatches(registered, uri)).toBe(true);
  });

  it.each([
    ['another path', 'https://app.example/callback/extra'],
    ['an added query', 'https://app.example/callback?next=/admin'],
    ['another case', 'https://App.example/callback'],
    ['a trailing slash', 'https://app.example/callback/'],
    ['another port on an https host', 'https://app.example:8443/callback'],
    ['https instead of a registered loopback http', 'https://127.0.0.1/callback'],
    ['localhost for a registered 127.0.0.1', 'http://localhost:5000/callback'],
    ['a loopback redirect with another path', 'http://127.0.0.1:53124/other'],
    ['a loopback redirect with dot segments', 'http://127.0.0.1:53124/x/../callback'],
    ['a loopback redirect with a query', 'http://127.0.0.1:53124/callback?x=1'],
    ['a private-use scheme with another path', 'cursor://anysphere.cursor-retrieval/other'],
    ['a fragment', 'https://app.example/callback#frag'],
    ['nothing registered', 'https://app.example/callback', []],
  ])('does not match %s', (_name, uri, list: readonly string[] = registered) => {
    expect(redirectUriMatches(list, uri)).toBe(false);
  });
});
