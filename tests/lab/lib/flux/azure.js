'use strict';
// The controller's Azure side, written like the Go SDK the real kustomize-controller uses:
// credential selection from the pod environment (environment, then workload identity,
// then managed identity), token requests, and Key Vault decrypt with the bearer challenge.
// Errors carry the Go SDK's text shapes so Ready messages look like the real ones.
const https = require('node:https');
const http = require('node:http');

const LINE = '--------------------------------------------------------------------------------';
const KV_API = '7.5';
const STATUS_TEXT = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

function send(url, { method = 'GET', headers = {}, body, ca } = {}) {
  const u = new URL(url);
  const mod = u.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method, headers, ca, timeout: 20000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('context deadline exceeded')));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

function responseError(method, url, res, withCode) {
  const u = new URL(url);
  let s = method + ' ' + u.origin + u.pathname + '\n' + LINE + '\nRESPONSE ' + res.status + ': ' + res.status + ' ' + (STATUS_TEXT[res.status] || '') + '\n';
  if (withCode) {
    const code = res.json && res.json.error && res.json.error.code ? res.json.error.code : (res.json && res.json.error) || 'UNAVAILABLE';
    s += 'ERROR CODE: ' + code + '\n';
  }
  s += LINE + '\n' + (res.json ? JSON.stringify(res.json, null, 2) : res.text || '') + '\n' + LINE + '\n';
  return s;
}

function form(obj) {
  return new URLSearchParams(obj).toString();
}

async function entraToken(name, anchor, authority, tenant, params, scope, ca) {
  const url = authority.replace(/\/$/, '') + '/' + tenant + '/oauth2/v2.0/token';
  const body = form(Object.assign({ grant_type: 'client_credentials', scope }, params));
  let res;
  try {
    res = await send(url, { method: 'POST', ca, body, headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body), Accept: 'application/json' } });
  } catch (e) {
    throw new Error(name + ': ' + e.message);
  }
  if (res.status !== 200 || !res.json || !res.json.access_token) {
    throw new Error(name + ' authentication failed. \n' + responseError('POST', url, res, false) +
      'To troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#' + anchor);
  }
  return { token: res.json.access_token, expiresOn: Date.now() + Number(res.json.expires_in) * 1000 };
}

// env: the container's environment (name -> value); opts: {ca, imdsUrl, readTokenFile(), labAuthority}.
// As fluxcd/pkg: the first credential that can be built — environment secret, then workload
// identity (all four variables), then managed identity (always constructible, so it is the
// fallback a pod without the webhook's injection ends up with).
function fromEnvironment(env, opts) {
  const authority = env.AZURE_AUTHORITY_HOST || 'https://login.microsoftonline.com/';
  if (env.AZURE_TENANT_ID && env.AZURE_CLIENT_ID && env.AZURE_CLIENT_SECRET) {
    return clientSecret(env.AZURE_TENANT_ID, env.AZURE_CLIENT_ID, env.AZURE_CLIENT_SECRET, authority, opts);
  }
  if (env.AZURE_CLIENT_ID && env.AZURE_FEDERATED_TOKEN_FILE && env.AZURE_AUTHORITY_HOST && env.AZURE_TENANT_ID) {
    return workloadIdentity(env.AZURE_TENANT_ID, env.AZURE_CLIENT_ID, env.AZURE_AUTHORITY_HOST, opts.readTokenFile, opts);
  }
  return managedIdentity(env.AZURE_CLIENT_ID || '', opts);
}

function clientSecret(tenant, clientId, secret, authority, opts) {
  return {
    name: 'ClientSecretCredential',
    getToken: (scope) => entraToken('ClientSecretCredential', 'client-secret', authority, tenant, { client_id: clientId, client_secret: secret }, scope, opts.ca),
  };
}

function workloadIdentity(tenant, clientId, authority, readTokenFile, opts) {
  return {
    name: 'WorkloadIdentityCredential',
    async getToken(scope) {
      let assertion;
      try {
        assertion = await readTokenFile();
      } catch (e) {
        throw new Error('WorkloadIdentityCredential: ' + e.message);
      }
      return entraToken('WorkloadIdentityCredential', 'workload', authority, tenant, {
        client_id: clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion.trim(),
      }, scope, opts.ca);
    },
  };
}

