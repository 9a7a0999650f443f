// A real OAuth 2.0 authorization server for integrator's interop test:
// npm oidc-provider on 127.0.0.1 over HTTPS, with one confidential client
// allowed the refresh_token grant and refresh-token rotation on.
//
// Usage: node oidc-provider.mjs CERT.pem KEY.pem
//
// It links a person's account itself (authorization code flow with PKCE,
// login and consent finished in code), prints one JSON line with the URLs,
// the client credentials and the first refresh token, then serves until
// its standard input closes. GET /test/grants lists the grant types the
// token endpoint has served, for the test to count refreshes.
import fs from 'node:fs';
import https from 'node:https';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const [certFile, keyFile] = process.argv.slice(2);
const cert = fs.readFileSync(certFile);
const key = fs.readFileSync(keyFile);

const client = {
  client_id: 'latch-device',
  client_secret: crypto.randomBytes(24).toString('base64url'),
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: ['https://127.0.0.1/callback'],
  token_endpoint_auth_method: 'client_secret_basic',
};

let provider;
const grants = [];
const server = https.createServer({ cert, key }, async (req, res) => {
  try {
    if (req.url.startsWith('/interaction/')) {
      // Finish login and consent at once, as the person would.
      const details = await provider.interactionDetails(req, res);
      const grant = new provider.Grant({ accountId: 'person-1', clientId: details.params.client_id });
      grant.addOIDCScope('openid offline_access');
      const grantId = await grant.save();
      await provider.interactionFinished(req, res,
        { login: { accountId: 'person-1' }, consent: { grantId } },
        { mergeWithLastSubmission: false });
      return;
    }
    if (req.url === '/test/grants') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(grants));
      return;
    }
    provider.callback()(req, res);
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `https://127.0.0.1:${server.address().port}`;

provider = new Provider(issuer, {
  clients: [client],
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  ttl: { AccessToken: 3600, IdToken: 3600, RefreshToken: 30 * 24 * 3600, Grant: 30 * 24 * 3600, Interaction: 600, Session: 3600 },
});
provider.proxy = false;
provider.on('grant.success', (ctx) => { grants.push(ctx.oidc.params.grant_type); });
provider.on('server_error', (ctx, err) => { process.stderr.write(`server_error: ${err.stack}\n`); });

// A small HTTPS client that trusts our certificate and keeps cookies.
const jar = new Map();
function request(method, url, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const req = https.request(url, { method, ca: cert, headers: { ...headers, ...(cookie ? { cookie } : {}) } }, (res) => {
      for (const c of res.headers['set-cookie'] || []) {
        const [pair] = c.split(';');
        const i = pair.indexOf('=');
        jar.set(pair.slice(0, i), pair.slice(i + 1));
      }
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, location: res.headers.location, body: data }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// Link the account: authorization request, interaction, code, token.
const verifier = crypto.randomBytes(32).toString('base64url');
const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
let url = `${issuer}/auth?` + new URLSearchParams({
  client_id: client.client_id, response_type: 'code', scope: 'openid offline_access', prompt: 'consent',
  redirect_uri: client.redirect_uris[0], state: 's1', code_challenge: challenge, code_challenge_method: 'S256',
});
let code;
for (let hops = 0; hops < 10 && !code; hops++) {
  const res = await request('GET', url);
  if (!res.location) throw new Error(`authorization flow stopped at ${res.status}: ${res.body}`);
  const next = new URL(res.location, url);
  if (next.origin + next.pathname === client.redirect_uris[0]) {
    if (next.searchParams.get('error')) throw new Error(`authorization failed: ${next.searchParams.get('error')}`);
    code = next.searchParams.get('code');
  }
  url = next.href;
}
if (!code) throw new Error('no authorization code');
const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
const tok = await request('POST', `${issuer}/token`, {
  headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0], code_verifier: verifier }).toString(),
});
const tokens = JSON.parse(tok.body);
if (!tokens.refresh_token) throw new Error(`no refresh token: ${tok.body}`);
grants.length = 0; // count only what the device does from here on

process.stdout.write(JSON.stringify({
  issuer,
  tokenUrl: `${issuer}/token`,
  introspectionUrl: `${issuer}/token/introspection`,
  revocationUrl: `${issuer}/token/revocation`,
  clientId: client.client_id,
  clientSecret: client.client_secret,
  refreshToken: tokens.refresh_token,
}) + '\n');

process.stdin.resume();
process.stdin.on('end', () => { server.close(); process.exit(0); });
