'use strict';
// managedFields: ownership tracking for updates and server-side apply.
const { isMap, deepEqual, mergeKeyFor } = require('./patch');
const F = require('./fields');

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function decodeEntries(obj) {
  return (obj?.metadata?.managedFields || []).map((e) => ({
    manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, time: e.time,
    subresource: e.subresource, set: F.fromFieldsV1(e.fieldsV1 || {}),
  }));
}

function encodeEntries(entries) {
  return entries.filter((e) => e.set.size > 0).map((e) => ({
    manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, time: e.time,
    fieldsType: 'FieldsV1', fieldsV1: F.toFieldsV1(e.set),
    ...(e.subresource ? { subresource: e.subresource } : {}),
  }));
}

function findEntry(entries, manager, operation, subresource) {
  return entries.find((e) => e.manager === manager && e.operation === operation && (e.subresource || '') === (subresource || ''));
}

function entryFor(entries, opts, operation) {
  let e = findEntry(entries, opts.manager, operation, opts.subresource);
  if (!e) {
    e = { manager: opts.manager, operation, apiVersion: opts.apiVersion, subresource: opts.subresource, set: new Set() };
    entries.push(e);
  }
  e.time = now();
  e.apiVersion = opts.apiVersion;
  return e;
}

const scopeOf = (opts) => (opts.subresource === 'status' ? 'status' : 'main');

// An update (create, PUT, PATCH) by opts.manager: it takes the fields it changed.
function trackUpdate(oldObj, newObj, opts) {
  const oldMF = oldObj?.metadata?.managedFields;
  const newMF = newObj.metadata.managedFields;
  const userReset = newMF !== undefined && !deepEqual(newMF, oldMF);
  const entries = userReset ? decodeEntries(newObj) : decodeEntries(oldObj);
  const { changed, removed } = F.diffFields(oldObj || {}, newObj, scopeOf(opts));
  for (const e of entries) for (const k of [...changed, ...removed]) e.set.delete(k);
  if (changed.size) {
    const mine = entryFor(entries, opts, 'Update');
    for (const k of changed) mine.set.add(k);
  }
  newObj.metadata.managedFields = encodeEntries(entries);
  if (!newObj.metadata.managedFields.length) delete newObj.metadata.managedFields;
  return newObj;
}

function describePath(path) {
  return path.map((el) => {
    if (el.startsWith('f:')) return `.${el.slice(2)}`;
    if (el.startsWith('k:')) {
      const keys = JSON.parse(el.slice(2));
      return `[${Object.entries(keys).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    }
    return `[=${el.slice(2)}]`;
  }).join('');
}

function findConflicts(entries, live, config, configSet, opts) {
  const conflicts = [];
  for (const e of entries) {
    if (e.manager === opts.manager && e.operation === 'Apply') continue;
    for (const key of configSet) {
      if (!e.set.has(key)) continue;
      const path = F.dec(key);
      if (path[path.length - 1].startsWith('k:')) continue;
      if (deepEqual(F.valueAt(live, path), F.valueAt(config, path))) continue;
      conflicts.push({ manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, field: describePath(path), key, entry: e });
    }
  }
  return conflicts;
}

function applyMerge(live, config, field) {
  if (Array.isArray(config)) return mergeApplyList(live, config, field);
  if (!isMap(config)) return structuredClone(config);
  const out = isMap(live) ? structuredClone(live) : {};
  for (const [k, v] of Object.entries(config)) {
    if (v === null) continue;
    out[k] = applyMerge(out[k], v, k);
  }
  return out;
}

function mergeApplyList(live, config, field) {
  if (field === 'finalizers' && Array.isArray(live)) return [...live, ...config.filter((x) => !live.includes(x))];
  const key = mergeKeyFor(field, config);
  if (!key || !Array.isArray(live) || !config.every((i) => isMap(i) && key in i)) return structuredClone(config);
  const out = structuredClone(live);
  for (const item of config) {
    const idx = out.findIndex((o) => isMap(o) && o[key] === item[key]);
    if (idx >= 0) out[idx] = applyMerge(out[idx], item, field);
    else out.push(structuredClone(item));
  }
  return out;
}

function ownedByOthers(entries, mine, key) {
  return entries.some((e) => e !== mine && e.set.has(key));
}

function pruneEmptyParents(obj, path) {
  for (let n = path.length - 1; n > 0; n--) {
    const parentPath = path.slice(0, n);
    const v = F.valueAt(obj, parentPath);
    if (!(isMap(v) && Object.keys(v).length === 0)) return;
    F.removeAt(obj, parentPath);
  }
}

// Server-side apply of `config` by opts.manager over `live` (null on create).
// Returns { object, conflicts } ; conflicts non-empty means nothing applied.
function apply(live, config, opts) {
  const base = live || {};
  const scope = scopeOf(opts);
  const entries = decodeEntries(base);
  const configSet = F.fieldsOf(config, scope);
  const conflicts = findConflicts(entries, base, config, configSet, opts);
  if (conflicts.length && !opts.force) return { object: null, conflicts };
  for (const c of conflicts) c.entry.set.delete(c.key);
  const merged = applyMerge(base, config);
  if (live) merged.metadata.managedFields = live.metadata.managedFields;
  const mine = entryFor(entries, opts, 'Apply');
  const dropped = [...mine.set].filter((k) => !configSet.has(k) && !ownedByOthers(entries, mine, k));
  dropped.sort((a, b) => F.dec(b).length - F.dec(a).length);
  for (const k of dropped) {
    const path = F.dec(k);
    F.removeAt(merged, path);
    pruneEmptyParents(merged, path);
  }
  mine.set = configSet;
  merged.metadata.managedFields = encodeEntries(entries);
  return { object: merged, conflicts: [] };
}

module.exports = { trackUpdate, apply, decodeEntries, encodeEntries, describePath };
