'use strict';
// A small OpenAPI v3 surface: per group-version documents listing each
// resource's operations and query parameters. kubectl reads it to learn that
// the server validates fields itself (fieldValidation) before applying.
const crypto = require('node:crypto');
const R = require('./resources');

const gvPath = (r) => (r.group ? `apis/${r.group}/${r.version}` : 'api/v1');

const param = (name, description) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMS = [
  param('dryRun', 'When present, indicates that modifications should not be persisted.'),
  param('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  param('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.'),
];
const PATCH_PARAMS = [...WRITE_PARAMS, { name: 'force', in: 'query', description: 'Force is going to "force" Apply requests.', schema: { type: 'boolean', uniqueItems: true } }];

function operation(r, verb, params) {
  return {
    description: `${verb} the specified ${r.kind}`,
    operationId: `${verb}${r.kind}`,
    parameters: params,
    responses: { 200: { description: 'OK' }, 401: { description: 'Unauthorized' } },
    'x-kubernetes-action': verb,
    'x-kubernetes-group-version-kind': { group: r.group, kind: r.kind, version: r.version },
  };
}

function pathsFor(r) {
  const base = r.namespaced ? `/${gvPath(r)}/namespaces/{namespace}/${r.plural}` : `/${gvPath(r)}/${r.plural}`;
  const item = {};
  if (r.verbs.includes('get')) item.get = operation(r, 'get', []);
  if (r.verbs.includes('update')) item.put = operation(r, 'put', WRITE_PARAMS);
  if (r.verbs.includes('patch')) item.patch = operation(r, 'patch', PATCH_PARAMS);
  if (r.verbs.includes('delete')) item.delete = operation(r, 'delete', [param('dryRun', '')]);
  const coll = {};
  if (r.verbs.includes('list')) coll.get = operation(r, 'list', [param('labelSelector', ''), param('fieldSelector', ''), param('limit', ''), param('continue', '')]);
  if (r.verbs.includes('create')) coll.post = operation(r, 'post', WRITE_PARAMS);
  return { [base]: coll, ...(Object.keys(item).length ? { [`${base}/{name}`]: item } : {}) };
}

function documents() {
  const docs = new Map();
  for (const r of R.served()) {
    const key = gvPath(r);
    if (!docs.has(key)) docs.set(key, { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.6' }, paths: {}, components: { schemas: {} } });
    Object.assign(docs.get(key).paths, pathsFor(r));
  }
  return docs;
}

const hashOf = (doc) => crypto.createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 128).toUpperCase();

// Returns the document for /openapi/v3[...], or undefined if not an OpenAPI path.
function openapi(path) {
  const DOCS = documents();
  if (path === '/openapi/v3' || path === '/openapi/v3/') {
    const paths = {};
    for (const [key, doc] of DOCS) paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hashOf(doc)}` };
    return { paths };
  }
  const m = path.match(/^\/openapi\/v3\/(.+)$/);
  if (!m) return undefined;
  return DOCS.get(m[1]) || null;
}

module.exports = { openapi };
