'use strict';
// A small kustomize: resources (files and directories), namespace, patches (target + inline or
// file, strategic merge or JSON 6902), patchesStrategicMerge, patchesJson6902, commonLabels.
// When the path has no kustomization file, every YAML manifest below it is taken (as Flux does).
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const P = require('../k8s/patch');
const G = require('./generators');

const KFILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const CLUSTER_KINDS = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'PersistentVolume', 'StorageClass',
  'PriorityClass', 'APIService', 'IngressClass', 'RuntimeClass', 'CSIDriver', 'Node']);

class BuildError extends Error {}

function kfileIn(dir) {
  for (const f of KFILES) if (fs.existsSync(path.join(dir, f))) return path.join(dir, f);
  return null;
}

function inside(root, p) {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function readObjects(file) {
  let docs;
  try {
    docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BuildError('failed to read ' + file + ': ' + e.message);
  }
  const out = [];
  for (const d of docs) {
    if (d.errors.length) throw new BuildError('MalformedYAMLError: ' + d.errors[0].message + ' in File: ' + path.basename(file));
    const o = d.toJS();
    if (o === null || o === undefined) continue;
    if (typeof o !== 'object' || Array.isArray(o)) throw new BuildError('missing Resource metadata in ' + path.basename(file));
    if (o.kind && /List$/.test(o.kind) && Array.isArray(o.items)) { out.push(...o.items); continue; }
    if (!o.apiVersion || !o.kind) throw new BuildError('missing Resource metadata in ' + path.basename(file));
    out.push(o);
  }
  return out;
}

function idOf(o) {
  const g = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return [g, o.kind, (o.metadata && o.metadata.namespace) || '', (o.metadata && o.metadata.name) || ''].join('|');
}

function groupVersion(o) {
  const [g, v] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  return { group: g, version: v };
}

function rx(v) {
  return new RegExp('^(?:' + v + ')$');
}

function labelsMatch(selector, labels) {
  for (const part of String(selector).split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^!=]+?)\s*(!=|==|=)\s*(.*)$/.exec(part);
    if (m) {
      const eq = (labels[m[1]] === m[3]);
      if (m[2] === '!=' ? eq : !eq) return false;
    } else if (part.startsWith('!')) {
      if (part.slice(1) in labels) return false;
    } else if (!(part in labels)) {
      return false;
    }
  }
  return true;
}

function matches(target, o) {
  const gv = groupVersion(o);
  const md = o.metadata || {};
  if (target.group !== undefined && !rx(target.group).test(gv.group)) return false;
  if (target.version !== undefined && !rx(target.version).test(gv.version)) return false;
  if (target.kind !== undefined && !rx(target.kind).test(o.kind)) return false;
  if (target.name !== undefined && !rx(target.name).test(md.name || '')) return false;
  if (target.namespace !== undefined && !rx(target.namespace).test(md.namespace || '')) return false;
  if (target.labelSelector && !labelsMatch(target.labelSelector, md.labels || {})) return false;
  if (target.annotationSelector && !labelsMatch(target.annotationSelector, md.annotations || {})) return false;
  return true;
}

function parsePatch(text, where) {
  let docs;
  try {
    docs = YAML.parseAllDocuments(text).map((d) => {
      if (d.errors.length) throw d.errors[0];
      return d.toJS();
    }).filter((x) => x !== null && x !== undefined);
  } catch (e) {
    throw new BuildError('failed to parse patch ' + where + ': ' + e.message);
  }
  return docs;
}

function applyPatchTo(o, patch) {
  if (Array.isArray(patch)) return P.jsonPatch(o, patch);
  const smp = structuredClone(patch);
  delete smp.apiVersion;
  delete smp.kind;
  if (smp.metadata) {
    delete smp.metadata.name;
    delete smp.metadata.namespace;
  }
  return P.strategicMerge(o, smp);
}

function patchSelf(resources, patch, where) {
  const md = patch.metadata || {};
  const i = resources.findIndex((o) => o.kind === patch.kind && (o.metadata || {}).name === md.name &&
    (!md.namespace || (o.metadata || {}).namespace === md.namespace));
  if (i < 0) {
    throw new BuildError('no resource matches strategic merge patch "' + patch.kind + '.' + (patch.apiVersion || '') + ' ' + (md.name || '') + '" (' + where + ')');
  }
  resources[i] = applyPatchTo(resources[i], patch);
}

function readPatchFile(root, dir, p) {
  const f = path.resolve(dir, p);
  if (!inside(root, f)) throw new BuildError('security; file \'' + f + '\' is not in or below \'' + root + '\'');
  if (!fs.existsSync(f)) throw new BuildError('failed to read patch file ' + p + ': no such file or directory');
  return fs.readFileSync(f, 'utf8');
}

