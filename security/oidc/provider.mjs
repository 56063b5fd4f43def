// Test identity provider for Candor's admin SSO integration tests.
//
// The Rust integration tests start this as a child process:
//
//   cd security/oidc && npm ci          # once
//   PORT=0 node security/oidc/provider.mjs
//
// Contract: listens on 127.0.0.1:$PORT (default 0 = any free port) and, once
// listening, prints exactly one stdout line `ready http://127.0.0.1:<port>`.
// Everything else goes to stderr. It exits when its stdin closes (keep a pipe
// open for as long as the provider is needed) and on SIGTERM/SIGINT.
//
// 1. A real OpenID provider (oidc-provider), issuer http://127.0.0.1:<port>.
//    Client `candor` / `candor-test-secret` (client_secret_basic or _post),
//    authorization code + PKCE S256 required, any redirect URI of the form
//    http://127.0.0.1:<any port>/admin/sso/callback. Nobody is asked anything:
//    `login_hint` picks the account (default alice, unknown -> access_denied)
//    and consent is granted at once, so following Location headers with a
//    cookie jar ends at the callback: /auth -> /interaction/<uid> ->
//    /auth/<uid> -> redirect_uri?code&state&iss, all 303s. No login session
//    is kept between authorizations. ID tokens carry email, email_verified,
//    name and groups. Accounts (sub = id):
//      alice       alice@corvellan.example  verified  [candor-admins]
//      eddie       eddie@corvellan.example  verified  [candor-editors, staff]
//      nora        nora@corvellan.example   verified  [staff]
//      owen        owen@corvellan.example   verified  [candor-owners]
//      unverified  mallory@corvellan.example NOT verified [candor-admins]
//
// 2. Hand-written "rogue" issuers at http://127.0.0.1:<port>/rogue/<case>,
//    each with discovery, /auth, /token, /jwks and /userinfo, always logging
//    in alice but issuing a deliberately faulty ID token:
//      ok                 nothing wrong (control case)
//      wrong-aud          aud is "someone-else"
//      expired            issued an hour ago, expired half an hour ago
//      wrong-nonce        nonce is not the one sent
//      wrong-iss          iss is .../rogue/elsewhere
//      bad-signature      signed by a key that is not in the JWKS (same kid)
//      no-email-verified  email_verified is false

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';

// oidc-provider prints notices with console.info; stdout is reserved for the
// ready line, so send all console output to stderr.
console.log = console.info = console.debug = console.error;

const CLIENT_ID = 'candor';
const CLIENT_SECRET = 'candor-test-secret';
const SCOPE = 'openid email profile groups';
const CALLBACK = /^http:\/\/127\.0\.0\.1:\d{1,5}\/admin\/sso\/callback$/;

const account = (email, name, groups, verified = true) => ({
  email, email_verified: verified, name, groups,
});
const ACCOUNTS = {
  alice: account('alice@corvellan.example', 'Alice Admin', ['candor-admins']),
  eddie: account('eddie@corvellan.example', 'Eddie Editor', ['candor-editors', 'staff']),
  nora: account('nora@corvellan.example', 'Nora Nogroup', ['staff']),
  owen: account('owen@corvellan.example', 'Owen Owner', ['candor-owners']),
  unverified: account('mallory@corvellan.example', 'Mallory', ['candor-admins'], false),
};
const hintedAccount = (params) => params.login_hint ?? 'alice';

const log = (...args) => console.error('[oidc-test]', ...args);
const random = (n = 24) => randomBytes(n).toString('base64url');

async function rsaKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

// ---------------------------------------------------------------- real OP --

