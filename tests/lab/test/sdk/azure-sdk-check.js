'use strict';
// Run with NODE_EXTRA_CA_CERTS=DIR/ca.crt and the lab env: exercises the official Azure SDK
// clients against the lab and prints one JSON line with the results.
//   node azure-sdk-check.js CREDENTIAL_KIND [ACTION]
//   node azure-sdk-check.js '[{"kind":"secret","action":"token","env":{"NAME":"value"}}, …]'
//     (several checks in one process; prints one JSON array)
// CREDENTIAL_KIND: secret | certificate | workload | appservice | imds
// ACTION: token (default) | keyvault
const identity = require('@azure/identity');

function credential(kind) {
  const env = process.env;
  const authorityHost = env.AZURE_AUTHORITY_HOST;
  const common = { authorityHost, disableInstanceDiscovery: env.LAB_INSTANCE_DISCOVERY !== '1' };
  switch (kind) {
    case 'secret':
      return new identity.ClientSecretCredential(env.LAB_TENANT_ID, env.LAB_SP_CLIENT_ID, env.LAB_SP_CLIENT_SECRET, common);
    case 'certificate':
      return new identity.ClientCertificateCredential(env.LAB_TENANT_ID, env.LAB_SP_CLIENT_ID, { certificatePath: env.LAB_SP_CERT_PATH }, common);
    case 'workload':
      return new identity.WorkloadIdentityCredential(Object.assign({
        tenantId: env.LAB_TENANT_ID, clientId: env.WI_CLIENT_ID || env.LAB_CLIENT_ID, tokenFilePath: env.WI_TOKEN_FILE,
      }, common));
    case 'appservice':
      process.env.IDENTITY_ENDPOINT = env.LAB_IDENTITY_ENDPOINT;
      process.env.IDENTITY_HEADER = env.LAB_IDENTITY_HEADER;
      return new identity.ManagedIdentityCredential({ clientId: env.MI_CLIENT_ID || env.LAB_CLIENT_ID });
    case 'imds':
      process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = new URL(env.LAB_IMDS_ENDPOINT).origin;
      return new identity.ManagedIdentityCredential(env.MI_CLIENT_ID ? { clientId: env.MI_CLIENT_ID } : {});
    default:
      throw new Error('unknown credential kind ' + kind);
  }
}

function claims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

async function check(kind, action) {
  const cred = credential(kind);
  if (action === 'token') {
    const t = await cred.getToken(process.env.LAB_SCOPE || 'https://vault.azure.net/.default');
    const c = claims(t.token);
    return { ok: true, aud: c.aud, oid: c.oid, tid: c.tid, appid: c.appid, expiresOnTimestamp: t.expiresOnTimestamp };
  }
  if (action === 'keyvault') {
    const { KeyClient, CryptographyClient } = require('@azure/keyvault-keys');
    const opts = { disableChallengeResourceVerification: true, retryOptions: { maxRetries: Number(process.env.LAB_MAX_RETRIES || 3), retryDelayInMs: 100, maxRetryDelayInMs: 2000 } };
    const kc = new KeyClient(process.env.LAB_VAULT_URL, cred, opts);
    const key = await kc.getKey(process.env.LAB_KEY_NAME);
    const cc = new CryptographyClient(key.id, cred, opts);
    const plain = Buffer.from(process.env.LAB_PLAINTEXT || 'lab secret value');
    const enc = await cc.encrypt({ algorithm: 'RSA-OAEP-256', plaintext: plain });
    const dec = await cc.decrypt({ algorithm: 'RSA-OAEP-256', ciphertext: enc.result });
    return {
      ok: true, keyId: key.id, kty: key.keyType, n: key.key.n.length, enabled: key.properties.enabled,
      ciphertextLength: enc.result.length, roundTrip: Buffer.from(dec.result).equals(plain),
    };
  }
  throw new Error('unknown action ' + action);
}

function failure(e) {
  return { ok: false, name: e.name, code: e.code, statusCode: e.statusCode, message: String(e.message) };
}

// Run one check with temporary environment overrides.
async function withEnv(env, fn) {
  const saved = {};
  for (const k of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'AZURE_POD_IDENTITY_AUTHORITY_HOST', ...Object.keys(env || {})]) saved[k] = process.env[k];
  Object.assign(process.env, env || {});
  try {
    return await fn();
  } catch (e) {
    return failure(e);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] && args[0].startsWith('[')) {
    const out = [];
    for (const c of JSON.parse(args[0])) out.push(await withEnv(c.env, () => check(c.kind, c.action || 'token')));
    return out;
  }
  return check(args[0], args[1] || 'token');
}

main().then((r) => process.stdout.write(JSON.stringify(r) + '\n'), (e) => {
  process.stdout.write(JSON.stringify(failure(e)) + '\n');
  process.exitCode = 1;
});
