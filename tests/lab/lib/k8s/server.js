'use strict';
// The API server's HTTP front: authentication, authorization, URL parsing,
// discovery, and dispatch to api.js; answers are JSON or Tables.
const E = require('./errors');
const R = require('./resources');
const { sendJson, sendText, describe } = require('../http');
const { discover } = require('./discovery');
const { openapi } = require('./openapi');
const { authorize } = require('./rbac');
const { toTable, wantsTable } = require('./table');
const { serveWatch } = require('./watch');
const reviews = require('./reviews');
const { serveScale } = require('./scale');
const protobuf = require('./protobuf');
const YAML = require('yaml');

// Parses /api/v1/... and /apis/G/V/... into {res, namespace, name, subresource}.
function parseResourcePath(path) {
  let m = path.match(/^\/api\/v1\/(.+?)\/?$/);
  let group = '';
  let version = 'v1';
  if (!m) {
    m = path.match(/^\/apis\/([^/]+)\/([^/]+)\/(.+?)\/?$/);
    if (!m) return null;
    [, group, version] = m;
    m = [null, m[3]];
  }
  const parts = m[1].split('/').map(decodeURIComponent);
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length >= 3 && R.byPath(group, version, parts[2])) {
    namespace = parts[1];
    parts.splice(0, 2);
  }
  const res = R.byPath(group, version, parts[0]);
  if (!res || parts.length > 3) return { res: null };
  if (!res.namespaced && namespace) return { res: null };
  return { res, namespace, name: parts[1] || '', subresource: parts[2] || '' };
}

function rbacVerb(method, name, query) {
  const watch = ['true', '1'].includes(query.get('watch'));
  switch (method) {
    case 'GET': case 'HEAD': return name ? (watch ? 'watch' : 'get') : (watch ? 'watch' : 'list');
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return name ? 'delete' : 'deletecollection';
    default: return null;
  }
}

function fieldManagerOf(req) {
  const explicit = req.query.get('fieldManager');
  if (explicit) return { fieldManager: explicit, explicitManager: true };
  const agent = (req.headers['user-agent'] || 'unknown').split('/')[0];
  return { fieldManager: agent, explicitManager: false };
}

function writeOptions(req) {
  const dryRun = req.query.getAll('dryRun');
  if (dryRun.some((d) => d !== 'All')) throw E.badRequest(`Invalid dry run value: ${dryRun.join(',')}`);
  const force = req.query.get('force');
  return { ...fieldManagerOf(req), dryRun: dryRun.includes('All'), force: force === null ? undefined : force === 'true' };
}

function contentType(req) {
  return String(req.headers['content-type'] || 'application/json').split(';')[0].trim().toLowerCase();
}

