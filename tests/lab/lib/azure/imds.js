'use strict';
// Managed identity endpoints: IMDS shape (GET /metadata/identity/oauth2/token, Metadata: true)
// and the App Service shape (IDENTITY_ENDPOINT + X-IDENTITY-HEADER). Plain HTTP like the real ones.
const http = require('node:http');
const crypto = require('node:crypto');
const { sendJson } = require('../http');
const M = require('./model');
const entra = require('./entra');

function pick(st, names, q) {
  const ids = names.map((n) => st.identities.get(n)).filter(Boolean);
  const clientId = q.get('client_id') || q.get('clientid');
  const objectId = q.get('object_id') || q.get('principal_id');
  const resId = q.get('msi_res_id') || q.get('mi_res_id');
  if (clientId) return ids.find((i) => i.clientId === clientId) || null;
  if (objectId) return ids.find((i) => i.principalId === objectId) || null;
  if (resId) return ids.find((i) => M.armId(st, i).toLowerCase() === resId.toLowerCase()) || null;
  if (ids.length > 1) return 'multiple';
  return ids[0] || null;
}

function imdsToken(ctx, req, url, res) {
  const st = ctx.state.azure;
  const q = url.searchParams;
  ctx.counters.inc('imds.token');
  if (req.headers.metadata !== 'true') {
    return sendJson(res, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
  }
  if (req.headers['x-forwarded-for']) {
    return sendJson(res, 400, { error: 'invalid_request', error_description: 'Request with X-Forwarded-For header is not allowed' });
  }
  if (!q.get('api-version')) {
    return sendJson(res, 400, { error: 'invalid_request', error_description: 'Required query variable \'api-version\' is missing' });
  }
  return answer(ctx, st.hostIdentities.imds, q, res, false);
}

function answer(ctx, names, q, res, appService) {
  const st = ctx.state.azure;
  const resource = q.get('resource');
  if (!resource) {
    return sendJson(res, 400, { error: 'invalid_request', error_description: 'Required query variable \'resource\' is missing' });
  }
  const id = pick(st, names, q);
  if (id === 'multiple') {
    return sendJson(res, 400, { error: 'invalid_request', error_description: 'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request' });
  }
  if (!id) {
    ctx.counters.inc('imds.identity_not_found');
    if (appService) {
      return sendJson(res, 400, { statusCode: 400, message: 'No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.', correlationId: crypto.randomUUID() });
    }
    return sendJson(res, 400, { error: 'invalid_request', error_description: 'Identity not found' });
  }
  let issued;
  try {
    const r = entra.resourceOf(ctx, resource.replace(/\/\.default$/, '') + '/.default');
    issued = entra.issueToken(ctx, entra.whoForIdentity(st, id), r);
  } catch (e) {
    return sendJson(res, 400, { error: 'invalid_resource', error_description: e.body ? e.body.error_description : e.message });
  }
  const t = M.now();
  if (appService) {
    return sendJson(res, 200, {
      access_token: issued.token, expires_on: String(issued.exp), resource, token_type: 'Bearer', client_id: id.clientId,
    });
  }
  return sendJson(res, 200, {
    access_token: issued.token, client_id: id.clientId, expires_in: String(issued.expiresIn), expires_on: String(issued.exp),
    ext_expires_in: String(issued.expiresIn), not_before: String(t), resource, token_type: 'Bearer',
  });
}

function appServiceToken(ctx, req, url, res) {
  const st = ctx.state.azure;
  ctx.counters.inc('appservice.token');
  if (req.headers['x-identity-header'] !== st.identityHeader) {
    return sendJson(res, 401, { statusCode: 401, message: 'Unauthorized: the X-IDENTITY-HEADER is missing or wrong.' });
  }
  if (!url.searchParams.get('api-version')) {
    return sendJson(res, 400, { statusCode: 400, message: 'api-version is required.' });
  }
  return answer(ctx, st.hostIdentities.appService, url.searchParams, res, true);
}

function start(ctx) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    req.resume();
    try {
      if (req.method === 'GET' && /^\/metadata\/identity\/oauth2\/token\/?$/.test(url.pathname)) return imdsToken(ctx, req, url, res);
      if (req.method === 'GET' && url.pathname === '/msi/token') return appServiceToken(ctx, req, url, res);
      if (req.method === 'GET' && url.pathname === '/metadata/instance') {
        if (req.headers.metadata !== 'true') return sendJson(res, 400, { error: 'Bad request. Required metadata header not specified' });
        return sendJson(res, 200, { compute: { location: ctx.state.azure.location, subscriptionId: ctx.state.azure.subscriptionId } });
      }
      ctx.log('imds: no route for ' + req.method + ' ' + req.url);
      return sendJson(res, 404, { error: 'not_found', error_description: 'no such path' });
    } catch (e) {
      ctx.log('imds error: ' + (e.stack || e));
      return sendJson(res, 500, { error: 'server_error' });
    }
  });
  server.keepAliveTimeout = 65000; // longer than clients keep idle sockets
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const hostport = '127.0.0.1:' + server.address().port;
      ctx.servers.push(server);
      ctx.hosts.push(hostport);
      ctx.urls.imds = 'http://' + hostport;
      resolve(server);
    });
  });
}

module.exports = { start };
