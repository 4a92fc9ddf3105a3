'use strict';
// Azure Key Vault data plane (keys): get, encrypt, decrypt, wrapkey, unwrapkey, with the
// bearer challenge, access policies, disabled keys, key_ops, api-version checks and faults.
const crypto = require('node:crypto');
const { Router, HttpError, listen, describe, sendJson, sendError } = require('../http');
const M = require('./model');
const entra = require('./entra');
const rbac = require('./rbac');

const API_VERSIONS = ['2016-10-01', '7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-07-01', '2026-01-01-preview'];
const RESOURCE = 'https://vault.azure.net';
const OPS = { encrypt: 'encrypt', decrypt: 'decrypt', wrapkey: 'wrapKey', unwrapkey: 'unwrapKey' };
const PERM_TEXT = { get: 'get', encrypt: 'encrypt', decrypt: 'decrypt', wrapKey: 'wrap key', unwrapKey: 'unwrap key', list: 'list' };

function kvError(status, code, message, inner, headers) {
  const body = { error: { code, message } };
  if (inner) body.error.innererror = { code: inner };
  return new HttpError(status, message, body, headers);
}

function challenge(ctx) {
  return 'Bearer authorization="' + ctx.urls.entra + '/' + ctx.state.azure.tenantId + '", resource="' + RESOURCE + '"';
}

function unauthorized(ctx, message) {
  ctx.counters.inc('keyvault.401');
  return kvError(401, 'Unauthorized', message, null, { 'WWW-Authenticate': challenge(ctx) });
}

function authenticate(ctx, req) {
  const st = ctx.state.azure;
  const h = req.headers.authorization || '';
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  if (!m) throw unauthorized(ctx, 'AKV10000: Request is missing a Bearer or PoP token.');
  const r = entra.checkAccessToken(ctx, m[1]);
  if (r.fail === 'malformed') throw unauthorized(ctx, 'AKV10005: Invalid token: the token is malformed.');
  const issuer = 'https://sts.windows.net/' + st.tenantId + '/';
  if (r.payload && r.payload.iss !== issuer) {
    throw unauthorized(ctx, 'AKV10032: Invalid issuer. Expected one of ' + issuer + ', https://login.microsoftonline.com/' +
      st.tenantId + '/v2.0, found: ' + r.payload.iss + '.');
  }
  if (r.fail === 'signature') throw unauthorized(ctx, 'AKV10004: Token validation failed: signature is invalid.');
  if (r.fail === 'expired') throw unauthorized(ctx, 'AKV10013: Token validation failed: token has expired.');
  const aud = r.payload.aud;
  if (aud !== RESOURCE && aud !== M.KEYVAULT_APP_ID) {
    throw unauthorized(ctx, 'AKV10022: Invalid audience. Expected ' + RESOURCE + ', found: ' + aud + '.');
  }
  return r.payload;
}

// Network rules come before permissions: public access off, or a firewall without this address.
function checkNetwork(ctx, claims, req) {
  const st = ctx.state.azure;
  const net = st.network || {};
  const addr = ((req.raw && req.raw.socket.remoteAddress) || '127.0.0.1').replace(/^::ffff:/, '');
  const caller = 'Caller: appid=' + claims.appid + ';oid=' + claims.oid + ';iss=' + claims.iss + '\r\n';
  const vault = 'Vault: ' + st.vaultName + ';location=' + st.location + '\r\n';
  if (net.publicNetworkAccess === 'Disabled') {
    ctx.counters.inc('keyvault.403');
    throw kvError(403, 'Forbidden', 'Public network access is disabled and request is not from a trusted service nor via an approved private link.\r\n' + caller + vault, 'ForbiddenByConnection');
  }
  if (net.defaultAction === 'Deny' && !(net.ipRules || []).includes(addr)) {
    ctx.counters.inc('keyvault.403');
    throw kvError(403, 'Forbidden', 'Client address is not authorized and caller is not a trusted service.\r\nClient address: ' + addr + '\r\n' + caller + vault, 'ForbiddenByFirewall');
  }
}

function authorize(ctx, claims, perm, keyName, req) {
  const st = ctx.state.azure;
  if (req) checkNetwork(ctx, claims, req);
  if (st.rbac) {
    if (rbac.allowed(st, claims.oid, perm, keyName || '')) return;
    ctx.counters.inc('keyvault.403');
    throw kvError(403, 'Forbidden', rbac.refusal(st, claims, perm, keyName || ''), 'ForbiddenByRbac');
  }
  const perms = st.policies.get(claims.oid);
  if (perms && perms.has(perm)) return;
  ctx.counters.inc('keyvault.403');
  throw kvError(403, 'Forbidden', 'The user, group or application \'appid=' + claims.appid + ';oid=' + claims.oid +
    ';iss=' + claims.iss + '\' does not have keys ' + PERM_TEXT[perm] + ' permission on key vault \'' + st.vaultName +
    ';location=' + st.location + '\'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287',
  'ForbiddenByPolicy');
}