function parseBody(req) {
  const type = contentType(req);
  if (type === 'application/vnd.kubernetes.protobuf') {
    try { return protobuf.decode(req.body); } catch (e) {
      throw E.unsupportedMediaType(type, ['application/json', 'application/yaml']);
    }
  }
  if (type === 'application/yaml') {
    try { return YAML.parse(req.text()); } catch (e) { throw E.badRequest(`error decoding YAML: ${e.message}`); }
  }
  if (type !== 'application/json' && type !== '*/*') {
    throw E.unsupportedMediaType(type, ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
  }
  try { return JSON.parse(req.text() || 'null'); } catch (e) { throw E.badRequest(`Object 'Kind' is missing in '${req.text().slice(0, 100)}'`); }
}

// Impersonate-User / Impersonate-Group headers (kubectl --as / --as-group).
function impersonateFn(store) {
  return (user, headers) => {
    const as = headers['impersonate-user'];
    if (!as) return user;
    const check = (resource, name) => {
      const attrs = { verb: 'impersonate', group: '', resource, subresource: '', namespace: '', name };
      if (!authorize(store, user, attrs)) throw E.forbidden(user.name, attrs);
    };
    check('users', as);
    const groups = [].concat(headers['impersonate-group'] || []).flatMap((g) => g.split(',').map((x) => x.trim())).filter(Boolean);
    for (const g of groups) check('groups', g);
    const sa = as.match(/^system:serviceaccount:([^:]+):([^:]+)$/);
    const implied = sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : [];
    return { name: as, groups: [...new Set([...groups, ...implied, 'system:authenticated'])] };
  };
}

function createFrontend(k8s) {
  const impersonate = impersonateFn(k8s.store);
  const { api, store, counters, authenticate } = k8s;

  function answer(req, status, obj, res) {
    const asTable = res && wantsTable(req.headers.accept) && (obj.items || obj.metadata?.name);
    if (asTable) {
      const includeObject = req.query.get('includeObject') || 'Metadata';
      const list = obj.items ? obj.items : [obj];
      sendJson(req.res, status, toTable(res, list, obj.items ? obj.metadata : { resourceVersion: obj.metadata.resourceVersion }, includeObject));
      return;
    }
    sendJson(req.res, status, obj);
  }

  function asList(res, result) {
    return { kind: `${res.kind}List`, apiVersion: res.apiVersion, metadata: result.metadata, items: result.items.map((o) => stripForList(res, o)) };
  }

  function stripForList(res, o) {
    if (!res.builtin) return o;
    const { apiVersion, kind, ...rest } = o;
    return rest;
  }

  function nonResource(req, user) {
    const wellKnown = { '/.well-known/openid-configuration': () => k8s.oidcDiscovery(), '/openid/v1/jwks': () => k8s.issuer.jwks() };
    const probes = ['/healthz', '/livez', '/readyz'];
    const doc = wellKnown[req.path] ? wellKnown[req.path] : null;
    const disc = doc ? null : (discover(req.path, k8s.hostport) ?? openapi(req.path));
    if (!doc && disc === undefined && !probes.includes(req.path)) throw E.notFoundPath();
    if (!authorize(store, user, { verb: 'get', path: req.path })) throw E.forbidden(user.name, { verb: 'get', path: req.path });
    counters.inc(doc ? 'k8s.oidc' : 'k8s.discovery');
    if (probes.includes(req.path)) { sendText(req.res, 200, 'ok'); return; }
    if (!doc && disc === null) throw E.notFoundPath();
    sendJson(req.res, 200, doc ? doc() : disc);
  }

  async function virtualCreate(req, user, p) {
    const body = parseBody(req) || {};
    if (p.res.plural === 'serviceaccounts' && p.subresource === 'token') {
      return reviews.tokenRequest(k8s, p.namespace, p.name, body);
    }
    if (p.res.plural === 'selfsubjectaccessreviews') return reviews.selfSubjectAccessReview(store, user, body);
    if (p.res.plural === 'selfsubjectreviews') return reviews.selfSubjectReview(user);
    return null;
  }

  async function mutate(req, p, verb, opts) {
    const { res, namespace, name, subresource } = p;
    switch (verb) {
      case 'create': return [201, await api.create(res, namespace, parseBody(req), opts)];
      case 'update': return [200, await api.update(res, namespace, name, parseBody(req), { ...opts, subresource })];
      case 'patch': {
        const r = await api.patch(res, namespace, name, contentType(req), req.text(), { ...opts, subresource });
        return [r.created ? 201 : 200, r.object];
      }
      case 'delete': {
        const body = req.body.length ? JSON.parse(req.text()) : {};
        return [200, api.remove(res, namespace, name, { ...opts, propagationPolicy: body.propagationPolicy || req.query.get('propagationPolicy'), preconditionRV: body.preconditions?.resourceVersion })];
      }
      default: return null;
    }
  }

  function checkSubresource(p, verb) {
    if (!p.subresource) return;
    if (!p.res.subresources.includes(p.subresource) || !p.name) throw E.notFoundPath();
    if (p.subresource === 'token' && verb !== 'create') throw E.methodNotAllowed();
    if (p.subresource === 'log' && verb !== 'get') throw E.methodNotAllowed();
    if (p.subresource !== 'token' && !['get', 'update', 'patch'].includes(verb)) throw E.methodNotAllowed();
  }

  async function resource(req, user, p) {
    const verb = rbacVerb(req.method, p.name, req.query);
    if (!verb || !p.res.verbs.includes(verb === 'watch' ? 'watch' : verb)) throw E.methodNotAllowed();
    checkSubresource(p, verb);
    const attrs = { verb, group: p.res.group, resource: p.res.plural, subresource: p.subresource, namespace: p.namespace, name: p.name };
    if (!authorize(store, user, attrs)) throw E.forbidden(user.name, attrs);
    if (p.res.deprecated) req.res.setHeader('Warning', `299 - "${p.res.deprecated}"`);
    const dry = req.query.getAll('dryRun').includes('All') ? 'dryrun.' : '';
    counters.inc(`k8s.${dry}${verb}.${p.res.plural}${p.subresource ? '/' + p.subresource : ''}`);
    const virtual = verb === 'create' ? await virtualCreate(req, user, p) : null;
    if (virtual) { sendJson(req.res, 201, virtual); return; }
    const q = Object.fromEntries(['labelSelector', 'fieldSelector', 'limit', 'continue'].map((k) => [k, req.query.get(k)]));
    if (verb === 'watch') {
      if (p.name) req.query.set('fieldSelector', `metadata.name=${p.name}`);
      serveWatch(k8s, p.res, p.namespace, req, wantsTable(req.headers.accept));
      return;
    }
    if (verb === 'list') { answer(req, 200, asList(p.res, api.list(p.res, p.namespace, q)), p.res); return; }
    if (p.subresource === 'scale') {
      const scale = await serveScale(api, p.res, p.namespace, p.name, { verb, type: contentType(req), text: req.text(), opts: { ...writeOptions(req), user } });
      sendJson(req.res, 200, scale);
      return;
    }
    if (verb === 'get' && p.subresource === 'log') { sendText(req.res, 200, k8s.podLogs.read(api.get(p.res, p.namespace, p.name), req.query)); return; }
    if (verb === 'get') { answer(req, 200, api.get(p.res, p.namespace, p.name), p.res); return; }
    if (verb === 'deletecollection') { sendJson(req.res, 200, deleteCollection(p, q, writeOptions(req))); return; }
    const [status, obj] = await mutate(req, p, verb, { ...writeOptions(req), user });
    answer(req, status, obj, null);
  }

  function deleteCollection(p, q, opts) {
    const { items, metadata } = api.list(p.res, p.namespace, q);
    const gone = items.map((o) => api.remove(p.res, o.metadata.namespace, o.metadata.name, opts));
    return asList(p.res, { metadata, items: gone });
  }

  return async function handle(rawReq, rawRes) {
    const started = Date.now();
    rawRes.on('finish', () => k8s.ctx.log(`apiserver ${rawReq.method} ${rawReq.url} ${rawRes.statusCode} ${Date.now() - started}ms`));
    const req = await describe(rawReq);
    req.res = rawRes;
    counters.inc('k8s.requests');
    try {
      const user = impersonate(authenticate(req), req.headers);
      const p = parseResourcePath(req.path);
      if (!p) { nonResource(req, user); return; }
      if (!p.res) throw E.notFoundPath();
      await resource(req, user, p);
    } catch (err) {
      if (!err.body || err.body.kind !== 'Status') throw err;
      counters.inc(`k8s.status.${err.status}`);
      sendJson(rawRes, err.status, err.body);
    }
  };
}

module.exports = { createFrontend, parseResourcePath };
