'use strict';
// The az stand-in and the ARM endpoint; scenario files and labctl verbs of the Azure half.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const H = require('./helpers/azure-lab');

test('az stand-in and ARM', async (t) => {
  const lab = await H.startLab(t);
  const uai = '/subscriptions/' + lab.env.LAB_SUBSCRIPTION_ID + '/resourceGroups/' + lab.env.LAB_RESOURCE_GROUP +
    '/providers/Microsoft.ManagedIdentity/userAssignedIdentities/' + lab.env.LAB_IDENTITY_NAME;
  const arm = (p, token, method = 'GET', body) => H.request(lab.env.FLUXWI_ARM_ENDPOINT + p, {
    method, ca: lab.ca, body: body && JSON.stringify(body),
    headers: Object.assign(token ? { Authorization: 'Bearer ' + token } : {}, body ? { 'Content-Type': 'application/json' } : {}),
  });

  await t.test('az account get-access-token prints the real CLI JSON', () => {
    const r = lab.az('account', 'get-access-token', '--resource', 'https://vault.azure.net', '-o', 'json');
    assert.strictEqual(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepStrictEqual(Object.keys(j).sort(), ['accessToken', 'expiresOn', 'expires_on', 'subscription', 'tenant', 'tokenType']);
    assert.match(j.expiresOn, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    assert.strictEqual(typeof j.expires_on, 'number');
    const d = new Date(j.expires_on * 1000);
    assert.strictEqual(j.expiresOn.slice(0, 19), new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19).replace('T', ' '));
    assert.strictEqual(j.tenant, lab.env.LAB_TENANT_ID);
    assert.strictEqual(j.subscription, lab.env.LAB_SUBSCRIPTION_ID);
    assert.strictEqual(j.tokenType, 'Bearer');
    const c = H.claims(j.accessToken);
    assert.strictEqual(c.aud, 'https://vault.azure.net');
    assert.strictEqual(c.oid, lab.env.LAB_DEVELOPER_OID);
    assert.strictEqual(c.appid, '04b07795-8ddb-461a-bbee-02f9e1bf7b46');
    const s = JSON.parse(lab.az('account', 'get-access-token', '--scope', 'https://vault.azure.net/.default').stdout);
    assert.strictEqual(H.claims(s.accessToken).aud, 'https://vault.azure.net');
    const def = JSON.parse(lab.az('account', 'get-access-token').stdout);
    assert.strictEqual(H.claims(def.accessToken).aud, 'https://management.core.windows.net/');
  });

  await t.test('az errors: other tenant, exclusive flags, unknown command, not logged in, login/logout', () => {
    const other = lab.az('account', 'get-access-token', '--tenant', '11111111-2222-3333-4444-555555555555');
    assert.strictEqual(other.status, 1);
    assert.match(other.stderr, /^ERROR: AADSTS90002: Tenant '11111111-2222-3333-4444-555555555555' not found/);
    const both = lab.az('account', 'get-access-token', '--resource', 'https://vault.azure.net', '--scope', 'x/.default');
    assert.strictEqual(both.status, 2);
    assert.match(both.stderr, /^ERROR: usage error/);
    assert.strictEqual(lab.az('frobnicate').status, 2);
    const cfg = fs.mkdtempSync(path.join(lab.dir, 'azcfg-'));
    const run = (...a) => lab.run(path.join(H.LAB, 'bin/az'), a, { AZURE_CONFIG_DIR: cfg });
    const out = run('account', 'get-access-token');
    assert.strictEqual(out.status, 1);
    assert.strictEqual(out.stderr, "ERROR: Please run 'az login' to setup account.\n");
    assert.strictEqual(run('login').status, 0);
    assert.strictEqual(run('account', 'get-access-token').status, 0);
    assert.strictEqual(run('logout').status, 0);
    assert.strictEqual(run('account', 'show').status, 1);
  });

  await t.test('az --query with dotted paths, -o tsv; az keyvault key show', () => {
    const q = (...a) => { const r = lab.az(...a); assert.strictEqual(r.status, 0, r.stderr); return r.stdout; };
    assert.strictEqual(q('identity', 'show', '-n', lab.env.LAB_IDENTITY_NAME, '-g', lab.env.LAB_RESOURCE_GROUP, '--query', 'clientId', '-o', 'tsv'), lab.env.LAB_CLIENT_ID + '\n');
    assert.strictEqual(q('identity', 'show', '-n', lab.env.LAB_IDENTITY_NAME, '-g', lab.env.LAB_RESOURCE_GROUP, '--query', 'principalId'), JSON.stringify(lab.env.LAB_PRINCIPAL_ID, null, 2) + '\n');
    assert.strictEqual(q('identity', 'show', '-n', lab.env.LAB_IDENTITY_NAME, '-g', lab.env.LAB_RESOURCE_GROUP, '--query', 'id', '-o', 'tsv'), lab.env.LAB_IDENTITY_ID + '\n');
    assert.strictEqual(q('account', 'show', '--query', 'tenantId', '-o', 'tsv'), lab.env.LAB_TENANT_ID + '\n');
    assert.strictEqual(q('account', 'show', '--query', 'user.name', '-o', 'tsv'), 'developer@fluxwilab.onmicrosoft.com\n');
    assert.strictEqual(q('keyvault', 'key', 'show', '--vault-name', lab.env.LAB_VAULT_NAME, '-n', lab.env.LAB_KEY_NAME, '--query', 'key.kid', '-o', 'tsv'), lab.env.LAB_KEY_URL + '\n');
    const full = JSON.parse(q('keyvault', 'key', 'show', '--vault-name', lab.env.LAB_VAULT_NAME, '-n', lab.env.LAB_KEY_NAME));
    assert.strictEqual(full.key.kty, 'RSA');
    assert.ok(full.key.keyOps.includes('decrypt'));
    assert.strictEqual(full.attributes.enabled, true);
    assert.strictEqual(lab.az('keyvault', 'key', 'show', '--vault-name', 'nope', '-n', 'x').status, 1);
    assert.strictEqual(lab.az('account', 'show', '--query', 'a b').status, 2);
  });

  await t.test('az account show', () => {
    const j = JSON.parse(lab.az('account', 'show', '-o', 'json').stdout);
    assert.strictEqual(j.id, lab.env.LAB_SUBSCRIPTION_ID);
    assert.strictEqual(j.tenantId, lab.env.LAB_TENANT_ID);
    assert.strictEqual(j.user.type, 'user');
    assert.strictEqual(j.isDefault, true);
  });

  await t.test('ARM: authentication and audience checks', async () => {
    const none = await arm(uai + '?api-version=2023-01-31');
    assert.strictEqual(none.status, 401);
    assert.strictEqual(none.json.error.code, 'AuthenticationFailed');
    const vault = await arm(uai + '?api-version=2023-01-31', H.devToken(lab));
    assert.strictEqual(vault.status, 401);
    assert.strictEqual(vault.json.error.code, 'InvalidAuthenticationTokenAudience');
    const tok = H.devToken(lab, 'https://management.core.windows.net/');
    const noVersion = await arm(uai, tok);
    assert.strictEqual(noVersion.status, 400);
    assert.strictEqual(noVersion.json.error.code, 'MissingApiVersionParameter');
  });

  await t.test('ARM: user-assigned identity and its federated credentials', async () => {
    const tok = H.devToken(lab, 'https://management.core.windows.net/');
    const r = await arm(uai + '?api-version=2023-01-31', tok);
    assert.strictEqual(r.status, 200, r.text);
    assert.deepStrictEqual(r.json.properties, { tenantId: lab.env.LAB_TENANT_ID, principalId: lab.env.LAB_PRINCIPAL_ID, clientId: lab.env.LAB_CLIENT_ID });
    assert.strictEqual(r.json.id, lab.env.LAB_IDENTITY_ID);
    const f = await arm(uai + '/federatedIdentityCredentials?api-version=2023-01-31', tok);
    assert.strictEqual(f.json.value.length, 1);
    assert.strictEqual(f.json.value[0].properties.subject, 'system:serviceaccount:flux-system:kustomize-controller');
    assert.strictEqual(f.json.value[0].properties.issuer, lab.env.LAB_K8S_ISSUER);
    assert.deepStrictEqual(f.json.value[0].properties.audiences, ['api://AzureADTokenExchange']);
    const missing = await arm(uai.replace(lab.env.LAB_IDENTITY_NAME, 'nope') + '?api-version=2023-01-31', tok);
    assert.strictEqual(missing.json.error.code, 'ResourceNotFound');
    const rg = await arm(uai.replace(lab.env.LAB_RESOURCE_GROUP, 'other-rg') + '?api-version=2023-01-31', tok);
    assert.strictEqual(rg.json.error.code, 'ResourceGroupNotFound');
    const list = await arm('/subscriptions/' + lab.env.LAB_SUBSCRIPTION_ID + '/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31', tok);
    assert.ok(list.json.value.some((i) => i.properties.clientId === lab.env.LAB_CLIENT_ID));
  });

  await t.test('az identity federated-credential create adds a credential Entra honours', async () => {
    const r = lab.az('identity', 'federated-credential', 'create', '--name', 'other-sa', '--identity-name', lab.env.LAB_IDENTITY_NAME,
      '--resource-group', lab.env.LAB_RESOURCE_GROUP, '--issuer', lab.env.LAB_K8S_ISSUER,
      '--subject', 'system:serviceaccount:default:default', '--audience', 'api://AzureADTokenExchange');
    assert.strictEqual(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.strictEqual(j.name, 'other-sa');
    assert.strictEqual(j.subject, 'system:serviceaccount:default:default');
    assert.strictEqual(j.resourceGroup, lab.env.LAB_RESOURCE_GROUP);
    const fics = await lab.verb('fic', 'list', lab.env.LAB_IDENTITY_NAME);
    assert.ok(fics.some((f) => f.name === 'other-sa' && f.issuer === lab.env.LAB_K8S_ISSUER));
    const listed = JSON.parse(lab.az('identity', 'federated-credential', 'list', '--identity-name', lab.env.LAB_IDENTITY_NAME, '-g', lab.env.LAB_RESOURCE_GROUP).stdout);
    assert.strictEqual(listed.length, 2);
    const show = JSON.parse(lab.az('identity', 'show', '-n', lab.env.LAB_IDENTITY_NAME, '-g', lab.env.LAB_RESOURCE_GROUP).stdout);
    assert.strictEqual(show.clientId, lab.env.LAB_CLIENT_ID);
  });

  await t.test('ARM: the vault with its access policies', async () => {
    const tok = H.devToken(lab, 'https://management.core.windows.net/');
    const r = await arm('/subscriptions/' + lab.env.LAB_SUBSCRIPTION_ID + '/resourceGroups/' + lab.env.LAB_RESOURCE_GROUP +
      '/providers/Microsoft.KeyVault/vaults/' + lab.env.LAB_VAULT_NAME + '?api-version=2023-07-01', tok);
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.json.properties.enableRbacAuthorization, false);
    const p = r.json.properties.accessPolicies.find((x) => x.objectId === lab.env.LAB_PRINCIPAL_ID);
    assert.deepStrictEqual(p.permissions.keys.sort(), ['decrypt', 'get']);
  });

  await t.test('ARM: the AKS cluster with its OIDC issuer and workload identity', async () => {
    const tok = H.devToken(lab, 'https://management.core.windows.net/');
    const p = '/subscriptions/' + lab.env.LAB_SUBSCRIPTION_ID + '/resourceGroups/' + lab.env.LAB_RESOURCE_GROUP +
      '/providers/Microsoft.ContainerService/managedClusters/' + lab.env.LAB_CLUSTER_NAME + '?api-version=2024-05-01';
    const r = await arm(p, tok);
    assert.strictEqual(r.status, 200, r.text);
    assert.deepStrictEqual(r.json.properties.oidcIssuerProfile, { enabled: true, issuerURL: lab.env.LAB_K8S_ISSUER });
    assert.strictEqual(r.json.properties.securityProfile.workloadIdentity.enabled, true);
    await lab.admin('POST', '/scenario', { azure: { cluster: { oidcIssuerEnabled: false } } });
    assert.deepStrictEqual((await arm(p, tok)).json.properties.oidcIssuerProfile, { enabled: false });
  });

  await t.test('v1 token endpoint with resource=', async () => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: lab.env.LAB_SP_CLIENT_ID, client_secret: lab.env.LAB_SP_CLIENT_SECRET, resource: 'https://vault.azure.net' }).toString();
    const r = await H.request(lab.env.AZURE_AUTHORITY_HOST + lab.env.LAB_TENANT_ID + '/oauth2/token', { method: 'POST', body, ca: lab.ca, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.strictEqual(r.status, 200, r.text);
    assert.strictEqual(H.claims(r.json.access_token).aud, 'https://vault.azure.net');
  });

  await t.test('scenario (azure section) and labctl verbs', async () => {
    const scenario = {
      azure: {
        identities: [{ name: 'team-a', federatedCredentials: [{ name: 'team-a', issuer: '{{issuer}}', subject: 'system:serviceaccount:team-a:sops' }] }],
        accessPolicies: [{ identity: 'team-a', keys: ['get', 'decrypt'] }],
        faults: [{ kind: '429', count: 1, op: 'get' }],
      },
    };
    const res = await lab.admin('POST', '/scenario', scenario);
    assert.strictEqual(res.azure, 'applied');
    const s = await lab.verb('azure');
    const a = s.identities.find((i) => i.name === 'team-a');
    assert.strictEqual(a.federatedCredentials[0].issuer, lab.env.LAB_K8S_ISSUER);
    assert.deepStrictEqual(s.policies[a.principalId], ['get', 'decrypt']);
    assert.strictEqual(s.faults.length, 1);
    const c = lab.run(path.join(H.LAB, 'labctl'), [lab.dir, 'fault', 'clear']);
    assert.strictEqual(c.status, 0, c.stderr);
    assert.strictEqual(JSON.parse(c.stdout).cleared, 1);
    const bad = lab.run(path.join(H.LAB, 'labctl'), [lab.dir, 'fault', 'add', 'explode']);
    assert.notStrictEqual(bad.status, 0);
  });
});
