'use strict';
// Entra ID stand-in: official SDK credentials, the raw token protocol, federated credential
// matching and its AADSTS errors, discovery.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const H = require('./helpers/azure-lab');

// A TokenRequest for the controller's ServiceAccount (what the kubelet projects into the pod).
function saToken(lab) {
  return lab.saToken('flux-system', 'kustomize-controller');
}

function federated(lab, assertion, clientId) {
  return H.entraToken(lab, {
    grant_type: 'client_credentials', client_id: clientId || lab.env.LAB_CLIENT_ID, scope: 'https://vault.azure.net/.default',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
  });
}

function assertAad(r, code, pattern) {
  assert.ok(r.status === 400 || r.status === 401, 'status ' + r.status + ' ' + r.text);
  assert.deepStrictEqual(r.json.error_codes, [code], r.text);
  assert.ok(r.json.error_description.startsWith('AADSTS' + code + ': '), r.json.error_description);
  if (pattern) assert.match(r.json.error_description, pattern);
  for (const k of ['error', 'timestamp', 'trace_id', 'correlation_id', 'error_uri']) assert.ok(r.json[k], k);
  assert.match(r.json.error_description, /Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: /);
}

test('Entra ID stand-in', async (t) => {
  const lab = await H.startLab(t);
  const fic = (...a) => lab.verb('fic', 'set', lab.env.LAB_IDENTITY_NAME, 'kustomize-controller', ...a);
  const restore = () => fic('issuer={{issuer}}', 'subject=system:serviceaccount:flux-system:kustomize-controller', 'audience=api://AzureADTokenExchange');

  const file = path.join(lab.dir, 'wi-token');
  fs.writeFileSync(file, await saToken(lab));
  const [secret, cert, wi, node, missing] = lab.sdkBatch([
    { kind: 'secret' }, { kind: 'certificate' }, { kind: 'workload', env: { WI_TOKEN_FILE: file } },
    { kind: 'imds' }, { kind: 'imds', env: { MI_CLIENT_ID: lab.env.LAB_CLIENT_ID } },
  ]);
  // MSAL remembers the managed identity source per process: the App Service shape runs apart.
  const [app] = lab.sdkBatch([{ kind: 'appservice' }]);

  await t.test('@azure/identity ClientSecretCredential', () => {
    assert.strictEqual(secret.ok, true, secret.message);
    assert.strictEqual(secret.aud, 'https://vault.azure.net');
    assert.strictEqual(secret.oid, lab.env.LAB_SP_OBJECT_ID);
    assert.strictEqual(secret.tid, lab.env.LAB_TENANT_ID);
    assert.strictEqual(secret.appid, lab.env.LAB_SP_CLIENT_ID);
  });

  await t.test('@azure/identity ClientCertificateCredential (PS256 assertion, x5t#S256)', () => {
    assert.strictEqual(cert.ok, true, cert.message);
    assert.strictEqual(cert.oid, lab.env.LAB_SP_OBJECT_ID);
  });

  await t.test('@azure/identity WorkloadIdentityCredential with a projected-style token file', () => {
    assert.strictEqual(wi.ok, true, wi.message);
    assert.strictEqual(wi.oid, lab.env.LAB_PRINCIPAL_ID);
    assert.strictEqual(wi.appid, lab.env.LAB_CLIENT_ID);
  });

  await t.test('@azure/identity ManagedIdentityCredential: App Service and IMDS shapes', () => {
    assert.strictEqual(app.ok, true, app.message);
    assert.strictEqual(app.oid, lab.env.LAB_PRINCIPAL_ID);
    assert.strictEqual(node.ok, true, node.message);
    assert.notStrictEqual(node.oid, lab.env.LAB_PRINCIPAL_ID, 'IMDS default is the node identity');
    assert.strictEqual(missing.ok, false);
    assert.match(missing.message, /Identity not found/);
  });

  await t.test('IMDS requires Metadata: true', async () => {
    const http = require('node:http');
    const body = await new Promise((resolve, reject) => {
      http.get(lab.env.LAB_IMDS_ENDPOINT + '?api-version=2018-02-01&resource=https://vault.azure.net', (res) => {
        let d = '';
        res.on('data', (c) => { d += c; });
        res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(d) }));
      }).on('error', reject);
    });
    assert.strictEqual(body.status, 400);
    assert.strictEqual(body.json.error_description, 'Required metadata header not specified');
  });

  await t.test('client secret errors: wrong secret, unknown client, unknown tenant, bad scope, unknown resource', async () => {
    const base = { grant_type: 'client_credentials', client_id: lab.env.LAB_SP_CLIENT_ID, client_secret: 'wrong', scope: 'https://vault.azure.net/.default' };
    assertAad(await H.entraToken(lab, { ...base }), 7000215, /Invalid client secret provided/);
    assertAad(await H.entraToken(lab, { ...base, client_id: crypto.randomUUID() }), 700016, /Application with identifier '[0-9a-f-]+' was not found in the directory/);
    assertAad(await H.entraToken(lab, { ...base, client_secret: lab.env.LAB_SP_CLIENT_SECRET, tenant: crypto.randomUUID() }), 90002, /Tenant '[0-9a-f-]+' not found/);
    assertAad(await H.entraToken(lab, { ...base, client_secret: lab.env.LAB_SP_CLIENT_SECRET, scope: 'https://vault.azure.net' }), 1002012);
    assertAad(await H.entraToken(lab, { ...base, client_secret: lab.env.LAB_SP_CLIENT_SECRET, scope: 'https://vault.example.org/.default' }), 500011);
    const ok = await H.entraToken(lab, { ...base, client_secret: lab.env.LAB_SP_CLIENT_SECRET, scope: 'https://vault.azure.net//.default' });
    assert.strictEqual(ok.status, 200);
    assert.strictEqual(H.claims(ok.json.access_token).aud, 'https://vault.azure.net/', 'resource with trailing slash is kept');
    assert.strictEqual(ok.json.token_type, 'Bearer');
    assert.ok(ok.json.expires_in > 0 && ok.json.ext_expires_in > 0);
  });

  await t.test('federated assertion: success gives an RS256 token with aud/oid/tid/appid/exp', async () => {
    const r = await federated(lab, await saToken(lab));
    assert.strictEqual(r.status, 200, r.text);
    const [h] = r.json.access_token.split('.');
    assert.strictEqual(JSON.parse(Buffer.from(h, 'base64url')).alg, 'RS256');
    const c = H.claims(r.json.access_token);
    assert.strictEqual(c.aud, 'https://vault.azure.net');
    assert.strictEqual(c.oid, lab.env.LAB_PRINCIPAL_ID);
    assert.strictEqual(c.tid, lab.env.LAB_TENANT_ID);
    assert.strictEqual(c.appid, lab.env.LAB_CLIENT_ID);
    assert.strictEqual(c.iss, 'https://sts.windows.net/' + lab.env.LAB_TENANT_ID + '/');
    assert.ok(c.exp > Date.now() / 1000);
    assert.strictEqual(c.xms_mirid, lab.env.LAB_IDENTITY_ID);
  });

  await t.test('FIC issuer without its trailing slash: AADSTS700211', async () => {
    await fic('issuer={{issuerNoSlash}}');
    const tok = await saToken(lab);
    assertAad(await federated(lab, tok), 700211, new RegExp("presented assertion issuer '" + H.claims(tok).iss.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + "'"));
    await restore();
  });

  await t.test('FIC subject typo: AADSTS700213; case only: AADSTS7002138', async () => {
    await fic('subject=system:serviceaccount:flux-system:kustomize-controler');
    assertAad(await federated(lab, await saToken(lab)), 700213, /presented assertion subject 'system:serviceaccount:flux-system:kustomize-controller'/);
    await fic('subject=system:serviceaccount:Flux-System:kustomize-controller');
    assertAad(await federated(lab, await saToken(lab)), 7002138);
    await restore();
  });

  await t.test('FIC audience differs: AADSTS700212', async () => {
    await fic('audience=api://AzureADTokenExchange/');
    assertAad(await federated(lab, await saToken(lab)), 700212, /audience 'api:\/\/AzureADTokenExchange'/);
    await restore();
  });

  await t.test('identity without any federated credential: AADSTS70021 naming issuer, subject, audience', async () => {
    await lab.verb('fic', 'delete', lab.env.LAB_IDENTITY_NAME, 'kustomize-controller');
    assertAad(await federated(lab, await saToken(lab)), 70021, /Assertion Issuer: '.*'\. Assertion Subject: 'system:serviceaccount:flux-system:kustomize-controller'\. Assertion Audience: 'api:\/\/AzureADTokenExchange'/);
    await restore();
    assert.strictEqual((await federated(lab, await saToken(lab))).status, 200);
  });

  await t.test('federated credential on another identity: the annotated client id has none', async () => {
    const kubelet = (await lab.verb('azure')).identities.find((i) => i.name !== lab.env.LAB_IDENTITY_NAME);
    assertAad(await federated(lab, await saToken(lab), kubelet.clientId), 70021);
  });

  await t.test('tampered assertion: AADSTS700027; garbage: AADSTS50027; unknown client: AADSTS700016', async () => {
    const tok = (await saToken(lab)).split('.');
    const payload = JSON.parse(Buffer.from(tok[1], 'base64url'));
    payload.sub = 'system:serviceaccount:flux-system:other';
    const forged = [tok[0], Buffer.from(JSON.stringify(payload)).toString('base64url'), tok[2]].join('.');
    assertAad(await federated(lab, forged), 700027);
    assertAad(await federated(lab, 'not-a-jwt'), 50027);
    assertAad(await federated(lab, await saToken(lab), crypto.randomUUID()), 700016);
  });

  await t.test('expired certificate assertion: AADSTS700024', async () => {
    const pem = fs.readFileSync(lab.env.LAB_SP_CERT_PATH, 'utf8');
    const cert = new crypto.X509Certificate(pem);
    const key = crypto.createPrivateKey(pem);
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5t: crypto.createHash('sha1').update(cert.raw).digest('base64url') };
    const url = lab.env.AZURE_AUTHORITY_HOST + lab.env.LAB_TENANT_ID + '/oauth2/v2.0/token';
    const mk = (iat, exp) => {
      const p = { aud: url, iss: lab.env.LAB_SP_CLIENT_ID, sub: lab.env.LAB_SP_CLIENT_ID, jti: crypto.randomUUID(), iat, nbf: iat, exp };
      const input = Buffer.from(JSON.stringify(header)).toString('base64url') + '.' + Buffer.from(JSON.stringify(p)).toString('base64url');
      return input + '.' + crypto.sign('sha256', Buffer.from(input), key).toString('base64url');
    };
    const body = (a) => ({ grant_type: 'client_credentials', client_id: lab.env.LAB_SP_CLIENT_ID, scope: 'https://vault.azure.net/.default', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a });
    assertAad(await H.entraToken(lab, body(mk(now - 7200, now - 3600))), 700024, /Client assertion is not within its valid time range/);
    const ok = await H.entraToken(lab, body(mk(now, now + 600)));
    assert.strictEqual(ok.status, 200, ok.text);
  });

  await t.test('discovery documents', async () => {
    const base = lab.env.AZURE_AUTHORITY_HOST + lab.env.LAB_TENANT_ID;
    const conf = await H.request(base + '/v2.0/.well-known/openid-configuration', { ca: lab.ca });
    assert.strictEqual(conf.status, 200);
    assert.strictEqual(conf.json.token_endpoint, base + '/oauth2/v2.0/token');
    assert.strictEqual(conf.json.issuer, base + '/v2.0');
    const keys = await H.request(conf.json.jwks_uri, { ca: lab.ca });
    assert.strictEqual(keys.json.keys[0].kty, 'RSA');
    const inst = await H.request(lab.env.AZURE_AUTHORITY_HOST + 'common/discovery/instance?api-version=1.1&authorization_endpoint=' + encodeURIComponent(base + '/oauth2/v2.0/authorize'), { ca: lab.ca });
    assert.strictEqual(inst.status, 200);
    assert.ok(inst.json.metadata[0].aliases.includes(new URL(base).host));
  });
});
