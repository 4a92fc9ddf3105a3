'use strict';
// File formats: YAML (multi-document), JSON, dotenv and binary <-> sops trees.
const YAML = require('yaml');
const { SopsError } = require('./aes');

const PARSE_OPTS = { intAsBigInt: true, customTags: ['timestamp'], uniqueKeys: false, strict: false };

function formatFor(name) {
  if (/\.ya?ml$/i.test(name)) return 'yaml';
  if (/\.json$/i.test(name)) return 'json';
  if (/\.env$/i.test(name)) return 'dotenv';
  return 'binary';
}

function commentLines(text) {
  if (!text) return [];
  return String(text).split('\n').map((c) => ({ comment: c }));
}

function fromAst(node, doc) {
  if (node === null || node === undefined) return { t: 'null', v: null };
  if (YAML.isMap(node)) {
    const items = [];
    for (const pair of node.items) {
      const keyNode = pair.key;
      items.push(...commentLines(keyNode && keyNode.commentBefore));
      const k = YAML.isScalar(keyNode) ? keyNode.value : keyNode;
      if (typeof k !== 'string') throw new SopsError('Tree contains a non-string key (' + String(k) + ')', 25);
      if (pair.value && pair.value.commentBefore && !YAML.isScalar(pair.value)) {
        const v = fromAst(pair.value, doc);
        v.items.unshift(...commentLines(pair.value.commentBefore));
        items.push({ k, v });
      } else {
        items.push({ k, v: fromAst(pair.value, doc) });
      }
      if (pair.value && pair.value.comment) items.push(...commentLines(pair.value.comment));
    }
    return { t: 'map', items };
  }
  if (YAML.isSeq(node)) {
    const items = [];
    for (const el of node.items) {
      if (el && el.commentBefore) items.push(...commentLines(el.commentBefore));
      items.push(fromAst(el, doc));
      if (el && el.comment && YAML.isScalar(el)) items.push(...commentLines(el.comment));
    }
    return { t: 'seq', items };
  }
  if (YAML.isAlias(node)) return fromAst(node.resolve(doc), doc);
  if (YAML.isScalar(node)) return scalar(node.value);
  return scalar(node);
}

function scalar(v) {
  if (v === null || v === undefined) return { t: 'null', v: null };
  if (typeof v === 'bigint') return { t: 'int', v };
  if (typeof v === 'number') return { t: 'float', v };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (v instanceof Date) return { t: 'time', v };
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { t: 'str', v: Buffer.from(v).toString('latin1') };
  return { t: 'str', v: String(v) };
}

// Plain JS value -> tree (used for JSON objects coming from Kubernetes).
function fromPlain(v) {
  if (Array.isArray(v)) return { t: 'seq', items: v.map(fromPlain) };
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return { t: 'map', items: Object.keys(v).map((k) => ({ k, v: fromPlain(v[k]) })) };
  }
  if (typeof v === 'number' && Number.isInteger(v)) return { t: 'int', v: BigInt(v) };
  return scalar(v);
}

function toPlain(node) {
  switch (node.t) {
    case 'map': {
      const o = {};
      for (const it of node.items) if (it.comment === undefined) o[it.k] = toPlain(it.v);
      return o;
    }
    case 'seq': return node.items.filter((it) => it.comment === undefined).map(toPlain);
    case 'int': {
      const n = Number(node.v);
      return Number.isSafeInteger(n) ? n : node.v.toString();
    }
    case 'time': return node.v.toISOString();
    case 'bytes': return Buffer.from(node.v).toString('latin1');
    default: return node.v;
  }
}

function removeSops(tree) {
  let md = null;
  const items = [];
  for (const it of tree.items) {
    if (it.comment === undefined && it.k === 'sops') {
      if (md === null) md = it.v;
      continue;
    }
    items.push(it);
  }
  return { tree: { t: 'map', items }, md };
}