function checkApiVersion(req) {
  const v = req.query.get('api-version');
  if (!v) throw kvError(400, 'BadParameter', 'The request URI contains an invalid or missing api-version parameter.');
  if (!API_VERSIONS.includes(v)) {
    throw kvError(400, 'BadParameter', 'The specified version (' + v + ') is not recognized. Consider using the latest supported version (7.6).');
  }
}

function kid(ctx, name, version) {
  return ctx.urls.vault + '/keys/' + name + '/' + version;
}

function keyNotFound(name, version) {
  return kvError(404, 'KeyNotFound', 'A key with (name/id) ' + name + (version ? '/' + version : '') +
    ' was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182');
}

function keyBundle(ctx, name, v) {
  const jwk = v.publicKey.export({ format: 'jwk' });
  const attributes = { enabled: v.enabled, created: v.created, updated: v.updated, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 };
  if (v.nbf) attributes.nbf = v.nbf;
  if (v.exp) attributes.exp = v.exp;
  return { key: { kid: kid(ctx, name, v.version), kty: 'RSA', key_ops: v.keyOps, n: jwk.n, e: jwk.e }, attributes, tags: {} };
}

function b64uIn(s, what) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_\-+/]*={0,2}$/.test(s)) {
    throw kvError(400, 'BadParameter', 'Property \'' + what + '\' has an invalid value: not base64url.');
  }
  return Buffer.from(s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
}

