'use strict';
// Object semantics on top of the store: create/update/patch/apply/delete with
// defaults, validation, admission, generation, resourceVersion checks and
// managedFields. Used by the HTTP handlers and by the lab's controllers.
const crypto = require('node:crypto');
const YAML = require('yaml');
const E = require('./errors');
const P = require('./patch');
const M = require('./managed');
const R = require('./resources');
const { applyDefaults, validate, GENERATION } = require('./defaults');
const S = require('./selectors');

const NS = R.byKey('/namespaces');
const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(n = 5) {
  return Array.from(crypto.randomBytes(n), (b) => SUFFIX_CHARS[b % SUFFIX_CHARS.length]).join('');
}

const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function withoutVolatile(o) {
  const c = structuredClone(o);
  delete c.metadata.resourceVersion;
  return c;
}

function specPart(o) {
  const { metadata, status, ...rest } = o;
  return rest;
}

function createApi({ store, admission = [], afterWrite = [] }) {
  // Objects are read in the version asked for (Flux's versions share storage).
  const asVersion = (res, obj) => (obj && obj.apiVersion !== res.apiVersion ? { ...obj, apiVersion: res.apiVersion } : obj);

  function mustGet(res, ns, name) {
    const obj = asVersion(res, store.get(res, res.namespaced ? ns : '', name));
    if (!obj) throw E.notFound(res, name);
    return obj;
  }

  function normalize(res, ns, body) {
    if (!P.isMap(body)) throw E.badRequest('the request body must be a JSON object');
    if (body.kind && body.kind !== res.kind) {
      throw E.badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${res.apiVersion})`);
    }
    const obj = { apiVersion: res.apiVersion, kind: res.kind, ...structuredClone(body) };
    obj.apiVersion = res.apiVersion;
    obj.metadata = P.isMap(obj.metadata) ? obj.metadata : {};
    if (res.namespaced) {
      if (obj.metadata.namespace && ns && obj.metadata.namespace !== ns) {
        throw E.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = ns || obj.metadata.namespace;
    } else delete obj.metadata.namespace;
    return obj;
  }

  async function admit(res, obj, op, opts, old) {
    for (const hook of admission) await hook(res, obj, op, { ...opts, old, api });
  }

  function finish(res, obj, old, opts) {
    if (opts.dryRun) return obj;
    const stored = store.put(res, obj);
    for (const hook of afterWrite) hook(res, stored, old, api);
    return stored;
  }

  function initMetadata(res, obj) {
    const m = obj.metadata;
    m.uid = crypto.randomUUID();
    m.creationTimestamp = nowIso();
    if (GENERATION.includes(res.plural)) m.generation = 1;
    delete m.resourceVersion;
    delete m.deletionTimestamp;
  }

  function checkNamespace(res, obj) {
    if (!res.namespaced) return;
    if (!obj.metadata.namespace) throw E.badRequest('the server could not find the requested resource');
    const ns = store.get(NS, '', obj.metadata.namespace);
    if (!ns) throw E.notFound(NS, obj.metadata.namespace);
    if (ns.status?.phase === 'Terminating') {
      throw E.status(403, 'Forbidden', `${E.qualified(res)} "${obj.metadata.name}" is forbidden: unable to create new content in namespace ${obj.metadata.namespace} because it is being terminated`);
    }
  }

  // opts: {fieldManager, dryRun, user, managedAlready}
  async function create(res, ns, body, opts = {}) {
    const obj = normalize(res, ns, body);
    const generated = !obj.metadata.name && obj.metadata.generateName;
    validate(res, generated ? { ...obj, metadata: { ...obj.metadata, name: `${obj.metadata.generateName}x` } } : obj);
    checkNamespace(res, obj);
    if (!generated && store.get(res, obj.metadata.namespace || '', obj.metadata.name)) throw E.alreadyExists(res, obj.metadata.name);
    if (res.subresources.includes('status') && res.plural !== 'namespaces') delete obj.status;
    applyDefaults(res, obj);
    initMetadata(res, obj);
    // Mutating admission sees a generateName-only object without its final name, as in kube-apiserver.
    await admit(res, obj, 'CREATE', opts, null);
    if (generated) obj.metadata.name = obj.metadata.generateName + randomSuffix();
    validate(res, obj);
    if (generated && store.get(res, obj.metadata.namespace || '', obj.metadata.name)) throw E.alreadyExists(res, obj.metadata.name);
    if (!opts.managedAlready) M.trackUpdate(null, obj, { manager: opts.fieldManager, apiVersion: res.apiVersion });
    return finish(res, obj, null, opts);
  }

  function keepImmutable(res, old, obj) {
    for (const k of ['uid', 'creationTimestamp', 'namespace', 'deletionTimestamp']) {
      if (old.metadata[k] !== undefined) obj.metadata[k] = old.metadata[k];
    }
    if (GENERATION.includes(res.plural)) {
      const changed = !P.deepEqual(specPart(old), specPart(obj));
      obj.metadata.generation = (old.metadata.generation || 1) + (changed ? 1 : 0);
    }
  }

  function scopeToSubresource(res, old, obj, subresource) {
    if (subresource === 'status') {
      const out = structuredClone(old);
      out.status = obj.status;
      out.metadata.managedFields = obj.metadata.managedFields;
      out.metadata.resourceVersion = obj.metadata.resourceVersion;
      return out;
    }
    if (res.subresources.includes('status')) {
      if (old.status === undefined) delete obj.status; else obj.status = structuredClone(old.status);
    }
    return obj;
  }

  // Common path of PUT, PATCH and apply on an existing object.
  async function write(res, old, candidate, opts) {
    const rv = candidate.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw E.conflict(res, old.metadata.name);
    let obj = scopeToSubresource(res, old, candidate, opts.subresource);
    obj.apiVersion = res.apiVersion;
    obj.kind = res.kind;
    keepImmutable(res, old, obj);
    applyDefaults(res, obj);
    validate(res, obj);
    await admit(res, obj, 'UPDATE', opts, old);
    if (!opts.managedAlready) {
      obj = M.trackUpdate(old, obj, { manager: opts.fieldManager, apiVersion: res.apiVersion, subresource: opts.subresource });
    }
    obj.metadata.resourceVersion = old.metadata.resourceVersion;
    if (P.deepEqual(withoutVolatile(old), withoutVolatile(obj))) return old;
    return finish(res, obj, old, opts);
  }

  async function update(res, ns, name, body, opts = {}) {
    const old = mustGet(res, ns, name);
    const obj = normalize(res, ns, body);
    if (obj.metadata.name !== name) {
      throw E.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    return write(res, old, obj, opts);
  }

  function parsePatch(text) {
    try { return JSON.parse(text); } catch (e) { throw E.badRequest(`error decoding patch: ${e.message}`); }
  }

  const PATCH_TYPES = {
    'application/json-patch+json': (old, body) => P.jsonPatch(old, parsePatch(body)),
    'application/merge-patch+json': (old, body) => P.mergePatch(old, parsePatch(body)),
    'application/strategic-merge-patch+json': (old, body) => P.strategicMerge(old, parsePatch(body)),
  };

  function acceptedPatchTypes(res) {
    const all = ['application/json-patch+json', 'application/merge-patch+json'];
    if (res.builtin) all.push('application/strategic-merge-patch+json');
    return [...all, 'application/apply-patch+yaml'];
  }

  // type: the Content-Type (without parameters); body: text
  async function patch(res, ns, name, type, body, opts = {}) {
    if (type === 'application/apply-patch+yaml') return applyPatch(res, ns, name, body, opts);
    const fn = PATCH_TYPES[type];
    if (!fn || (type === 'application/strategic-merge-patch+json' && !res.builtin)) {
      throw E.unsupportedMediaType(type, acceptedPatchTypes(res));
    }
    if (opts.force !== undefined) throw E.invalidForce();
    const old = mustGet(res, ns, name);
    const patched = fn(old, body);
    if (!P.isMap(patched) || !P.isMap(patched.metadata)) throw E.badRequest('the patch must leave an object with metadata');
    if (patched.metadata.name !== name) throw E.badRequest(`the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`);
    return { object: await write(res, old, patched, opts), created: false };
  }

  function parseApplyBody(res, name, text) {
    let config;
    try { config = YAML.parse(text); } catch (e) { throw E.badRequest(`error decoding YAML: ${e.message}`); }
    if (!P.isMap(config)) throw E.badRequest('the apply configuration must be an object');
    if (!config.apiVersion || !config.kind) throw E.badRequest('invalid object type: apiVersion and kind are required in an apply configuration');
    if (config.apiVersion !== res.apiVersion || config.kind !== res.kind) {
      throw E.badRequest(`the API version in the data (${config.apiVersion}) does not match the expected API version (${res.apiVersion})`);
    }
    if (config.metadata?.name && config.metadata.name !== name) {
      throw E.badRequest(`the name of the object (${config.metadata.name}) does not match the name on the URL (${name})`);
    }
    config.metadata = { ...(config.metadata || {}), name };
    return config;
  }

  async function applyPatch(res, ns, name, text, opts) {
    if (!opts.fieldManager || opts.explicitManager === false) {
      throw E.status(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] });
    }
    const config = normalize(res, ns, parseApplyBody(res, name, text));
    const live = store.get(res, res.namespaced ? ns : '', name);
    const mopts = { manager: opts.fieldManager, force: opts.force, apiVersion: res.apiVersion, subresource: opts.subresource };
    if (live && config.metadata.resourceVersion && config.metadata.resourceVersion !== live.metadata.resourceVersion) {
      throw E.conflict(res, name);
    }
    const { object, conflicts } = M.apply(live ? withoutVolatile(live) : null, config, mopts);
    if (conflicts.length) throw E.applyConflicts(res, name, conflicts);
    if (!live) {
      if (opts.subresource) throw E.notFound(res, name);
      return { object: await create(res, ns, object, { ...opts, managedAlready: true }), created: true };
    }
    object.metadata.resourceVersion = live.metadata.resourceVersion;
    return { object: await write(res, live, object, { ...opts, managedAlready: true }), created: false };
  }

  function cascade(deleted) {
    for (const r of R.storageKinds()) {
      if (!r.namespaced) continue;
      for (const o of store.list(r, deleted.metadata.namespace)) {
        if ((o.metadata.ownerReferences || []).some((ref) => ref.uid === deleted.metadata.uid)) remove(r, o.metadata.namespace, o.metadata.name, {});
      }
    }
  }

  function removeNamespaceContents(name) {
    for (const r of R.storageKinds()) {
      if (r.namespaced) for (const o of store.list(r, name)) store.remove(r, name, o.metadata.name);
    }
  }

  function remove(res, ns, name, opts = {}) {
    const old = mustGet(res, ns, name);
    if (opts.preconditionRV && opts.preconditionRV !== old.metadata.resourceVersion) throw E.conflict(res, name);
    if (opts.dryRun) return old;
    if (res.plural === 'namespaces') removeNamespaceContents(name);
    const gone = store.remove(res, res.namespaced ? ns : '', name);
    if (opts.propagationPolicy !== 'Orphan') cascade(gone);
    return gone;
  }

  // LIST with selectors and limit/continue pagination.
  function list(res, ns, q = {}) {
    const labelSel = S.parseLabelSelector(q.labelSelector);
    const fieldSel = S.parseFieldSelector(q.fieldSelector, res);
    let items = store.list(res, res.namespaced ? ns : '').map((o) => asVersion(res, o))
      .filter((o) => S.matchLabels(labelSel, o.metadata.labels) && S.matchFields(fieldSel, o));
    const rv = store.currentRV();
    let start = 0;
    if (q.continue) {
      const token = decodeContinue(q.continue);
      start = items.findIndex((o) => idOf(o) > token.start);
      if (start < 0) start = items.length;
    }
    items = items.slice(start);
    const metadata = { resourceVersion: rv };
    const limit = Number(q.limit) || 0;
    if (limit > 0 && items.length > limit) {
      metadata.continue = encodeContinue(rv, idOf(items[limit - 1]));
      metadata.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    return { metadata, items };
  }

  const api = { get: mustGet, list, create, update, patch, remove, store, randomSuffix };
  return api;
}

const idOf = (o) => `${o.metadata.namespace || ''}/${o.metadata.name}`;

function encodeContinue(rv, start) {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start })).toString('base64url');
}

function decodeContinue(token) {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (t.v !== 'meta.k8s.io/v1' || typeof t.start !== 'string') throw new Error('bad');
    return t;
  } catch {
    throw E.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

module.exports = { createApi, randomSuffix, nowIso };