function managedIdentity(clientId, opts) {
  return {
    name: 'ManagedIdentityCredential',
    async getToken(scope) {
      const resource = scope.replace(/\/\.default$/, '');
      const url = opts.imdsUrl + '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=' + encodeURIComponent(resource) +
        (clientId ? '&client_id=' + encodeURIComponent(clientId) : '');
      let res;
      try {
        res = await send(url, { headers: { Metadata: 'true' } });
      } catch (e) {
        throw new Error('ManagedIdentityCredential: managed identity timed out. See https://aka.ms/azsdk/go/identity/troubleshoot#dac for more information');
      }
      if (res.status !== 200 || !res.json || !res.json.access_token) {
        const why = res.status === 400 && /Identity not found/.test(res.text) ? ' the requested identity isn\'t assigned to this resource' : '';
        throw new Error('ManagedIdentityCredential authentication failed.' + why + '\n' + responseError('GET', url, res, false) +
          'To troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#managed-id');
      }
      return { token: res.json.access_token, expiresOn: Number(res.json.expires_on) * 1000 };
    },
  };
}

function parseChallenge(h) {
  const out = {};
  const re = /(\w+)="([^"]*)"/g;
  let m;
  while ((m = re.exec(h || ''))) out[m[1]] = m[2];
  return out;
}

// Key Vault decrypt (RSA-OAEP-256) as azkeys does it: unauthenticated probe, 401 challenge,
// token for the challenge's scope, the real request.
function keyVaultDecrypter(cred, opts) {
  const tokens = new Map();
  return async function decrypt({ vaultUrl, name, version, enc }) {
    const url = vaultUrl.replace(/\/$/, '') + '/keys/' + name + '/' + (version || '') + '/decrypt?api-version=' + KV_API;
    const cleanUrl = url.replace('//decrypt', '/decrypt');
    const body = JSON.stringify({ alg: 'RSA-OAEP-256', value: enc });
    let token = tokens.get(vaultUrl);
    if (!token) {
      const probe = await send(cleanUrl, { method: 'POST', ca: opts.ca, headers: { 'Content-Length': 0, Accept: 'application/json' } });
      if (probe.status !== 401) throw new Error(responseError('POST', cleanUrl, probe, true));
      const ch = parseChallenge(probe.headers['www-authenticate']);
      const scope = ch.scope || ((ch.resource || 'https://vault.azure.net') + '/.default');
      token = (await cred.getToken(scope)).token;
      tokens.set(vaultUrl, token);
    }
    const res = await send(cleanUrl, {
      method: 'POST', ca: opts.ca, body,
      headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Accept: 'application/json' },
    });
    if (res.status !== 200 || !res.json || typeof res.json.value !== 'string') {
      throw new Error(responseError('POST', cleanUrl, res, true));
    }
    return Buffer.from(res.json.value, 'base64url');
  };
}

// The sops.azure-kv Secret value (YAML/JSON) -> credential
function fromSecretValue(text, opts) {
  const YAML = require('yaml');
  let v;
  try {
    v = YAML.parse(String(text).replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new Error('failed to unmarshal sops.azure-kv: ' + e.message);
  }
  v = v || {};
  const authority = v.authorityHost || opts.labAuthority;
  if (v.tenantId && v.clientId && v.clientSecret) return clientSecret(v.tenantId, v.clientId, v.clientSecret, authority, opts);
  if (v.tenant && v.appId && v.password) return clientSecret(v.tenant, v.appId, v.password, authority, opts);
  if (v.clientId && !v.tenantId) return managedIdentity(v.clientId, opts);
  throw new Error('invalid data: requires a \'clientId\', or \'tenantId\', \'clientId\' and \'clientSecret\', or \'tenantId\', \'clientId\' and \'clientCertificate\'');
}

module.exports = { fromEnvironment, workloadIdentity, managedIdentity, clientSecret, keyVaultDecrypter, fromSecretValue, send, responseError };