function rsaParams(alg) {
  if (alg === 'RSA-OAEP-256') return { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', hashLen: 32 };
  if (alg === 'RSA-OAEP') return { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1', hashLen: 20 };
  if (alg === 'RSA1_5') return { pkcs1: true };
  throw kvError(400, 'BadParameter', 'Invalid value for algorithm \'' + alg + '\'. Supported values for RSA keys: RSA-OAEP, RSA-OAEP-256, RSA1_5.');
}

function pkcs1Unpad(em, k) {
  if (em.length !== k || em[0] !== 0 || em[1] !== 2) throw new Error('bad padding');
  const sep = em.indexOf(0, 2);
  if (sep < 10) throw new Error('bad padding');
  return em.subarray(sep + 1);
}

function rsaEncrypt(v, alg, data) {
  const p = rsaParams(alg);
  const k = v.size / 8;
  const max = p.pkcs1 ? k - 11 : k - 2 * p.hashLen - 2;
  if (data.length > max) throw kvError(400, 'BadParameter', 'Plaintext is too long for the key: ' + data.length + ' bytes, at most ' + max + '.');
  if (p.pkcs1) return crypto.publicEncrypt({ key: v.publicKey, padding: crypto.constants.RSA_PKCS1_PADDING }, data);
  return crypto.publicEncrypt({ key: v.publicKey, padding: p.padding, oaepHash: p.oaepHash }, data);
}

function rsaDecrypt(v, alg, data) {
  const p = rsaParams(alg);
  const k = v.size / 8;
  if (data.length !== k) throw kvError(400, 'BadParameter', 'The ciphertext length (' + data.length + ') does not match the key size (' + k + ').');
  try {
    if (p.pkcs1) {
      const em = crypto.privateDecrypt({ key: v.privateKey, padding: crypto.constants.RSA_NO_PADDING }, data);
      return pkcs1Unpad(em, k);
    }
    return crypto.privateDecrypt({ key: v.privateKey, padding: p.padding, oaepHash: p.oaepHash }, data);
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw kvError(400, 'BadParameter', 'Error occurred while decrypting the ciphertext: invalid ciphertext or algorithm.');
  }
}

function keyOperation(ctx, req, claims, name, version, opPath) {
  const st = ctx.state.azure;
  const op = OPS[opPath];
  authorize(ctx, claims, op, name, req);
  const v = M.findKeyVersion(st, name, version);
  if (!v) throw keyNotFound(name, version);
  const body = req.json();
  if (typeof body.alg !== 'string' || typeof body.value !== 'string') {
    throw kvError(400, 'BadParameter', 'The request body must contain \'alg\' and \'value\'.');
  }
  if (!v.keyOps.includes(op)) {
    throw kvError(403, 'Forbidden', 'Operation ' + op + ' is not permitted on this key.', 'KeyOperationForbidden');
  }
  const decrypting = op === 'decrypt' || op === 'unwrapKey';
  if (!v.enabled && decrypting) {
    throw kvError(403, 'Forbidden', 'Operation ' + op + ' is not allowed on a disabled key.', 'KeyDisabled');
  }
  const input = b64uIn(body.value, 'value');
  const out = decrypting ? rsaDecrypt(v, body.alg, input) : rsaEncrypt(v, body.alg, input);
  return { kid: kid(ctx, name, v.version), value: out.toString('base64url') };
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Apply an injected fault. Returns true when the request was answered/dropped here.
async function applyFault(ctx, req, res, op) {
  const f = M.takeFault(ctx.state.azure, 'keyvault', op);
  if (!f) return false;
  ctx.counters.inc('keyvault.fault.' + f.kind);
  if (f.kind === 'slow') {
    await sleep(f.delayMs);
    return false;
  }
  if (f.kind === '429') {
    sendJson(res, 429, { error: { code: 'Throttled', message: 'Request was not processed because too many requests were received. Reason: A1' } },
      { 'Retry-After': String(f.retryAfter), 'x-ms-request-id': crypto.randomUUID() });
    return true;
  }
  if (f.kind === '5xx') {
    const status = f.status >= 500 && f.status <= 599 ? f.status : 503;
    const code = status === 500 ? 'InternalServerError' : status === 502 ? 'BadGateway' : status === 504 ? 'GatewayTimeout' : 'ServiceUnavailable';
    sendJson(res, status, { error: { code, message: 'The service is temporarily unavailable. Please retry.' } }, { 'x-ms-request-id': crypto.randomUUID() });
    return true;
  }
  if (f.kind === 'drop') {
    // Answer headers and part of the body, then cut the connection.
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '512' });
    res.write('{"kid":"' + ctx.urls.vault + '/keys/');
    setTimeout(() => res.socket && res.socket.destroy(), 20);
    return true;
  }
  // reset: no answer at all
  // reset: no answer at all; the connection is closed under the client (RST when possible)
  const sock = req.raw.socket;
  const tcp = sock._parent || sock._handle && sock._handle._parentWrap;
  try {
    if (tcp && typeof tcp.resetAndDestroy === 'function') tcp.resetAndDestroy();
    else sock.destroy();
  } catch (e) {
    sock.destroy();
  }
  return true;
}

function opName(method, path) {
  const m = /^\/keys\/[^/]+(?:\/[^/]+)?\/(encrypt|decrypt|wrapkey|unwrapkey)$/i.exec(path);
  if (m) return m[1].toLowerCase();
  if (method === 'GET' && /^\/keys\/[^/]+(\/[^/]*)?$/.test(path)) return 'get';
  return 'other';
}

async function start(ctx) {
  const r = new Router();
  const N = '([0-9a-zA-Z-]+)';
  const V = '([0-9a-fA-F]{32})';
  r.route('GET', new RegExp('^/keys/' + N + '/?$'), (req, m) => getKey(ctx, req, m[1], ''));
  r.route('GET', new RegExp('^/keys/' + N + '/' + V + '$'), (req, m) => getKey(ctx, req, m[1], m[2]));
  r.route('POST', new RegExp('^/keys/' + N + '/(?:' + V + '/)?(encrypt|decrypt|wrapkey|unwrapkey)$', 'i'), (req, m) => {
    checkApiVersion(req);
    const claims = authenticate(ctx, req);
    return keyOperation(ctx, req, claims, m[1], m[2] || '', m[3].toLowerCase());
  });
  r.route('GET', '^/keys$', (req) => {
    checkApiVersion(req);
    const claims = authenticate(ctx, req);
    authorize(ctx, claims, 'list', '', req);
    const value = [...ctx.state.azure.keys.values()].map((k) => {
      const v = k.versions[k.versions.length - 1];
      return { kid: ctx.urls.vault + '/keys/' + k.name, attributes: { enabled: v.enabled, created: v.created, updated: v.updated } };
    });
    return { value, nextLink: null };
  });
  const srv = await listen(ctx, 'vault', {}, async (raw, res) => {
    const req = await describe(raw);
    const op = opName(req.method, req.path);
    ctx.counters.inc('keyvault.requests');
    ctx.counters.inc('keyvault.' + op);
    res.setHeader('x-ms-request-id', crypto.randomUUID());
    res.setHeader('x-ms-keyvault-region', ctx.state.azure.location);
    res.setHeader('x-ms-keyvault-service-version', '1.9.2236.1');
    res.setHeader('x-ms-keyvault-network-info', 'conn_type=Ipv4;addr=' +
      (raw.socket.remoteAddress || '127.0.0.1').replace(/^::ffff:/, '') + ';act_addr_fam=InterNetwork;');
    res.setHeader('Cache-Control', 'no-cache');
    if (await applyFault(ctx, req, res, op)) return;
    try {
      await r.dispatch(req, res);
    } catch (e) {
      if (e instanceof HttpError && e.status >= 400) ctx.counters.inc('keyvault.error.' + e.status);
      if (e instanceof HttpError && e.status === 404) ctx.log('keyvault: 404 for ' + req.method + ' ' + raw.url);
      sendError(res, e, ctx.log);
    }
  });
  ctx.urls.vault = srv.url;
  return srv;
}

function getKey(ctx, req, name, version) {
  checkApiVersion(req);
  const claims = authenticate(ctx, req);
  authorize(ctx, claims, 'get', name, req);
  const v = M.findKeyVersion(ctx.state.azure, name, version);
  if (!v) throw keyNotFound(name, version);
  return keyBundle(ctx, name, v);
}

module.exports = { start, API_VERSIONS, rsaEncrypt, rsaDecrypt, keyBundle };