async function realProvider(issuer) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // The real check is the override of redirectUriAllowed below.
      redirect_uris: ['http://127.0.0.1/admin/sso/callback'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [await rsaKey('candor-test-op')] },
    cookies: { keys: [random()] },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    scopes: SCOPE.split(' '),
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false, // scope claims go in the ID token too
    pkce: { required: () => true }, // S256 is the only method v9 knows
    ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const claims = ACCOUNTS[id];
      return claims && { accountId: id, claims: async () => ({ sub: id, ...claims }) };
    },
    renderError(ctx, out) {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = Object.entries(out).map(([k, v]) => `${k}: ${v}`).join('\n');
    },
  });

  // Any loopback port, fixed path: each test's Candor listens on its own port.
  const allowed = provider.Client.prototype.redirectUriAllowed;
  provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(uri) {
    return (this.clientId === CLIENT_ID && CALLBACK.test(uri)) || allowed.call(this, uri);
  };

  provider.on('server_error', (ctx, err) => log('server_error', err));
  provider.on('authorization.error', (ctx, err) => log('authorization.error', err.message, err.error_description ?? ''));
  provider.on('grant.error', (ctx, err) => log('grant.error', err.message, err.error_description ?? ''));

  // Interaction: log in the hinted account and grant whatever was asked.
  async function interact(req, res) {
    const { prompt, params, session, grantId } = await provider.interactionDetails(req, res);
    const result = {};
    let accountId = session?.accountId;
    if (prompt.name === 'login') {
      accountId = hintedAccount(params);
      if (!ACCOUNTS[accountId]) {
        return provider.interactionFinished(req, res, {
          error: 'access_denied',
          error_description: `unknown login_hint ${JSON.stringify(accountId)}`,
        }, { mergeWithLastSubmission: false });
      }
      result.login = { accountId };
    }
    const grant = (grantId && await provider.Grant.find(grantId))
      || new provider.Grant({ accountId, clientId: params.client_id });
    grant.addOIDCScope(params.scope);
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    result.consent = { grantId: await grant.save() };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }

  const callback = provider.callback();
  return async (req, res) => {
    // Every authorization is a fresh login: drop the OP's session cookie so
    // login_hint alone picks the account (switching accounts on a live
    // session would need an HTML logout form) and the chain never changes.
    if (req.headers.cookie) {
      req.headers.cookie = req.headers.cookie.split(/;\s*/)
        .filter((c) => !/^_session(\.sig)?=/.test(c)).join('; ');
    }
    if (req.method === 'GET' && /^\/interaction\/[^/?]+(\?|$)/.test(req.url)) {
      try {
        await interact(req, res);
      } catch (err) {
        log('interaction failed', err);
        if (!res.headersSent) text(res, 400, `interaction failed: ${err.message}`);
      }
      return;
    }
    callback(req, res);
  };
}

// -------------------------------------------------------------- rogue OPs --

const ROGUE_CASES = ['ok', 'wrong-aud', 'expired', 'wrong-nonce', 'wrong-iss', 'bad-signature', 'no-email-verified'];

