'use strict';
// In-memory object store with a global resourceVersion and a change feed.
// It knows nothing about admission, defaults or field ownership (see api.js).

const HISTORY = 2000;

function createStore() {
  let rv = 1000;
  const tables = new Map(); // res.key -> Map("ns/name" -> object)
  const history = []; // {rv, type, key, object}
  const watchers = new Set();

  const table = (res) => {
    if (!tables.has(res.key)) tables.set(res.key, new Map());
    return tables.get(res.key);
  };
  const id = (ns, name) => `${ns || ''}/${name}`;

  function emit(type, res, object) {
    const event = { rv, type, key: res.key, object: structuredClone(object) };
    history.push(event);
    if (history.length > HISTORY) history.shift();
    for (const w of watchers) {
      try { w(event); } catch { /* a broken watcher must not break writes */ }
    }
  }

  function get(res, ns, name) {
    const obj = table(res).get(id(ns, name));
    return obj ? structuredClone(obj) : null;
  }

  function list(res, ns) {
    const out = [];
    for (const [key, obj] of table(res)) {
      if (!ns || key.startsWith(`${ns}/`)) out.push(obj);
    }
    out.sort((a, b) => id(a.metadata.namespace, a.metadata.name).localeCompare(id(b.metadata.namespace, b.metadata.name)));
    return out.map((o) => structuredClone(o));
  }

  // put stores obj (new or replacing), assigning a new resourceVersion.
  function put(res, obj) {
    const key = id(obj.metadata.namespace, obj.metadata.name);
    const existed = table(res).has(key);
    rv += 1;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(rv);
    table(res).set(key, stored);
    emit(existed ? 'MODIFIED' : 'ADDED', res, stored);
    return structuredClone(stored);
  }

  function remove(res, ns, name) {
    const key = id(ns, name);
    const obj = table(res).get(key);
    if (!obj) return null;
    table(res).delete(key);
    rv += 1;
    obj.metadata.resourceVersion = String(rv);
    emit('DELETED', res, obj);
    return structuredClone(obj);
  }

  // Events after resourceVersion `since` (null when history no longer reaches back).
  function eventsSince(since) {
    const n = Number(since);
    const oldest = history.length ? history[0].rv : rv + 1;
    if (!Number.isFinite(n) || n < oldest - 1) return null;
    return history.filter((e) => e.rv > n);
  }

  function subscribe(fn) {
    watchers.add(fn);
    return () => watchers.delete(fn);
  }

  return { get, list, put, remove, eventsSince, subscribe, currentRV: () => String(rv) };
}

module.exports = { createStore };
