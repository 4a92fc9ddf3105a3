'use strict';
// Key Vault stand-in: official SDK check, challenge, audience, api-version, key material and
// algorithms, access policies, disabled keys, key_ops, versions, faults, counters.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const H = require('./helpers/azure-lab');

function keyPath(lab, version) {
  const u = new URL(lab.env.LAB_KEY_URL);
  return version === undefined ? u.pathname : '/keys/' + lab.env.LAB_KEY_NAME + (version ? '/' + version : '');
}

function publicKeyOf(bundle) {
  return crypto.createPublicKey({ key: { kty: 'RSA', n: bundle.key.n, e: bundle.key.e }, format: 'jwk' });
}

async function miToken(lab) {
  const http = require('node:http');
  const url = lab.env.LAB_IDENTITY_ENDPOINT + '?api-version=2019-08-01&resource=https://vault.azure.net&client_id=' + lab.env.LAB_CLIENT_ID;
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { 'X-IDENTITY-HEADER': lab.env.LAB_IDENTITY_HEADER } }, (res) => {
      let d = '';
      res.on('data', (c) => { d += c; });
      res.on('end', () => resolve(JSON.parse(d).access_token));
    }).on('error', reject);
  });
}

test('Key Vault stand-in', async (t) => {
  const lab = await H.startLab(t);
  const sp = await H.spToken(lab);

  await t.test('@azure/keyvault-keys KeyClient.getKey + CryptographyClient encrypt/decrypt', async () => {
    await lab.resetCounters();
    const r = lab.sdk('secret', 'keyvault');
    assert.strictEqual(r.ok, true, r.message);
    assert.strictEqual(r.keyId, lab.env.LAB_KEY_URL);
    assert.strictEqual(r.kty, 'RSA');
    assert.strictEqual(r.ciphertextLength, 256);
    assert.strictEqual(r.roundTrip, true);
    const c = await lab.counters();
    assert.ok(c['keyvault.get'] >= 1);
    assert.ok(c['keyvault.decrypt'] >= 1);
  });

  await t.test('unauthenticated request: 401 with the bearer challenge', async () => {
    const r = await H.kv(lab, 'POST', keyPath(lab) + '/decrypt', null, { alg: 'RSA-OAEP-256', value: 'AA' });
    assert.strictEqual(r.status, 401);
    assert.strictEqual(r.headers['www-authenticate'],
      'Bearer authorization="' + lab.env.AZURE_AUTHORITY_HOST + lab.env.LAB_TENANT_ID + '", resource="https://vault.azure.net"');
    assert.strictEqual(r.json.error.code, 'Unauthorized');
    assert.match(r.json.error.message, /^AKV10000: Request is missing a Bearer or PoP token\./);
  });

  await t.test('token for another audience: AKV10022', async () => {
    const arm = await H.spToken(lab, 'https://management.azure.com/.default');
    const r = await H.kv(lab, 'GET', keyPath(lab), arm);
    assert.strictEqual(r.status, 401);
    assert.strictEqual(r.json.error.message, 'AKV10022: Invalid audience. Expected https://vault.azure.net, found: https://management.azure.com.');
    const slash = await H.spToken(lab, 'https://vault.azure.net//.default');
    const r2 = await H.kv(lab, 'GET', keyPath(lab), slash);
    assert.match(r2.json.error.message, /found: https:\/\/vault\.azure\.net\/\.$/);
  });

  await t.test('api-version: missing and unknown give 400 BadParameter; SDK versions accepted', async () => {
    const url = lab.env.LAB_VAULT_URL + keyPath(lab);
    const raw = await H.request(url, { ca: lab.ca, headers: { Authorization: 'Bearer ' + sp } });
    assert.strictEqual(raw.status, 400);
    assert.strictEqual(raw.json.error.code, 'BadParameter');
    const bad = await H.kv(lab, 'GET', keyPath(lab) + '?api-version=1.0', sp);
    assert.strictEqual(bad.status, 400);
    assert.match(bad.json.error.message, /not recognized/);
    for (const v of ['7.0', '7.4', '7.5', '7.6', '2025-07-01']) {
      assert.strictEqual((await H.kv(lab, 'GET', keyPath(lab) + '?api-version=' + v, sp)).status, 200, v);
    }
  });

  await t.test('GET key: JWK with base64url n/e, kid with version, attributes', async () => {
    const r = await H.kv(lab, 'GET', '/keys/' + lab.env.LAB_KEY_NAME, sp);
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.json.key.kid, lab.env.LAB_KEY_URL);
    assert.match(r.json.key.n, /^[A-Za-z0-9_-]+$/);
    assert.strictEqual(r.json.key.e, 'AQAB');
    assert.strictEqual(Buffer.from(r.json.key.n, 'base64url').length, 256);
    assert.strictEqual(r.json.attributes.enabled, true);
    assert.ok(r.json.key.key_ops.includes('decrypt'));
    assert.strictEqual((await H.kv(lab, 'GET', '/keys/nope', sp)).json.error.code, 'KeyNotFound');
  });

  await t.test('RSA-OAEP-256 made locally decrypts in the vault; RSA-OAEP and RSA1_5 too', async () => {
    const bundle = (await H.kv(lab, 'GET', keyPath(lab), sp)).json;
    const pub = publicKeyOf(bundle);
    const dk = crypto.randomBytes(32);
    const cases = [
      ['RSA-OAEP-256', crypto.publicEncrypt({ key: pub, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, dk)],
      ['RSA-OAEP', crypto.publicEncrypt({ key: pub, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, dk)],
      ['RSA1_5', crypto.publicEncrypt({ key: pub, padding: crypto.constants.RSA_PKCS1_PADDING }, dk)],
    ];
    for (const [alg, ct] of cases) {
      const r = await H.kv(lab, 'POST', keyPath(lab) + '/decrypt', sp, { alg, value: ct.toString('base64url') });
      assert.strictEqual(r.status, 200, alg + ' ' + r.text);
      assert.deepStrictEqual(Buffer.from(r.json.value, 'base64url'), dk, alg);
      assert.strictEqual(r.json.kid, lab.env.LAB_KEY_URL);
    }
    const wrong = await H.kv(lab, 'POST', keyPath(lab) + '/decrypt', sp, { alg: 'RSA-OAEP', value: cases[0][1].toString('base64url') });
    assert.strictEqual(wrong.status, 400);
    const alg = await H.kv(lab, 'POST', keyPath(lab) + '/decrypt', sp, { alg: 'A256GCM', value: 'AA' });
    assert.strictEqual(alg.json.error.code, 'BadParameter');
  });

  await t.test('encrypt without version, wrapkey/unwrapkey round trip', async () => {
    const enc = await H.kv(lab, 'POST', '/keys/' + lab.env.LAB_KEY_NAME + '/encrypt', sp, { alg: 'RSA-OAEP-256', value: 'aGVsbG8' });
    assert.strictEqual(enc.status, 200);
    assert.strictEqual(enc.json.kid, lab.env.LAB_KEY_URL);
    const wrapped = await H.kv(lab, 'POST', keyPath(lab) + '/wrapkey', sp, { alg: 'RSA-OAEP-256', value: 'aGVsbG8' });
    const un = await H.kv(lab, 'POST', keyPath(lab) + '/unwrapkey', sp, { alg: 'RSA-OAEP-256', value: wrapped.json.value });
    assert.strictEqual(Buffer.from(un.json.value, 'base64url').toString(), 'hello');
  });

  await t.test('3072 and 4096-bit keys, versions and rotation', async () => {
    for (const size of [3072, 4096]) {
      const name = 'k' + size;
      await lab.verb('key', 'create', name, 'size=' + size);
      const b = (await H.kv(lab, 'GET', '/keys/' + name, sp)).json;
      assert.strictEqual(Buffer.from(b.key.n, 'base64url').length, size / 8);
      const e = await H.kv(lab, 'POST', '/keys/' + name + '/encrypt', sp, { alg: 'RSA-OAEP-256', value: crypto.randomBytes(32).toString('base64url') });
      assert.strictEqual(Buffer.from(e.json.value, 'base64url').length, size / 8);
    }
    const before = (await H.kv(lab, 'GET', '/keys/k3072', sp)).json.key.kid;
    const ct = (await H.kv(lab, 'POST', before.replace(lab.env.LAB_VAULT_URL, '') + '/encrypt', sp, { alg: 'RSA-OAEP-256', value: 'AQID' })).json.value;
    await lab.verb('key', 'rotate', 'k3072');
    const after = (await H.kv(lab, 'GET', '/keys/k3072', sp)).json.key.kid;
    assert.notStrictEqual(after, before);
    const old = await H.kv(lab, 'POST', before.replace(lab.env.LAB_VAULT_URL, '') + '/decrypt', sp, { alg: 'RSA-OAEP-256', value: ct });
    assert.strictEqual(old.json.value, 'AQID');
  });

  await t.test('an identity with only get+decrypt cannot encrypt: Forbidden shape', async () => {
    const mi = await miToken(lab);
    const r = await H.kv(lab, 'POST', keyPath(lab) + '/encrypt', mi, { alg: 'RSA-OAEP-256', value: 'AQID' });
    assert.strictEqual(r.status, 403);
    assert.strictEqual(r.json.error.code, 'Forbidden');
    assert.strictEqual(r.json.error.innererror.code, 'ForbiddenByPolicy');
    assert.strictEqual(r.json.error.message, "The user, group or application 'appid=" + lab.env.LAB_CLIENT_ID + ';oid=' + lab.env.LAB_PRINCIPAL_ID +
      ';iss=https://sts.windows.net/' + lab.env.LAB_TENANT_ID + "/' does not have keys encrypt permission on key vault 'fluxwi-lab-kv;location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287");
    const ct = (await H.kv(lab, 'POST', keyPath(lab) + '/encrypt', sp, { alg: 'RSA-OAEP-256', value: 'AQID' })).json.value;
    const dec = await H.kv(lab, 'POST', keyPath(lab) + '/decrypt', mi, { alg: 'RSA-OAEP-256', value: ct });
    assert.strictEqual(dec.json.value, 'AQID');
    assert.strictEqual((await H.kv(lab, 'POST', keyPath(lab) + '/wrapkey', mi, { alg: 'RSA-OAEP-256', value: 'AQID' })).status, 403);
  });

  await t.test('disabled key: decrypt refused (KeyDisabled), encrypt allowed; key_ops enforced', async () => {
    const ct = (await H.kv(lab, 'POST', keyPath(lab) + '/encrypt', sp, { alg: 'RSA-OAEP-256', value: 'AQID' })).json.value;
    await lab.verb('key', 'disable', lab.env.LAB_KEY_NAME);
    const d = await H.kv(lab, 'POST', keyPath(lab) + '/decrypt', sp, { alg: 'RSA-OAEP-256', value: ct });
    assert.strictEqual(d.status, 403);
    assert.deepStrictEqual(d.json.error, { code: 'Forbidden', message: 'Operation decrypt is not allowed on a disabled key.', innererror: { code: 'KeyDisabled' } });
    assert.strictEqual((await H.kv(lab, 'POST', keyPath(lab) + '/encrypt', sp, { alg: 'RSA-OAEP-256', value: 'AQID' })).status, 200);
    assert.strictEqual((await H.kv(lab, 'GET', keyPath(lab), sp)).json.attributes.enabled, false);
    await lab.verb('key', 'enable', lab.env.LAB_KEY_NAME);
    await lab.verb('key', 'ops', lab.env.LAB_KEY_NAME, '', 'encrypt,wrapKey');
    const o = await H.kv(lab, 'POST', keyPath(lab) + '/decrypt', sp, { alg: 'RSA-OAEP-256', value: ct });
    assert.strictEqual(o.json.error.innererror.code, 'KeyOperationForbidden');
    assert.strictEqual(o.json.error.message, 'Operation decrypt is not permitted on this key.');
    await lab.verb('key', 'ops', lab.env.LAB_KEY_NAME, '', 'encrypt,decrypt,wrapKey,unwrapKey,sign,verify');
  });

  await t.test('fault: N times 429 with Retry-After, then normal answers', async () => {
    await lab.verb('fault', '429', '2', 'op=get', 'retryAfter=3');
    for (let i = 0; i < 2; i++) {
      const r = await H.kv(lab, 'GET', keyPath(lab), sp);
      assert.strictEqual(r.status, 429);
      assert.strictEqual(r.headers['retry-after'], '3');
      assert.strictEqual(r.json.error.code, 'Throttled');
    }
    assert.strictEqual((await H.kv(lab, 'GET', keyPath(lab), sp)).status, 200);
  });

  await t.test('fault: 5xx with a chosen status, only on the chosen operation', async () => {
    await lab.verb('fault', 'add', '5xx', 'count=1', 'op=decrypt', 'status=500');
    assert.strictEqual((await H.kv(lab, 'GET', keyPath(lab), sp)).status, 200);
    const r = await H.kv(lab, 'POST', keyPath(lab) + '/decrypt', sp, { alg: 'RSA-OAEP-256', value: 'AA' });
    assert.strictEqual(r.status, 500);
    assert.strictEqual(r.json.error.code, 'InternalServerError');
  });

  await t.test('fault: slow answer', async () => {
    await lab.verb('fault', 'slow', '1', 'delayMs=700');
    const t0 = Date.now();
    const r = await H.kv(lab, 'GET', keyPath(lab), sp);
    assert.strictEqual(r.status, 200);
    assert.ok(Date.now() - t0 >= 650, 'took ' + (Date.now() - t0));
  });

  await t.test('fault: dropped connection mid-answer and connection reset', async () => {
    await lab.verb('fault', 'drop', '1');
    await assert.rejects(H.kv(lab, 'GET', keyPath(lab), sp), (e) => /aborted|ECONNRESET|socket hang up|terminated/i.test(e.message + e.code));
    await lab.verb('fault', 'reset', '1');
    await assert.rejects(H.kv(lab, 'GET', keyPath(lab), sp), (e) => /ECONNRESET|socket hang up/i.test(e.message + e.code));
    assert.strictEqual((await H.kv(lab, 'GET', keyPath(lab), sp)).status, 200);
    assert.deepStrictEqual((await lab.verb('fault', 'list')).faults, []);
  });

  await t.test('the SDK retries through a 429 and a 503', async () => {
    await lab.resetCounters();
    await lab.verb('fault', '429', '1', 'op=get', 'retryAfter=1');
    await lab.verb('fault', '5xx', '1', 'op=decrypt', 'status=503');
    const r = lab.sdk('secret', 'keyvault');
    assert.strictEqual(r.ok, true, r.message);
    const c = await lab.counters();
    assert.strictEqual(c['keyvault.fault.429'], 1);
    assert.strictEqual(c['keyvault.fault.5xx'], 1);
  });

  await t.test('RBAC vault: ForbiddenByRbac naming the data action; roles and scopes', async () => {
    await lab.verb('rbac', 'on');
    const ct = (await H.kv(lab, 'POST', keyPath(lab) + '/encrypt', sp, { alg: 'RSA-OAEP-256', value: 'AQID' })).json;
    assert.strictEqual(ct.error.innererror.code, 'ForbiddenByRbac');
    assert.match(ct.error.message, /^Caller is not authorized to perform action on resource\.\r\n/);
    assert.match(ct.error.message, /Action: 'Microsoft\.KeyVault\/vaults\/keys\/encrypt\/action'\r\n/);
    assert.match(ct.error.message, /Assignment: \(not found\)\r\n/);
    assert.match(ct.error.message, /DecisionReason: 'DeniedWithNoValidRBAC'/);
    assert.ok(ct.error.message.includes('oid=' + lab.env.LAB_SP_OBJECT_ID));
    await lab.verb('rbac', 'assign', lab.env.LAB_SP_OBJECT_ID, 'Key', 'Vault', 'Crypto', 'Service', 'Encryption', 'User');
    assert.strictEqual((await H.kv(lab, 'POST', keyPath(lab) + '/wrapkey', sp, { alg: 'RSA-OAEP-256', value: 'AQID' })).status, 200);
    const enc = await H.kv(lab, 'POST', keyPath(lab) + '/encrypt', sp, { alg: 'RSA-OAEP-256', value: 'AQID' });
    assert.strictEqual(enc.status, 403, 'Crypto Service Encryption User has no encrypt');
    const keyScope = '/subscriptions/' + lab.env.LAB_SUBSCRIPTION_ID + '/resourceGroups/' + lab.env.LAB_RESOURCE_GROUP +
      '/providers/Microsoft.KeyVault/vaults/' + lab.env.LAB_VAULT_NAME + '/keys/' + lab.env.LAB_KEY_NAME;
    await lab.verb('rbac', 'assign', lab.env.LAB_SP_OBJECT_ID, 'role=Key Vault Crypto User', 'scope=' + keyScope);
    const ok = await H.kv(lab, 'POST', keyPath(lab) + '/encrypt', sp, { alg: 'RSA-OAEP-256', value: 'AQID' });
    assert.strictEqual(ok.status, 200);
    await lab.verb('key', 'create', 'other-key');
    assert.strictEqual((await H.kv(lab, 'POST', '/keys/other-key/encrypt', sp, { alg: 'RSA-OAEP-256', value: 'AQID' })).status, 403, 'key scope does not cover other keys');
    const armTok = H.devToken(lab, 'https://management.core.windows.net/');
    const vaultId = keyScope.replace(/\/keys\/.*$/, '');
    const list = await H.request(lab.env.FLUXWI_ARM_ENDPOINT + vaultId + "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=" + encodeURIComponent("principalId eq '" + lab.env.LAB_SP_OBJECT_ID + "'"),
      { ca: lab.ca, headers: { Authorization: 'Bearer ' + armTok } });
    assert.strictEqual(list.json.value.length, 2);
    assert.ok(list.json.value.some((a) => a.properties.roleDefinitionId.endsWith('/12338af0-0e69-4776-bea7-57ae8d297424')));
    const vault = await H.request(lab.env.FLUXWI_ARM_ENDPOINT + vaultId + '?api-version=2023-07-01', { ca: lab.ca, headers: { Authorization: 'Bearer ' + armTok } });
    assert.strictEqual(vault.json.properties.enableRbacAuthorization, true);
    await lab.verb('rbac', 'off');
  });

  await t.test('vault firewall and public access: ForbiddenByFirewall, ForbiddenByConnection', async () => {
    await lab.admin('POST', '/scenario', { azure: { vault: { networkAcls: { defaultAction: 'Deny', ipRules: ['10.1.2.3'] } } } });
    const fw = await H.kv(lab, 'GET', keyPath(lab), sp);
    assert.strictEqual(fw.status, 403);
    assert.strictEqual(fw.json.error.innererror.code, 'ForbiddenByFirewall');
    assert.match(fw.json.error.message, /^Client address is not authorized and caller is not a trusted service\.\r\nClient address: 127\.0\.0\.1\r\n/);
    assert.match(fw.headers['x-ms-keyvault-network-info'], /addr=127\.0\.0\.1;/);
    await lab.admin('POST', '/scenario', { azure: { vault: { networkAcls: { ipRules: ['127.0.0.1'] } } } });
    assert.strictEqual((await H.kv(lab, 'GET', keyPath(lab), sp)).status, 200);
    await lab.admin('POST', '/scenario', { azure: { vault: { publicNetworkAccess: 'Disabled' } } });
    const pc = await H.kv(lab, 'GET', keyPath(lab), sp);
    assert.strictEqual(pc.json.error.innererror.code, 'ForbiddenByConnection');
    await lab.admin('POST', '/scenario', { azure: { vault: { publicNetworkAccess: 'Enabled', networkAcls: { defaultAction: 'Allow', ipRules: [] } } } });
    assert.strictEqual((await H.kv(lab, 'GET', keyPath(lab), sp)).status, 200);
  });

  await t.test('request counters per operation', async () => {
    await lab.resetCounters();
    await H.kv(lab, 'GET', keyPath(lab), sp);
    await H.kv(lab, 'GET', keyPath(lab), sp);
    const ct = (await H.kv(lab, 'POST', keyPath(lab) + '/encrypt', sp, { alg: 'RSA-OAEP-256', value: 'AQID' })).json.value;
    await H.kv(lab, 'POST', keyPath(lab) + '/decrypt', sp, { alg: 'RSA-OAEP-256', value: ct });
    await H.kv(lab, 'POST', keyPath(lab) + '/decrypt', null, { alg: 'RSA-OAEP-256', value: ct });
    const c = await lab.counters();
    assert.strictEqual(c['keyvault.get'], 2);
    assert.strictEqual(c['keyvault.encrypt'], 1);
    assert.strictEqual(c['keyvault.decrypt'], 2);
    assert.strictEqual(c['keyvault.401'], 1);
    assert.strictEqual(c['keyvault.requests'], 5);
  });
});
