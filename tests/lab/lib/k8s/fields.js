'use strict';
// Field sets (the FieldsV1 format of managedFields) computed from objects.
// A path is an array of elements "f:name", "k:{...}" (keyed list item) or
// "v:..." (set item); a field set is a Set of JSON-encoded paths.
const { isMap, mergeKeyFor, deepEqual } = require('./patch');

const IGNORED_METADATA = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation',
  'selfLink', 'name', 'namespace', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generateName'];
const SET_LISTS = ['finalizers'];

const enc = (path) => JSON.stringify(path);
const dec = (key) => JSON.parse(key);

function listKeyOf(field, list) {
  if (!list.length || !list.every(isMap)) return null;
  const key = mergeKeyFor(field, list);
  return key && list.every((i) => key in i) ? key : null;
}

const itemElement = (key, item) => `k:${JSON.stringify({ [key]: item[key] })}`;

function addValue(out, path, field, value) {
  if (isMap(value) && Object.keys(value).length) { addMap(out, path, value); return; }
  if (Array.isArray(value) && SET_LISTS.includes(field)) {
    if (!value.length) out.add(enc(path));
    for (const v of value) out.add(enc([...path, `v:${JSON.stringify(v)}`]));
    return;
  }
  const key = Array.isArray(value) ? listKeyOf(field, value) : null;
  if (!key) { out.add(enc(path)); return; }
  for (const item of value) {
    const itemPath = [...path, itemElement(key, item)];
    out.add(enc(itemPath));
    addMap(out, itemPath, item);
  }
}

function addMap(out, path, map) {
  for (const [k, v] of Object.entries(map)) addValue(out, [...path, `f:${k}`], k, v);
}

// Fields an object (or an apply configuration) sets. scope: 'main' or 'status'.
function fieldsOf(obj, scope = 'main') {
  const out = new Set();
  for (const [k, v] of Object.entries(obj || {})) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if ((k === 'status') !== (scope === 'status')) continue;
    if (k === 'metadata') {
      const meta = Object.fromEntries(Object.entries(v || {}).filter(([mk]) => !IGNORED_METADATA.includes(mk)));
      if (Object.keys(meta).length) addMap(out, ['f:metadata'], meta);
      continue;
    }
    addValue(out, [`f:${k}`], k, v);
  }
  return out;
}

// Navigation: value at a path; undefined when absent.
function step(node, el) {
  if (node === undefined || node === null) return undefined;
  if (el.startsWith('f:')) return isMap(node) ? node[el.slice(2)] : undefined;
  if (el.startsWith('k:')) {
    if (!Array.isArray(node)) return undefined;
    const want = JSON.parse(el.slice(2));
    return node.find((i) => isMap(i) && Object.entries(want).every(([k, v]) => i[k] === v));
  }
  if (el.startsWith('v:')) {
    const want = JSON.parse(el.slice(2));
    return Array.isArray(node) && node.some((x) => deepEqual(x, want)) ? want : undefined;
  }
  return undefined;
}

function valueAt(obj, path) {
  return path.reduce((node, el) => step(node, el), obj);
}

function removeAt(obj, path) {
  const parent = valueAt(obj, path.slice(0, -1));
  const el = path[path.length - 1];
  if (parent === undefined || parent === null) return;
  if (el.startsWith('f:') && isMap(parent)) { delete parent[el.slice(2)]; return; }
  if (!Array.isArray(parent)) return;
  const target = step(parent, el);
  const idx = parent.findIndex((x) => x === target || (el.startsWith('v:') && deepEqual(x, target)));
  if (idx >= 0) parent.splice(idx, 1);
}

// ---- FieldsV1 <-> field sets ----

function toFieldsV1(set) {
  const root = { children: new Map(), owned: false };
  for (const key of set) {
    let node = root;
    for (const el of dec(key)) {
      if (!node.children.has(el)) node.children.set(el, { children: new Map(), owned: false });
      node = node.children.get(el);
    }
    node.owned = true;
  }
  return serialize(root);
}

function serialize(node) {
  const out = {};
  if (node.owned && node.children.size) out['.'] = {};
  for (const el of [...node.children.keys()].sort()) out[el] = serialize(node.children.get(el));
  return out;
}

function fromFieldsV1(tree, prefix = [], out = new Set()) {
  for (const [el, child] of Object.entries(tree || {})) {
    if (el === '.') continue;
    const path = [...prefix, el];
    if (!isMap(child) || !Object.keys(child).length || '.' in child) out.add(enc(path));
    if (isMap(child)) fromFieldsV1(child, path, out);
  }
  return out;
}

// Paths of `after` whose value differs from `before` (added or changed leaves,
// added list items), and paths of `before` gone in `after`.
function diffFields(before, after, scope = 'main') {
  const afterSet = fieldsOf(after, scope);
  const beforeSet = fieldsOf(before, scope);
  const changed = new Set();
  for (const key of afterSet) {
    const path = dec(key);
    const old = valueAt(before, path);
    const isItem = path[path.length - 1].startsWith('k:');
    // A list item node changes only by appearing; leaves change by value.
    if (old === undefined || (!isItem && !deepEqual(valueAt(after, path), old))) changed.add(key);
  }
  const removed = new Set([...beforeSet].filter((k) => !afterSet.has(k)));
  return { changed, removed };
}

module.exports = { fieldsOf, valueAt, removeAt, toFieldsV1, fromFieldsV1, diffFields, enc, dec };
