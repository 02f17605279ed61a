// A real OpenID provider (the OpenID-certified `oidc-provider` package) for the sign-in tests,
// on loopback. Configured by environment:
//   OIDC_PORT           port on 127.0.0.1
//   OIDC_CLIENTS        JSON array of clients: [{client_id, client_secret, redirect_uris}]
//   OIDC_JWKS           JSON Web Key Set with the private signing key (so tests can check
//                       signatures; a key of its own otherwise)
//   OIDC_NODE_MODULES   the node_modules folder `oidc-provider` is installed in
// People sign in through the package's own login and consent pages with any login: a 12-digit
// login is a citizen's personal ID number, a 10-digit one an organisation's tax code; a login
// ending in "-1" is assurance level 1 (level 2 otherwise). Prints "ready <issuer>" when listening.
import { pathToFileURL } from 'node:url';

const modules = process.env.OIDC_NODE_MODULES || 'node_modules';
const { default: Provider } = await import(pathToFileURL(`${modules}/oidc-provider/lib/index.js`).href);

const port = Number(process.env.OIDC_PORT || 0);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]').map((c) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...c,
}));

const names = {
  '001099012345': 'Nguyễn Văn An',
  '001199054321': 'Trần Thị Bình',
  '0101234565': 'Công ty TNHH Ánh Dương',
};

const configuration = {
  clients,
  claims: { openid: ['sub'], profile: ['name', 'id_number', 'tax_code', 'level', 'birthdate'] },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
  async findAccount(ctx, id) {
    const key = id.replace(/-1$/, '');
    return {
      accountId: id,
      async claims() {
        const claims = { sub: id, name: names[key] || 'Người dùng thử', level: id.endsWith('-1') ? '1' : '2' };
        if (/^\d{12}$/.test(key)) claims.id_number = key;
        if (/^\d{10}(\d{3})?$/.test(key)) claims.tax_code = key;
        return claims;
      },
    };
  },
};
if (process.env.OIDC_JWKS) configuration.jwks = JSON.parse(process.env.OIDC_JWKS);

const provider = new Provider(issuer, configuration);
provider.proxy = false;
provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
