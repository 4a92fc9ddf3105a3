'use strict';
// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
// strategic merge patch (lists merged by key for built-in types).
const { badRequest, status } = require('./errors');

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Merge keys of the associative lists the lab's built-in types contain,
// by field name (enough for the kinds served here).
const MERGE_KEYS = {
  containers: 'name', initContainers: 'name', ephemeralContainers: 'name',
  env: 'name', volumes: 'name', volumeMounts: 'mountPath', imagePullSecrets: 'name',
  conditions: 'type', hostAliases: 'ip', ownerReferences: 'uid', webhooks: 'name',
  secrets: 'name',
};

function mergeKeyFor(field, items) {
  if (field === 'ports') {
    const sample = items.find(isMap) || {};
    return 'containerPort' in sample ? 'containerPort' : 'port';
  }
  return MERGE_KEYS[field] || null;
}

function mergePatch(target, patch) {
  if (!isMap(patch)) return structuredClone(patch);
  const out = isMap(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// ---- JSON patch ----

function parsePointer(ptr) {
  if (ptr === '') return [];
  if (!ptr.startsWith('/')) throw badRequest(`invalid JSON pointer: "${ptr}"`);
  return ptr.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const patchFailed = (msg) => status(422, 'Invalid', msg);

function walk(doc, parts, op) {
  let node = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i];
    const next = Array.isArray(node) ? node[Number(p)] : (isMap(node) ? node[p] : undefined);
    if (next === undefined || next === null || typeof next !== 'object') {
      throw patchFailed(`${op} operation does not apply: doc is missing path: "/${parts.join('/')}": missing value`);
    }
    node = next;
  }
  return node;
}

function arrayIndex(arr, p, forAdd, op, path) {
  if (forAdd && p === '-') return arr.length;
  const i = Number(p);
  if (!/^\d+$/.test(p) || i > arr.length || (!forAdd && i >= arr.length)) {
    throw patchFailed(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  return i;
}

function getAt(doc, path, op) {
  const parts = parsePointer(path);
  if (!parts.length) return doc;
  const parent = walk(doc, parts, op);
  const last = parts[parts.length - 1];
  const v = Array.isArray(parent) ? parent[arrayIndex(parent, last, false, op, path)] : parent[last];
  if (v === undefined) throw patchFailed(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  return v;
}

function addAt(doc, path, value, op = 'add') {
  const parts = parsePointer(path);
  if (!parts.length) return structuredClone(value);
  const parent = walk(doc, parts, op);
  const last = parts[parts.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, op, path), 0, structuredClone(value));
  else parent[last] = structuredClone(value);
  return doc;
}

function removeAt(doc, path, op = 'remove') {
  const parts = parsePointer(path);
  const parent = walk(doc, parts, op);
  const last = parts[parts.length - 1];
  if (Array.isArray(parent)) { parent.splice(arrayIndex(parent, last, false, op, path), 1); return doc; }
  if (!isMap(parent) || !(last in parent)) {
    throw patchFailed(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  delete parent[last];
  return doc;
}

function deepEqual(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (isMap(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

function applyOp(doc, o) {
  switch (o.op) {
    case 'add': return addAt(doc, o.path, o.value);
    case 'remove': return removeAt(doc, o.path);
    case 'replace': getAt(doc, o.path, 'replace'); return addAt(removeAt(doc, o.path, 'replace'), o.path, o.value, 'replace');
    case 'move': { const v = getAt(doc, o.from, 'move'); return addAt(removeAt(doc, o.from, 'move'), o.path, v, 'move'); }
    case 'copy': return addAt(doc, o.path, getAt(doc, o.from, 'copy'), 'copy');
    case 'test':
      if (!deepEqual(getAt(doc, o.path, 'test'), o.value)) throw patchFailed(`testing value ${o.path} failed: test failed`);
      return doc;
    default: throw badRequest(`Unexpected kind: ${o.op}`);
  }
}

function jsonPatch(target, ops) {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = structuredClone(target);
  for (const o of ops) {
    if (!isMap(o) || typeof o.op !== 'string' || typeof o.path !== 'string') {
      throw badRequest('invalid JSON patch operation: each operation needs "op" and "path"');
    }
    if (['add', 'replace', 'test'].includes(o.op) && !('value' in o)) throw badRequest(`missing value for ${o.op} operation`);
    doc = applyOp(doc, o);
  }
  return doc;
}

// ---- strategic merge patch ----

function strategicMerge(target, patch) {
  if (!isMap(patch)) return structuredClone(patch);
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') {
    const { $patch, ...rest } = patch;
    return stripDirectives(rest);
  }
  let out = isMap(target) ? structuredClone(target) : {};
  if (Array.isArray(patch.$retainKeys)) {
    out = Object.fromEntries(Object.entries(out).filter(([k]) => patch.$retainKeys.includes(k)));
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) {
      applyDirective(out, k, v);
      continue;
    }
    if (v === null) { delete out[k]; continue; }
    const merged = mergeField(out[k], v, k);
    if (merged === undefined) delete out[k]; else out[k] = merged;
  }
  return out;
}

function applyDirective(out, k, v) {
  const m = k.match(/^\$deleteFromPrimitiveList\/(.+)$/);
  if (m && Array.isArray(out[m[1]])) out[m[1]] = out[m[1]].filter((x) => !v.includes(x));
  // $setElementOrder/..., $retainKeys, $patch: order and retention are handled elsewhere or ignored.
}

function mergeField(current, value, field) {
  if (Array.isArray(value)) return mergeList(current, value, field);
  if (isMap(value)) return strategicMerge(current, value);
  return value;
}

function mergeList(current, patchItems, field) {
  const key = mergeKeyFor(field, patchItems);
  if (patchItems.some((i) => isMap(i) && i.$patch === 'replace')) {
    return stripDirectives(patchItems.filter((i) => !(isMap(i) && i.$patch === 'replace')));
  }
  if (field === 'finalizers' && Array.isArray(current)) {
    return [...current, ...patchItems.filter((x) => !current.includes(x))];
  }
  if (!key || !Array.isArray(current)) return stripDirectives(patchItems.filter((i) => !(isMap(i) && i.$patch === 'delete')));
  const out = structuredClone(current);
  for (const item of patchItems) {
    if (!isMap(item) || !(key in item)) throw badRequest(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    const idx = out.findIndex((o) => isMap(o) && o[key] === item[key]);
    if (item.$patch === 'delete') { if (idx >= 0) out.splice(idx, 1); continue; }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], item);
    else out.push(stripDirectives(item));
  }
  return out;
}

function stripDirectives(v) {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isMap(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k, x]) => !k.startsWith('$') && x !== null)
    .map(([k, x]) => [k, stripDirectives(x)]));
}

module.exports = { mergePatch, jsonPatch, strategicMerge, deepEqual, canonical, isMap, mergeKeyFor, MERGE_KEYS };
