// Test-only OpenID Connect provider for Gatehouse's functional tests: oidc-provider (OpenID certified) on
// 127.0.0.1, client_credentials with JWT (urn:gateway) and opaque (urn:opaque) access tokens, introspection,
// revocation, and test-only endpoints: rotate the signing key, drop old keys, sign arbitrary claims with
// the current key (for expired, not-yet-valid, wrong-issuer and wrong-audience tokens), and overwrite members of
// the introspection answers (an active token reported with a past exp, a non-string aud). Prints "listening PORT".
import http from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT, importJWK } from 'jose';
import Provider from 'oidc-provider';

const newKey = () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
};

let keys = [newKey()];
let handler = (req, res) => { res.statusCode = 503; res.end(); };
// Members merged into every introspection answer (an IdP whose clock or data disagree with the gateway's).
let introspectionPatch = null;
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/test/introspection-patch') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => { introspectionPatch = JSON.parse(body); res.end(); });
    return;
  }
  if (introspectionPatch && req.method === 'POST' && req.url === '/token/introspection') {
    const end = res.end.bind(res);
    res.end = (chunk, ...rest) => {
      if (!chunk || res.statusCode !== 200) return end(chunk, ...rest);
      const answer = JSON.stringify({ ...JSON.parse(chunk.toString()), ...introspectionPatch });
      res.setHeader('Content-Length', Buffer.byteLength(answer));
      return end(answer);
    };
  }
  if (req.method === 'POST' && req.url === '/test/rotate') {
    keys = [newKey(), ...keys];
    build();
    res.end(keys[0].kid);
    return;
  }
  if (req.method === 'POST' && req.url === '/test/sign') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', async () => {
      const { header, claims } = JSON.parse(body);
      const key = await importJWK(keys[0], 'RS256');
      const jwt = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: keys[0].kid, ...header })
        // jose refuses to sign a crit it does not know of unless told to: the gateway's handling of crit is under test.
        .sign(key, Array.isArray(header?.crit) ? { crit: Object.fromEntries(header.crit.map((name) => [name, true])) } : undefined);
      res.end(jwt);
    });
    return;
  }
  if (req.method === 'POST' && req.url === '/test/drop-old') {
    keys = [keys[0]];
    build();
    res.end(keys[0].kid);
    return;
  }
  handler(req, res);
});

function build() {
  const { port } = server.address();
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [
      { client_id: 'gateway', client_secret: 'gateway-secret', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
      { client_id: 'app', client_secret: 'app-secret', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
    ],
    jwks: { keys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async (ctx, client) => client.clientId === 'gateway' },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:gateway',
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => resource === 'urn:opaque'
          ? { scope: 'orders.read orders.write admin', audience: 'urn:opaque', accessTokenFormat: 'opaque' }
          : { scope: 'orders.read orders.write admin', audience: 'urn:gateway', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } },
      },
    },
    clientBasedCORS: () => false,
    cookies: { keys: ['test-only-cookie-key'] },
  });
  handler = provider.callback();
}

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  build();
  console.log(`listening ${server.address().port}`);
});
