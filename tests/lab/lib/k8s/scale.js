'use strict';
// The scale subresource of Deployments and ReplicaSets (autoscaling/v1 Scale).
const E = require('./errors');
const P = require('./patch');

function selectorString(sel) {
  return Object.entries(sel?.matchLabels || {}).map(([k, v]) => `${k}=${v}`).join(',');
}

function toScale(obj) {
  const m = obj.metadata;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: obj.spec?.replicas ?? 1 },
    status: { replicas: obj.status?.replicas || 0, selector: selectorString(obj.spec?.selector) },
  };
}

const PATCHERS = {
  'application/json-patch+json': (doc, text) => P.jsonPatch(doc, JSON.parse(text)),
  'application/merge-patch+json': (doc, text) => P.mergePatch(doc, JSON.parse(text)),
  'application/strategic-merge-patch+json': (doc, text) => P.strategicMerge(doc, JSON.parse(text)),
};

// verb: get | update | patch; body: request text; type: content type
async function serveScale(api, res, ns, name, { verb, type, text, opts }) {
  const obj = api.get(res, ns, name);
  if (verb === 'get') return toScale(obj);
  let scale;
  try {
    scale = verb === 'update' ? JSON.parse(text) : (PATCHERS[type] || (() => { throw E.unsupportedMediaType(type, Object.keys(PATCHERS)); }))(toScale(obj), text);
  } catch (e) {
    if (e.body) throw e;
    throw E.badRequest(`error decoding scale: ${e.message}`);
  }
  const replicas = scale?.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw E.invalid('Scale', 'autoscaling', name, [{ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
  }
  if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== obj.metadata.resourceVersion) throw E.conflict(res, name);
  const r = await api.patch(res, ns, name, 'application/merge-patch+json', JSON.stringify({ spec: { replicas } }), opts);
  return toScale(r.object);
}

module.exports = { serveScale };
