'use strict';
// kustomize's secretGenerator and configMapGenerator (files, envs, literals, options, the
// content-hash name suffix), and the list of generator sources Flux decrypts before a build.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

class GeneratorError extends Error {}

// Go's json.Marshal of a map: keys sorted, <, >, & escaped.
function goJson(v) {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return '[' + v.map(goJson).join(',') + ']';
  if (typeof v === 'object') {
    return '{' + Object.keys(v).sort().map((k) => goJson(k) + ':' + goJson(v[k])).join(',') + '}';
  }
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

// The 10-character suffix kustomize appends to generated names.
function nameHash(obj) {
  const m = { kind: obj.kind, name: obj.metadata.name, data: obj.data || {} };
  if (obj.kind === 'Secret') m.type = obj.type || 'Opaque';
  if (obj.kind === 'ConfigMap' && obj.binaryData && Object.keys(obj.binaryData).length) m.binaryData = obj.binaryData;
  const hex = crypto.createHash('sha256').update(goJson(m)).digest('hex');
  const swap = { 0: 'g', 1: 'h', 3: 'k', a: 'm', e: 't' };
  return hex.slice(0, 10).split('').map((c) => swap[c] || c).join('');
}

function splitSource(src) {
  const i = src.indexOf('=');
  if (i < 0) return { key: path.basename(src), file: src };
  return { key: src.slice(0, i), file: src.slice(i + 1) };
}

function parseEnvFile(text, where) {
  const out = {};
  for (const raw of String(text).split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const i = line.indexOf('=');
    if (i < 0) throw new GeneratorError('invalid env line in ' + where + ': ' + JSON.stringify(line));
    out[line.slice(0, i).trim()] = line.slice(i + 1);
  }
  return out;
}

function literal(l) {
  const i = l.indexOf('=');
  if (i < 0) throw new GeneratorError('invalid literal source ' + l + ', expected key=value');
  let v = l.slice(i + 1);
  if (v.length >= 2 && ((v[0] === '"' && v.endsWith('"')) || (v[0] === '\'' && v.endsWith('\'')))) v = v.slice(1, -1);
  return [l.slice(0, i), v];
}

// generate(kind, spec, dir, read(absPath)->Buffer, options) -> object
function generate(kind, spec, dir, read, options = {}) {
  if (!spec.name) throw new GeneratorError(kind + 'Generator entry without name');
  const values = {};
  const put = (k, buf) => {
    if (k in values) throw new GeneratorError('cannot add key ' + k + ', another key by that name already exists');
    values[k] = buf;
  };
  for (const l of spec.literals || []) { const [k, v] = literal(l); put(k, Buffer.from(v)); }
  for (const src of spec.files || []) { const s = splitSource(src); put(s.key, read(path.resolve(dir, s.file))); }
  for (const e of (spec.envs || []).concat(spec.env ? [spec.env] : [])) {
    const f = path.resolve(dir, e);
    for (const [k, v] of Object.entries(parseEnvFile(read(f).toString('utf8'), e))) put(k, Buffer.from(v));
  }
  const opts = Object.assign({}, options, spec.options || {});
  const obj = { apiVersion: 'v1', kind, metadata: { name: spec.name } };
  if (spec.namespace) obj.metadata.namespace = spec.namespace;
  if (opts.labels) obj.metadata.labels = Object.assign({}, opts.labels);
  if (opts.annotations) obj.metadata.annotations = Object.assign({}, opts.annotations);
  if (kind === 'Secret') {
    obj.type = spec.type || 'Opaque';
    obj.data = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.toString('base64')]));
  } else {
    obj.data = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.toString('utf8')]));
  }
  if (!opts.disableNameSuffixHash) obj.metadata.name = spec.name + '-' + nameHash(obj);
  return obj;
}

const MARKERS = { yaml: 'mac: ENC[', json: '"mac": "ENC[', binary: '"mac": "ENC[', dotenv: 'sops_mac=ENC[' };

function formatFor(name) {
  if (/\.ya?ml$/.test(name)) return 'yaml';
  if (/\.json$/.test(name) || /\.dockerconfigjson$/.test(name)) return 'json';
  if (/\.env$/.test(name)) return 'dotenv';
  return 'binary';
}

// Generator sources below relPath that Flux would decrypt in place before the build:
// [{file (absolute), format}] — secretGenerator files (format from the key) and envs
// (format from the path, dotenv by default), in kustomization files reachable via resources.
function decryptableSources(root, relPath, kfileIn, parse) {
  const out = [];
  const seen = new Set();
  const visit = (dir) => {
    if (seen.has(dir) || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return;
    seen.add(dir);
    const kf = kfileIn(dir);
    if (!kf) return;
    const k = parse(kf);
    for (const g of k.secretGenerator || []) {
      for (const src of g.files || []) {
        const s = splitSource(src);
        out.push({ file: path.resolve(dir, s.file), format: formatFor(s.key) });
      }
      for (const e of (g.envs || []).concat(g.env ? [g.env] : [])) {
        const f = formatFor(e);
        out.push({ file: path.resolve(dir, e), format: f === 'binary' ? 'dotenv' : f });
      }
    }
    for (const r of (k.resources || []).concat(k.components || [])) visit(path.resolve(dir, r));
  };
  visit(path.resolve(root, relPath || '.'));
  const rootAbs = path.resolve(root);
  return out.filter((s) => s.file.startsWith(rootAbs + path.sep) && fs.existsSync(s.file) && fs.lstatSync(s.file).isFile() &&
    fs.statSync(s.file).size <= 5 * 1024 * 1024 && fs.readFileSync(s.file, 'utf8').includes(MARKERS[s.format]));
}

module.exports = { generate, nameHash, goJson, decryptableSources, GeneratorError, parseEnvFile };