function parseYaml(text) {
  const docs = YAML.parseAllDocuments(text, PARSE_OPTS);
  const trees = [];
  let md = null;
  docs.forEach((doc, i) => {
    if (doc.errors && doc.errors.length) throw new SopsError('Error unmarshalling input YAML: ' + doc.errors[0].message, 2);
    const root = doc.contents;
    if (root !== null && root !== undefined && !YAML.isMap(root)) {
      if (YAML.isSeq(root)) throw new SopsError('YAML documents that are sequences are not supported', 2);
      if (YAML.isScalar(root) && root.value === null) { trees.push({ t: 'map', items: [] }); return; }
      throw new SopsError('YAML documents that are values are not supported', 2);
    }
    let tree = root ? fromAst(root, doc) : { t: 'map', items: [] };
    if (doc.commentBefore) tree.items.unshift(...commentLines(doc.commentBefore));
    const r = removeSops(tree);
    tree = r.tree;
    if (i === 0) md = r.md;
    trees.push(tree);
  });
  return { trees, md };
}

function parseJson(text) {
  try {
    JSON.parse(text);
  } catch (e) {
    throw new SopsError('Error unmarshalling input json: ' + e.message, 2);
  }
  const doc = YAML.parseDocument(text, PARSE_OPTS);
  if (!YAML.isMap(doc.contents)) {
    throw new SopsError('SOPS only supports JSON files with a top-level object', 2);
  }
  const r = removeSops(fromAst(doc.contents, doc));
  return { trees: [r.tree], md: r.md };
}

function parseDotenv(text) {
  const items = [];
  const meta = {};
  for (const line of String(text).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      items.push({ comment: line.slice(1) });
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new SopsError('invalid dotenv input line: ' + line, 2);
    const k = line.slice(0, eq);
    const v = line.slice(eq + 1).replace(/\\n/g, '\n');
    if (k.startsWith('sops_')) meta[k.slice(5)] = v;
    else items.push({ k, v: { t: 'str', v } });
  }
  const md = Object.keys(meta).length ? fromPlain(unflatten(meta)) : null;
  return { trees: [{ t: 'map', items }], md };
}

function unflatten(flat) {
  const out = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('__');
    let cur = out;
    let name = parts[0];
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i];
      const isList = p.startsWith('list_');
      const next = isList ? parseInt(p.slice(5), 10) : p.replace(/^map_/, '');
      if (cur[name] === undefined) cur[name] = isList ? [] : {};
      cur = cur[name];
      name = next;
    }
    cur[name] = value;
  }
  return out;
}

function parse(text, format) {
  const s = Buffer.isBuffer(text) ? text.toString('utf8') : String(text);
  switch (format) {
    case 'yaml': return parseYaml(s);
    case 'json': case 'binary': return parseJson(s);
    case 'dotenv': return parseDotenv(s);
    default: throw new SopsError('unknown format ' + format, 2);
  }
}

function emitDotenv(tree) {
  let out = '';
  for (const it of tree.items) {
    if (it.comment !== undefined) { out += '#' + it.comment + '\n'; continue; }
    if (it.v.t === 'map' || it.v.t === 'seq') throw new SopsError('cannot use complex value in dotenv file', 3);
    const v = it.v.t === 'str' ? it.v.v : String(toPlain(it.v));
    out += it.k + '=' + v.replace(/\n/g, '\\n') + '\n';
  }
  return out;
}

function emit(trees, format) {
  switch (format) {
    case 'yaml': return trees.map((t) => YAML.stringify(toPlain(t))).join('---\n');
    case 'json': return JSON.stringify(toPlain(trees[0]), null, '\t') + '\n';
    case 'dotenv': return emitDotenv(trees[0]);
    case 'binary': {
      const d = trees[0].items.find((it) => it.k === 'data');
      if (!d || (d.v.t !== 'str' && d.v.t !== 'bytes')) throw new SopsError('No binary data found in tree', 3);
      return d.v.raw ? Buffer.from(d.v.raw) : Buffer.from(d.v.v, d.v.t === 'str' ? 'utf8' : undefined);
    }
    default: throw new SopsError('unknown format ' + format, 2);
  }
}

module.exports = { formatFor, parse, emit, toPlain, fromPlain, unflatten };
