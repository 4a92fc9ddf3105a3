'use strict';
// Microsoft Entra ID stand-in: token endpoint (client secret, certificate assertion,
// federated assertion, refresh token for the az stand-in), discovery, JWKS, and
// access-token validation for the resource servers.
const crypto = require('node:crypto');
const https = require('node:https');
const { Router, HttpError, serveRouter } = require('../http');
const jwt = require('./jwt');
const M = require('./model');

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const KNOWN_RESOURCES = ['https://vault.azure.net', M.KEYVAULT_APP_ID, 'https://management.azure.com',
  'https://management.core.windows.net', 'https://graph.microsoft.com', 'https://storage.azure.com',
  'https://managedhsm.azure.net'];

function stamp() {
  return new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

// An Entra error answer: {error, error_description, error_codes, timestamp, trace_id, correlation_id, error_uri}
function aadError(ctx, status, error, code, text) {
  const trace = crypto.randomUUID();
  const corr = crypto.randomUUID();
  const ts = stamp();
  const body = {
    error,
    error_description: 'AADSTS' + code + ': ' + text + ' Trace ID: ' + trace + ' Correlation ID: ' + corr + ' Timestamp: ' + ts,
    error_codes: [code],
    timestamp: ts,
    trace_id: trace,
    correlation_id: corr,
    error_uri: ctx.urls.entra + '/error?code=' + code,
  };
  ctx.counters.inc('entra.token.error');
  ctx.counters.inc('entra.error.AADSTS' + code);
  return new HttpError(status, 'AADSTS' + code, body);
}

function resourceOf(ctx, scopeParam) {
  const scopes = String(scopeParam || '').split(/\s+/).filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
  if (scopes.length !== 1) {
    throw aadError(ctx, 400, 'invalid_scope', 70011, 'The provided request must include a \'scope\' input parameter.');
  }
  const scope = scopes[0];
  if (!scope.endsWith('/.default')) {
    throw aadError(ctx, 400, 'invalid_scope', 1002012, 'The provided value for scope ' + scope +
      ' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).');
  }
  const resource = scope.slice(0, -'/.default'.length);
  const base = resource.replace(/\/$/, '');
  if (!KNOWN_RESOURCES.includes(base) && !resource.startsWith('api://')) {
    throw aadError(ctx, 400, 'invalid_resource', 500011, 'The resource principal named ' + resource +
      ' was not found in the tenant named ' + ctx.state.azure.tenantDomain + '. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.');
  }
  return resource;
}

// Issue an RS256 access token. who: {oid, appid, appidacr, kind, mirid, upn, name}
function issueToken(ctx, who, resource, lifetime) {
  const st = ctx.state.azure;
  const t = M.now();
  const exp = t + (lifetime || (who.kind === 'mi' ? 86399 : 3599));
  const payload = {
    aud: resource,
    iss: 'https://sts.windows.net/' + st.tenantId + '/',
    iat: t, nbf: t, exp,
    aio: crypto.randomBytes(12).toString('base64url'),
    appid: who.appid,
    appidacr: who.appidacr || '0',
    idp: 'https://sts.windows.net/' + st.tenantId + '/',
    idtyp: who.kind === 'user' ? 'user' : 'app',
    oid: who.oid,
    rh: '0.lab.' + crypto.randomBytes(6).toString('base64url'),
    sub: who.oid,
    tid: st.tenantId,
    uti: crypto.randomBytes(16).toString('base64url'),
    ver: '1.0',
  };
  if (who.mirid) payload.xms_mirid = who.mirid;
  if (who.upn) { payload.upn = who.upn; payload.unique_name = who.upn; payload.name = who.name; }
  const header = { typ: 'JWT', alg: 'RS256', x5t: st.signing.kid, kid: st.signing.kid };
  const token = jwt.sign(header, payload, st.signing.privateKey);
  ctx.counters.inc('entra.token.issued');
  return { token, exp, expiresIn: exp - t, payload };
}

function tokenAnswer(issued) {
  return {
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    ext_expires_in: issued.expiresIn,
    access_token: issued.token,
  };
}

// Validate an access token for a resource server. Returns payload or {error:{code,message}}.
function checkAccessToken(ctx, token) {
  const st = ctx.state.azure;
  let d;
  try {
    d = jwt.decode(token);
  } catch (e) {
    return { fail: 'malformed', message: e.message };
  }
  if (d.header.alg !== 'RS256' || !jwt.verifySignature(d, st.signing.publicKey)) {
    return { fail: 'signature', payload: d.payload, message: 'signature validation failed' };
  }
  if (typeof d.payload.exp !== 'number' || d.payload.exp < M.now()) {
    return { fail: 'expired', payload: d.payload, message: 'token expired' };
  }
  return { payload: d.payload };
}

function whoForIdentity(st, id) {
  return { kind: 'mi', oid: id.principalId, appid: id.clientId, appidacr: '2', mirid: M.armId(st, id) };
}

function whoForApp(app, acr) {
  return { kind: 'app', oid: app.objectId, appid: app.appId, appidacr: acr };
}

// --- federated assertions -----------------------------------------------------------

function fetchJson(ctx, url) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: ctx.ca.certPem, timeout: 5000, headers: { Accept: 'application/json' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) { reject(new Error('HTTP ' + res.statusCode + ' from ' + url)); return; }
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch (e) { reject(e); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function issuerKeys(ctx, issuer) {
  const st = ctx.state.azure;
  const cached = st.issuerCache.get(issuer);
  if (cached && cached.at > Date.now() - 30000) return cached.keys;
  const base = issuer.endsWith('/') ? issuer.slice(0, -1) : issuer;
  const conf = await fetchJson(ctx, base + '/.well-known/openid-configuration');
  if (conf.issuer !== issuer) throw new Error('issuer in discovery document does not match');
  const jwks = await fetchJson(ctx, conf.jwks_uri);
  const keys = (jwks.keys || []).filter((k) => k.kty === 'RSA');
  st.issuerCache.set(issuer, { at: Date.now(), keys });
  ctx.counters.inc('entra.oidc.fetch');
  return keys;
}

function iso(t) {
  return new Date(t * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

async function federated(ctx, principal, who, d) {
  const p = d.payload;
  const aud = [].concat(p.aud || []);
  const fics = principal.federatedCredentials || [];
  const describeAssertion = 'Assertion Issuer: \'' + p.iss + '\'. Assertion Subject: \'' + p.sub + '\'. Assertion Audience: \'' + aud.join(',') + '\'.';
  if (fics.length === 0) {
    throw aadError(ctx, 400, 'invalid_client', 70021, 'No matching federated identity record found for presented assertion. ' +
      describeAssertion + ' https://learn.microsoft.com/entra/workload-id/workload-identity-federation');
  }
  const byIssuer = fics.filter((f) => f.issuer === p.iss);
  if (byIssuer.length === 0) {
    throw aadError(ctx, 400, 'invalid_client', 700211, 'No matching federated identity record found for presented assertion issuer \'' +
      p.iss + '\'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation');
  }
  let keys;
  try {
    keys = await issuerKeys(ctx, p.iss);
  } catch (e) {
    throw aadError(ctx, 400, 'invalid_request', 90061, 'Request to External OIDC endpoint failed.');
  }
  const key = keys.find((k) => k.kid === d.header.kid) || (keys.length === 1 && !d.header.kid ? keys[0] : null);
  const ok = key && d.header.alg === 'RS256' &&
    jwt.verifySignature(d, crypto.createPublicKey({ key: { kty: 'RSA', n: key.n, e: key.e }, format: 'jwk' }));
  if (!ok) {
    throw aadError(ctx, 401, 'invalid_client', 700027, 'Client assertion failed signature validation. [Reason - The key was not found., Key ID: \'' +
      (d.header.kid || '') + '\'] https://learn.microsoft.com/entra/workload-id/workload-identity-federation');
  }
  checkTimes(ctx, p);
  const bySubject = byIssuer.filter((f) => f.subject === p.sub);
  if (bySubject.length === 0) {
    const caseOnly = byIssuer.some((f) => String(f.subject).toLowerCase() === String(p.sub).toLowerCase());
    if (caseOnly) {
      throw aadError(ctx, 400, 'invalid_client', 7002138, 'No matching federated identity record found for presented assertion subject \'' +
        p.sub + '\'. The subject matches a federated identity credential only when compared case-insensitively; matching is case-sensitive. https://learn.microsoft.com/entra/workload-id/workload-identity-federation');
    }
    throw aadError(ctx, 400, 'invalid_client', 700213, 'No matching federated identity record found for presented assertion subject \'' +
      p.sub + '\'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation');
  }
  const match = bySubject.find((f) => f.audiences.some((a) => aud.includes(a)));
  if (!match) {
    throw aadError(ctx, 400, 'invalid_client', 700212, 'No matching federated identity record found for presented assertion audience \'' +
      aud.join(',') + '\'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation');
  }
  ctx.counters.inc('entra.token.federated');
  return who;
}

function checkTimes(ctx, p) {
  const t = M.now();
  const skew = 300;
  if (typeof p.exp !== 'number' || p.exp + skew < t || (typeof p.nbf === 'number' && p.nbf - skew > t)) {
    throw aadError(ctx, 400, 'invalid_client', 700024, 'Client assertion is not within its valid time range. Current time: ' +
      iso(t) + ', assertion valid from ' + iso(p.nbf || p.iat || 0) + ', expiry time of assertion ' + iso(p.exp || 0) +
      '. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .');
  }
}

// --- certificate assertions ---------------------------------------------------------

function certThumbprints(cert) {
  return {
    x5t: crypto.createHash('sha1').update(cert.raw).digest(),
    x5tS256: crypto.createHash('sha256').update(cert.raw).digest(),
  };
}

function certificateAssertion(ctx, app, d, tokenUrl) {
  const h = d.header;
  const given = h['x5t#S256'] ? Buffer.from(h['x5t#S256'], /[+/=]/.test(h['x5t#S256']) ? 'base64' : 'base64url')
    : h.x5t ? Buffer.from(h.x5t, 'base64url') : null;
  const cert = (app.certificates || []).find((c) => {
    const tp = certThumbprints(c);
    return given && (given.equals(tp.x5t) || given.equals(tp.x5tS256));
  });
  if (!cert) {
    throw aadError(ctx, 401, 'invalid_client', 700027, 'Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: \'' +
      (given ? given.toString('hex').toUpperCase() : '') + '\', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id \'' +
      app.appId + '\'. Review the documentation at https://learn.microsoft.com/graph/api/application-addkey .]');
  }
  if (!['RS256', 'PS256'].includes(h.alg) || !jwt.verifySignature(d, cert.publicKey)) {
    throw aadError(ctx, 401, 'invalid_client', 700027, 'Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: \'' +
      certThumbprints(cert).x5t.toString('hex').toUpperCase() + '\']');
  }
  const p = d.payload;
  if (p.iss !== app.appId || p.sub !== app.appId) {
    throw aadError(ctx, 401, 'invalid_client', 700023, 'Client assertion audience claim does not match Realm issuer or the issuer and subject are not the client id.');
  }
  const auds = [].concat(p.aud || []);
  const okAud = auds.some((a) => a === tokenUrl || a === tokenUrl.replace('/oauth2/v2.0/token', '/oauth2/token') ||
    a === ctx.urls.entra + '/' + ctx.state.azure.tenantId + '/v2.0');
  if (!okAud) {
    throw aadError(ctx, 401, 'invalid_client', 700016, 'Client assertion audience \'' + auds.join(',') + '\' does not match the token endpoint.');
  }
  checkTimes(ctx, p);
  return whoForApp(app, '2');
}

// --- the token endpoint ---------------------------------------------------------------

function notFoundClient(ctx, clientId) {
  return aadError(ctx, 400, 'unauthorized_client', 700016, 'Application with identifier \'' + clientId +
    '\' was not found in the directory \'' + ctx.state.azure.tenantDomain +
    '\'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.');
}

function checkTokenTenant(ctx, tenant) {
  const st = ctx.state.azure;
  if (tenant === st.tenantId || tenant === st.tenantDomain) return;
  throw aadError(ctx, 400, 'invalid_request', 90002, 'Tenant \'' + tenant +
    '\' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.');
}

function secretCredential(ctx, app, clientId, secret) {
  const ok = app && (app.secrets || []).some((s) => s.length === secret.length &&
    crypto.timingSafeEqual(Buffer.from(s), Buffer.from(secret)));
  if (!ok) {
    throw aadError(ctx, 401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app \'' + clientId + '\'.');
  }
  return whoForApp(app, '1');
}

// A client assertion: self-signed with a registered certificate, or federated (workload identity).
async function assertionCredential(ctx, f, tenant, clientId, identity, app) {
  if (f.get('client_assertion_type') !== ASSERTION_TYPE) {
    throw aadError(ctx, 400, 'invalid_request', 50027, 'Invalid client_assertion_type.');
  }
  let d;
  try {
    d = jwt.decode(f.get('client_assertion'));
  } catch (e) {
    throw aadError(ctx, 400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
  }
  const tokenUrl = ctx.urls.entra + '/' + tenant + '/oauth2/v2.0/token';
  const selfSigned = d.payload.iss === clientId && d.payload.sub === clientId;
  if (app && selfSigned && (app.certificates || []).length) return certificateAssertion(ctx, app, d, tokenUrl);
  const who = identity ? whoForIdentity(ctx.state.azure, identity) : whoForApp(app, '2');
  return federated(ctx, identity || app, who, d);
}

async function tokenEndpoint(ctx, req, tenant) {
  const st = ctx.state.azure;
  ctx.counters.inc('entra.token');
  const f = new URLSearchParams(req.text());
  checkTokenTenant(ctx, tenant);
  const grant = f.get('grant_type');
  if (grant === 'refresh_token') return refreshGrant(ctx, f);
  if (grant !== 'client_credentials') {
    throw aadError(ctx, 400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type \'' + grant + '\'.');
  }
  const clientId = f.get('client_id');
  if (!clientId) throw aadError(ctx, 400, 'invalid_request', 900144, 'The request body must contain the following parameter: \'client_id\'.');
  // v1 endpoint clients (ADAL) send resource= instead of scope=
  const resource = resourceOf(ctx, f.get('scope') || (f.get('resource') ? f.get('resource') + '/.default' : null));
  const identity = M.identityByClientId(st, clientId);
  const app = st.apps.get(clientId);
  if (!identity && !app) throw notFoundClient(ctx, clientId);
  let who;
  if (f.get('client_assertion')) who = await assertionCredential(ctx, f, tenant, clientId, identity, app);
  else if (f.get('client_secret') !== null) who = secretCredential(ctx, app, clientId, f.get('client_secret'));
  else throw aadError(ctx, 401, 'invalid_client', 7000218, 'The request body must contain the following parameter: \'client_assertion\' or \'client_secret\'.');
  return tokenAnswer(issueToken(ctx, who, resource));
}

function refreshGrant(ctx, f) {
  const st = ctx.state.azure;
  if (f.get('client_id') !== M.CLI_APP_ID) throw notFoundClient(ctx, f.get('client_id'));
  const rt = f.get('refresh_token') || '';
  const user = [...st.users.values()].find((u) => u.refreshToken && u.refreshToken.length === rt.length &&
    crypto.timingSafeEqual(Buffer.from(u.refreshToken), Buffer.from(rt)));
  if (!user) {
    throw aadError(ctx, 400, 'invalid_grant', 700082, 'The refresh token has expired due to inactivity. The token was issued on ' +
      iso(M.now() - 90 * 86400) + ' and was inactive for 90.00:00:00.');
  }
  const scope = String(f.get('scope') || '').split(/\s+/).find((s) => s.endsWith('/.default') || s.startsWith('https://'));
  const resource = resourceOf(ctx, scope && !scope.endsWith('/.default') ? scope + '/.default' : scope);
  const issued = issueToken(ctx, { kind: 'user', oid: user.oid, appid: M.CLI_APP_ID, upn: user.upn, name: user.name }, resource, 3599);
  const ans = tokenAnswer(issued);
  ans.scope = resource + '/user_impersonation';
  ans.refresh_token = user.refreshToken;
  return ans;
}

// --- discovery -----------------------------------------------------------------------------

function openidConfiguration(ctx, tenant, v2) {
  const base = ctx.urls.entra;
  const st = ctx.state.azure;
  const t = tenant === 'common' || tenant === 'organizations' ? '{tenantid}' : st.tenantId;
  const v = v2 ? '/v2.0' : '';
  return {
    token_endpoint: base + '/' + tenant + '/oauth2' + v + '/token',
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: base + '/' + tenant + '/discovery' + v + '/keys',
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: v2 ? base + '/' + t + '/v2.0' : 'https://sts.windows.net/' + t + '/',
    request_uri_parameter_supported: false,
    userinfo_endpoint: base + '/oidc/userinfo',
    authorization_endpoint: base + '/' + tenant + '/oauth2' + v + '/authorize',
    device_authorization_endpoint: base + '/' + tenant + '/oauth2' + v + '/devicecode',
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: base + '/' + tenant + '/oauth2' + v + '/logout',
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'tid', 'oid'],
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

function instanceDiscovery(ctx) {
  const host = new URL(ctx.urls.entra).host;
  return {
    tenant_discovery_endpoint: ctx.urls.entra + '/' + ctx.state.azure.tenantId + '/v2.0/.well-known/openid-configuration',
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}

function jwks(ctx) {
  const st = ctx.state.azure;
  const k = jwt.jwkOf(st.signing.publicKey, st.signing.kid);
  k.x5t = st.signing.kid;
  k.issuer = 'https://login.microsoftonline.com/' + st.tenantId + '/v2.0';
  return { keys: [k] };
}

function checkTenant(ctx, tenant) {
  const st = ctx.state.azure;
  if ([st.tenantId, st.tenantDomain, 'common', 'organizations'].includes(tenant)) return;
  throw aadError(ctx, 400, 'invalid_tenant', 90002, 'Tenant \'' + tenant + '\' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.');
}

async function start(ctx) {
  const r = new Router();
  const T = '([A-Za-z0-9.-]+)';
  r.route('POST', new RegExp('^/' + T + '/oauth2/v2\\.0/token$'), (req, m) => tokenEndpoint(ctx, req, m[1]));
  r.route('POST', new RegExp('^/' + T + '/oauth2/token$'), (req, m) => tokenEndpoint(ctx, req, m[1]));
  r.route('GET', new RegExp('^/' + T + '/v2\\.0/\\.well-known/openid-configuration$'), (req, m) => {
    checkTenant(ctx, m[1]);
    return openidConfiguration(ctx, m[1], true);
  });
  r.route('GET', new RegExp('^/' + T + '/\\.well-known/openid-configuration$'), (req, m) => {
    checkTenant(ctx, m[1]);
    return openidConfiguration(ctx, m[1], false);
  });
  r.route('GET', new RegExp('^/' + T + '/discovery(/v2\\.0)?/keys$'), () => jwks(ctx));
  r.route('GET', '^/common/discovery/instance$', () => instanceDiscovery(ctx));
  r.route('GET', '^/error$', (req) => ({ code: req.query.get('code') }));
  const srv = await serveRouter(ctx, 'entra', r, {
    before: (req) => { ctx.counters.inc('entra.requests'); void req; },
  });
  ctx.urls.entra = srv.url;
  return srv;
}

module.exports = { start, issueToken, checkAccessToken, whoForIdentity, whoForApp, aadError, tokenAnswer, resourceOf };
