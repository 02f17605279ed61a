// A stand-in for VNeID's sign-in in the format integrators describe (see api/src/oidc/vneid.rs),
// for the sign-in tests, on loopback, with Node's own http and crypto only:
//   GET  /authorize   a login page (any 12-digit login; ending in "-1" is level 1, level 2 otherwise)
//   POST /authorize   the login: back to redirect_uri with code and state
//   POST /token       form-urlencoded only; client, code (once, 60 s), redirect_uri and PKCE checked
//   GET  /userinfo    Bearer access token
// Token and userinfo answers are {"data", "key"}: a fresh AES-256 key encrypted with the relying
// party's RSA public key (PKCS#1 v1.5) and the JSON encrypted with it (aes-ecb, or aes-cbc with the
// IV in front), both base64. No ID token, no nonce. Configured by environment:
//   VNEID_PORT, VNEID_CLIENT_ID, VNEID_CLIENT_SECRET, VNEID_REDIRECT_URIS (JSON array),
//   VNEID_RP_PUBLIC_KEY (PEM), VNEID_CIPHER (aes-ecb | aes-cbc)
// Prints "ready <address>" when listening.
import http from 'node:http';
import crypto from 'node:crypto';

const port = Number(process.env.VNEID_PORT || 0);
const clientId = process.env.VNEID_CLIENT_ID;
const clientSecret = process.env.VNEID_CLIENT_SECRET;
const redirectUris = JSON.parse(process.env.VNEID_REDIRECT_URIS || '[]');
const rpPublicKey = process.env.VNEID_RP_PUBLIC_KEY;
const cipher = process.env.VNEID_CIPHER || 'aes-ecb';

const names = { '001099012345': 'Nguyễn Văn An', '001199054321': 'Trần Thị Bình' };
const codes = new Map();
const accessTokens = new Map();

function seal(value) {
  const key = crypto.randomBytes(32);
  const plain = Buffer.from(JSON.stringify(value), 'utf8');
  let data;
  if (cipher === 'aes-cbc') {
    const iv = crypto.randomBytes(16);
    const c = crypto.createCipheriv('aes-256-cbc', key, iv);
    data = Buffer.concat([iv, c.update(plain), c.final()]);
  } else {
    const c = crypto.createCipheriv('aes-256-ecb', key, null);
    data = Buffer.concat([c.update(plain), c.final()]);
  }
  const wrapped = crypto.publicEncrypt({ key: rpPublicKey, padding: crypto.constants.RSA_PKCS1_PADDING }, key);
  return { data: data.toString('base64'), key: wrapped.toString('base64') };
}

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json', ...headers });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (p) => parts.push(p));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${port}`);
  const q = url.searchParams;
  const body = await readBody(req);
  if (url.pathname === '/authorize') {
    if (q.get('response_type') !== 'code' || q.get('client_id') !== clientId || !redirectUris.includes(q.get('redirect_uri'))) {
      return send(res, 400, '<p>invalid request</p>');
    }
    if (req.method === 'GET') {
      return send(res, 200, `<form method="post" action="/authorize?${q}"><input name="login"><button>Đăng nhập</button></form>`);
    }
    const login = new URLSearchParams(body).get('login') || '';
    const code = crypto.randomBytes(16).toString('hex');
    codes.set(code, {
      login,
      redirectUri: q.get('redirect_uri'),
      challenge: q.get('code_challenge'),
      method: q.get('code_challenge_method'),
      expires: Date.now() + 60_000,
    });
    const back = new URL(q.get('redirect_uri'));
    back.searchParams.set('code', code);
    if (q.get('state')) back.searchParams.set('state', q.get('state'));
    return send(res, 302, '', { location: back.toString() });
  }
  if (url.pathname === '/token' && req.method === 'POST') {
    if (!(req.headers['content-type'] || '').startsWith('application/x-www-form-urlencoded')) {
      return send(res, 400, { error: 'invalid_request', error_description: 'form-urlencoded only' });
    }
    const f = new URLSearchParams(body);
    if (f.get('client_id') !== clientId || f.get('client_secret') !== clientSecret) {
      return send(res, 401, { error: 'invalid_client' });
    }
    const grant = codes.get(f.get('code'));
    codes.delete(f.get('code'));
    const verifier = f.get('code_verifier') || '';
    const pkceOk = !grant?.challenge
      || (grant.method === 'S256' && crypto.createHash('sha256').update(verifier).digest('base64url') === grant.challenge);
    if (f.get('grant_type') !== 'authorization_code' || !grant || grant.expires < Date.now()
        || grant.redirectUri !== f.get('redirect_uri') || !pkceOk) {
      return send(res, 400, { error: 'invalid_grant' });
    }
    const token = crypto.randomBytes(24).toString('hex');
    accessTokens.set(token, { login: grant.login, expires: Date.now() + 600_000 });
    return send(res, 200, seal({ access_token: token, token_type: 'Bearer', expires_in: 600 }));
  }
  if (url.pathname === '/userinfo' && req.method === 'GET') {
    const token = (req.headers.authorization || '').replace(/^Bearer /, '');
    const found = accessTokens.get(token);
    if (!found || found.expires < Date.now()) return send(res, 401, { error: 'invalid_token' });
    const pid = found.login.replace(/-1$/, '');
    const info = { fullName: names[pid] || 'Người dùng thử', birthDate: '02/09/1990', accountType: 1,
      accountLevel: found.login.endsWith('-1') ? 1 : 2 };
    if (/^\d{12}$/.test(pid)) info.citizenPid = pid;
    return send(res, 200, seal(info));
  }
  return send(res, 404, { error: 'not_found' });
});

server.listen(port, '127.0.0.1', () => console.log(`ready http://127.0.0.1:${port}`));