function text(res, status, body) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${body}\n`);
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sameSecret = (given) => {
  const a = Buffer.from(String(given ?? ''));
  const b = Buffer.from(CLIENT_SECRET);
  return a.length === b.length && timingSafeEqual(a, b);
};

// Returns the authenticated client id or undefined.
function rogueClient(req, form) {
  const auth = req.headers.authorization ?? '';
  if (auth.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return undefined;
    const [id, secret] = [decoded.slice(0, i), decoded.slice(i + 1)].map(decodeURIComponent);
    return id === CLIENT_ID && sameSecret(secret) ? id : undefined;
  }
  const id = form.get('client_id');
  return id === CLIENT_ID && sameSecret(form.get('client_secret')) ? id : undefined;
}

async function rogueProviders(origin) {
  const publicJwk = await rsaKey('candor-test-rogue');
  const signingKey = await jose.importJWK(publicJwk, 'RS256');
  const evilKey = await jose.importJWK(await rsaKey(publicJwk.kid), 'RS256');
  const jwks = { keys: [{ kty: publicJwk.kty, n: publicJwk.n, e: publicJwk.e, kid: publicJwk.kid, alg: 'RS256', use: 'sig' }] };
  const codes = new Map(); // code -> { rogueCase, nonce, challenge, redirectUri }
  const tokens = new Map(); // access token -> rogueCase

  const claims = () => ({ sub: 'alice', ...ACCOUNTS.alice });

  async function idToken(rogueCase, issuer, nonce) {
    const now = Math.floor(Date.now() / 1000);
    let payload = { iss: issuer, aud: CLIENT_ID, iat: now, exp: now + 300, nonce, ...claims() };
    let key = signingKey;
    switch (rogueCase) {
      case 'wrong-aud': payload.aud = 'someone-else'; break;
      case 'expired': payload = { ...payload, iat: now - 3600, exp: now - 1800 }; break;
      case 'wrong-nonce': payload.nonce = 'not-the-nonce-you-sent'; break;
      case 'wrong-iss': payload.iss = `${origin}/rogue/elsewhere`; break;
      case 'bad-signature': key = evilKey; break;
      case 'no-email-verified': payload.email_verified = false; break;
      default: break;
    }
    if (payload.nonce === undefined) delete payload.nonce;
    return new jose.SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: publicJwk.kid, typ: 'JWT' })
      .sign(key);
  }

  return async (req, res, rogueCase, endpoint) => {
    const issuer = `${origin}/rogue/${rogueCase}`;
    const url = new URL(req.url, origin);
    const route = `${req.method} ${endpoint}`;

    if (route === 'GET /.well-known/openid-configuration') {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        userinfo_endpoint: `${issuer}/userinfo`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: SCOPE.split(' '),
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        code_challenge_methods_supported: ['S256'],
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'email', 'email_verified', 'name', 'groups'],
      });
    }

    if (route === 'GET /jwks') return json(res, 200, jwks);

    if (route === 'GET /auth') {
      const p = url.searchParams;
      const redirectUri = p.get('redirect_uri') ?? '';
      const problem = p.get('client_id') !== CLIENT_ID ? 'unknown client_id'
        : p.get('response_type') !== 'code' ? 'response_type must be code'
          : !CALLBACK.test(redirectUri) ? 'redirect_uri not allowed'
            : !p.get('code_challenge') ? 'code_challenge missing'
              : p.get('code_challenge_method') !== 'S256' ? 'code_challenge_method must be S256'
                : undefined;
      if (problem) return text(res, 400, `invalid_request: ${problem}`);
      const code = random();
      codes.set(code, {
        rogueCase, nonce: p.get('nonce') ?? undefined, challenge: p.get('code_challenge'), redirectUri,
      });
      const target = new URL(redirectUri);
      target.searchParams.set('code', code);
      if (p.has('state')) target.searchParams.set('state', p.get('state'));
      target.searchParams.set('iss', issuer);
      res.writeHead(303, { location: target.href, 'cache-control': 'no-store' });
      return res.end();
    }

    if (route === 'POST /token') {
      const form = new URLSearchParams(await readBody(req));
      if (!rogueClient(req, form)) {
        return json(res, 401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="rogue"' });
      }
      if (form.get('grant_type') !== 'authorization_code') {
        return json(res, 400, { error: 'unsupported_grant_type' });
      }
      const code = form.get('code') ?? '';
      const entry = codes.get(code);
      codes.delete(code); // single use, whatever happens next
      const verifier = form.get('code_verifier') ?? '';
      if (!entry || entry.rogueCase !== rogueCase
        || form.get('redirect_uri') !== entry.redirectUri
        || createHash('sha256').update(verifier).digest('base64url') !== entry.challenge) {
        return json(res, 400, { error: 'invalid_grant' });
      }
      const accessToken = random();
      tokens.set(accessToken, rogueCase);
      return json(res, 200, {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: 300,
        id_token: await idToken(rogueCase, issuer, entry.nonce),
        scope: SCOPE,
      });
    }

    if (route === 'GET /userinfo') {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /i, '');
      if (tokens.get(token) !== rogueCase) {
        return json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
      }
      const body = claims();
      if (rogueCase === 'no-email-verified') body.email_verified = false;
      return json(res, 200, body);
    }

    return text(res, 404, 'not found');
  };
}

// ------------------------------------------------------------------ main --

async function main() {
  let handler = (req, res) => text(res, 503, 'starting');
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;

  const op = await realProvider(origin);
  const rogue = await rogueProviders(origin);
  handler = (req, res) => {
    const m = /^\/rogue\/([^/?]+)(\/[^?]*)?/.exec(req.url);
    if (!m) return op(req, res);
    if (!ROGUE_CASES.includes(m[1])) return text(res, 404, 'unknown rogue case');
    return rogue(req, res, m[1], m[2] ?? '/').catch((err) => {
      log('rogue error', err);
      if (!res.headersSent) text(res, 500, 'server_error');
    });
  };

  const stop = (why) => {
    log(`exiting: ${why}`);
    server.closeAllConnections?.();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // The parent keeps our stdin open; when it goes away, so do we.
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('close', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();

  process.stdout.write(`ready ${origin}\n`);
  log(`issuer ${origin}; rogue issuers under ${origin}/rogue/{${ROGUE_CASES.join(',')}}`);
}

main().catch((err) => {
  log('failed to start', err);
  process.exit(1);
});
