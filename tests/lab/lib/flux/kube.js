'use strict';
// A small Kubernetes client over HTTPS (bearer token), as the controller's own client:
// discovery-based resource mapping, get/list, server-side apply, patches, status, TokenRequest.
const https = require('node:https');

class KubeError extends Error {
  constructor(status, body, method, url) {
    super((body && body.message) || ('HTTP ' + status + ' for ' + method + ' ' + url));
    this.status = status;
    this.body = body;
    this.reason = body && body.reason;
  }
}

function createClient({ server, token, ca, userAgent = 'kustomize-controller/v1.6.1 (lab)' }) {
  const mapping = new Map();

  function request(method, path, { body, type, accept = 'application/json' } = {}) {
    const url = new URL(path, server);
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const headers = { Authorization: 'Bearer ' + token, Accept: accept, 'User-Agent': userAgent };
    if (data) { headers['Content-Type'] = type || 'application/json'; headers['Content-Length'] = data.length; }
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, ca, timeout: 15000 }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { json = { message: text }; }
          if (res.statusCode >= 400) reject(new KubeError(res.statusCode, json, method, url.pathname));
          else resolve(json);
        });
      });
      req.on('timeout', () => req.destroy(new Error('request to the API server timed out')));
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  async function resource(apiVersion, kind) {
    const key = apiVersion + '/' + kind;
    if (mapping.has(key)) return mapping.get(key);
    const base = apiVersion.includes('/') ? '/apis/' + apiVersion : '/api/' + apiVersion;
    let list;
    try {
      list = await request('GET', base);
    } catch (e) {
      if (e.status === 404) throw new Error('no matches for kind "' + kind + '" in version "' + apiVersion + '"');
      throw e;
    }
    const r = (list.resources || []).find((x) => x.kind === kind && !x.name.includes('/'));
    if (!r) {
      throw new Error('no matches for kind "' + kind + '" in version "' + apiVersion + '"');
    }
    const out = { base, plural: r.name, namespaced: r.namespaced };
    mapping.set(key, out);
    return out;
  }

  async function pathOf(apiVersion, kind, ns, name) {
    const r = await resource(apiVersion, kind);
    let p = r.base;
    if (r.namespaced) p += '/namespaces/' + encodeURIComponent(ns || 'default');
    p += '/' + r.plural;
    if (name !== undefined) p += '/' + encodeURIComponent(name);
    return p;
  }

  return {
    request,
    resource,
    pathOf,
    async get(apiVersion, kind, ns, name) {
      return request('GET', await pathOf(apiVersion, kind, ns, name));
    },
    async getOrNull(apiVersion, kind, ns, name) {
      try {
        return await request('GET', await pathOf(apiVersion, kind, ns, name));
      } catch (e) {
        if (e.status === 404) return null;
        throw e;
      }
    },
    async list(apiVersion, kind, ns, query = '') {
      return request('GET', (await pathOf(apiVersion, kind, ns)) + (query ? '?' + query : ''));
    },
    async apply(obj, { manager, force = true, dryRun = false }) {
      const p = await pathOf(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
      const q = 'fieldManager=' + encodeURIComponent(manager) + (force ? '&force=true' : '') + (dryRun ? '&dryRun=All' : '');
      return request('PATCH', p + '?' + q, { body: JSON.stringify(obj), type: 'application/apply-patch+yaml' });
    },
    async patch(apiVersion, kind, ns, name, type, body, { manager, subresource } = {}) {
      let p = await pathOf(apiVersion, kind, ns, name);
      if (subresource) p += '/' + subresource;
      if (manager) p += '?fieldManager=' + encodeURIComponent(manager);
      return request('PATCH', p, { body, type });
    },
    async remove(apiVersion, kind, ns, name) {
      return request('DELETE', await pathOf(apiVersion, kind, ns, name));
    },
    async tokenRequest(ns, sa, audiences, expirationSeconds = 3600) {
      const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences, expirationSeconds } };
      return request('POST', '/api/v1/namespaces/' + encodeURIComponent(ns) + '/serviceaccounts/' + encodeURIComponent(sa) + '/token', { body });
    },
  };
}

module.exports = { createClient, KubeError };