function applyPatches(root, dir, k, resources) {
  for (const entry of k.patches || []) {
    const text = entry.patch !== undefined ? entry.patch : entry.path !== undefined ? readPatchFile(root, dir, entry.path) : null;
    if (text === null) throw new BuildError('patch entry must have either patch or path');
    const docs = parsePatch(text, entry.path || 'inline');
    const isJson = docs.length === 1 && Array.isArray(docs[0]);
    if (entry.target) {
      const targets = resources.map((o, i) => (matches(entry.target, o) ? i : -1)).filter((i) => i >= 0);
      for (const i of targets) for (const d of docs) resources[i] = applyPatchTo(resources[i], d);
    } else if (isJson) {
      throw new BuildError('unable to apply a JSON 6902 patch without a target');
    } else {
      for (const d of docs) patchSelf(resources, d, entry.path || 'inline');
    }
  }
  for (const p of k.patchesStrategicMerge || []) {
    const text = typeof p === 'string' && !p.includes('\n') && /\.ya?ml$/.test(p) ? readPatchFile(root, dir, p) : (typeof p === 'string' ? p : YAML.stringify(p));
    for (const d of parsePatch(text, typeof p === 'string' ? p : 'inline')) patchSelf(resources, d, 'patchesStrategicMerge');
  }
  for (const j of k.patchesJson6902 || []) {
    const text = j.patch !== undefined ? j.patch : readPatchFile(root, dir, j.path);
    const ops = parsePatch(text, j.path || 'inline')[0];
    const targets = resources.map((o, i) => (matches(j.target || {}, o) ? i : -1)).filter((i) => i >= 0);
    for (const i of targets) resources[i] = P.jsonPatch(resources[i], ops);
  }
}

function yamlFilesBelow(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...yamlFilesBelow(p));
    else if (e.isFile() && /\.ya?ml$/.test(e.name) && !KFILES.includes(e.name)) out.push(p);
  }
  return out;
}

function buildDir(root, dir, seen, read) {
  if (seen.has(dir)) throw new BuildError('cycle detected: ' + dir);
  seen.add(dir);
  const kf = kfileIn(dir);
  if (!kf) {
    const objs = [];
    for (const f of yamlFilesBelow(dir)) {
      for (const o of readObjects(f)) if (o.apiVersion && o.kind) objs.push(o);
    }
    return objs;
  }
  let k;
  try {
    k = YAML.parse(fs.readFileSync(kf, 'utf8')) || {};
  } catch (e) {
    throw new BuildError('failed to parse ' + path.relative(root, kf) + ': ' + e.message);
  }
  if (k.kind && k.kind !== 'Kustomization' && k.kind !== 'Component') {
    throw new BuildError('wrong kind ' + k.kind + ' in ' + path.relative(root, kf));
  }
  let resources = [];
  const ids = new Set();
  for (const r of (k.resources || []).concat(k.bases || [])) {
    const p = path.resolve(dir, r);
    if (/^[a-z]+:\/\//.test(r)) throw new BuildError('remote resources are not supported by the lab: ' + r);
    if (!inside(root, p)) throw new BuildError('security; file \'' + p + '\' is not in or below \'' + root + '\'');
    if (!fs.existsSync(p)) throw new BuildError('accumulating resources: accumulation err=\'accumulating resources from \'' + r + '\': open ' + p + ': no such file or directory\'');
    const objs = fs.statSync(p).isDirectory() ? buildDir(root, p, seen, read) : readObjects(p);
    for (const o of objs) {
      const id = idOf(o);
      if (ids.has(id)) throw new BuildError('may not add resource with an already registered id: ' + o.kind + '.' + o.apiVersion + ' ' + o.metadata.name);
      ids.add(id);
      resources.push(o);
    }
  }
  try {
    for (const g of k.secretGenerator || []) resources.push(G.generate('Secret', g, dir, secure(root, read), k.generatorOptions));
    for (const g of k.configMapGenerator || []) resources.push(G.generate('ConfigMap', g, dir, secure(root, read), k.generatorOptions));
  } catch (e) {
    throw new BuildError(e.message);
  }
  if (k.namespace) {
    resources = resources.map((o) => {
      if (CLUSTER_KINDS.has(o.kind)) return o;
      const c = structuredClone(o);
      c.metadata = Object.assign({}, c.metadata, { namespace: k.namespace });
      return c;
    });
  }
  if (k.commonLabels) {
    resources = resources.map((o) => {
      const c = structuredClone(o);
      c.metadata = c.metadata || {};
      c.metadata.labels = Object.assign({}, c.metadata.labels, k.commonLabels);
      return c;
    });
  }
  applyPatches(root, dir, k, resources);
  return resources;
}

function secure(root, read) {
  return (f) => {
    if (!inside(root, f)) throw new BuildError('security; file \'' + f + '\' is not in or below \'' + root + '\'');
    if (!fs.existsSync(f)) throw new BuildError('open ' + f + ': no such file or directory');
    return read(f);
  };
}

// Generator sources Flux decrypts before building (see generators.js).
function decryptableSources(root, relPath) {
  return G.decryptableSources(root, relPath, kfileIn, (kf) => YAML.parse(fs.readFileSync(kf, 'utf8')) || {});
}

// build(repoRoot, relPath, {read}) -> [objects]; read(absPath) -> Buffer serves generator
// sources (Flux decrypts those into its working copy before the build).
function build(root, relPath, opts = {}) {
  const read = opts.read || ((f) => fs.readFileSync(f));
  const dir = path.resolve(root, relPath || '.');
  if (!inside(root, dir)) throw new BuildError('path \'' + relPath + '\' is outside the source');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new BuildError('kustomization path not found: stat ' + dir + ': no such file or directory');
  }
  return buildDir(path.resolve(root), dir, new Set(), read);
}

module.exports = { build, decryptableSources, BuildError, matches, CLUSTER_KINDS };
