#!/usr/bin/env node
// krew-check.js - checks krew plugin manifests by the rules krew's code and
// krew-index's validate-krew-manifest apply, and installs an archive the way
// `kubectl krew install --manifest=M --archive=A` does, into a KREW_ROOT.
// krew itself is not packaged for Debian; this is the project's own reading
// of its documented behaviour (../shared/spec/krew-and-completion.md §1).
//
//   krew-check.js validate MANIFEST...
//   krew-check.js install MANIFEST ARCHIVE KREW_ROOT [OS/ARCH]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const YAML = require(path.join(__dirname, '..', 'lab', 'node_modules', 'yaml'));

const API = 'krew.googlecontainertools.github.com/v1alpha2';
const KNOWN = ['linux/386', 'linux/amd64', 'linux/arm', 'linux/arm64',
  'linux/ppc64le', 'darwin/386', 'darwin/amd64', 'darwin/arm64',
  'windows/386', 'windows/amd64', 'windows/arm64'];
const DEVICES = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])$/i;
const LICENSES = ['license', 'license.txt', 'license.md', 'licenses',
  'licenses.txt', 'licenses.md', 'copying', 'copying.txt'];
const NUM = '(0|[1-9][0-9]*)';
const IDENT = '([0-9A-Za-z-]+)';
const SEMVER = new RegExp(`^v${NUM}\\.${NUM}\\.${NUM}` +
  `(-${IDENT}(\\.${IDENT})*)?(\\+${IDENT}(\\.${IDENT})*)?$`);

function fail(msg) { throw new Error(msg); }

function checkVersion(v) {
  if (!v || !SEMVER.test(v)) fail(`version "${v}" is not v + strict semver`);
  const pre = v.split('+')[0].split('-').slice(1).join('-');
  for (const part of pre ? pre.split('.') : [])
    if (/^[0-9]+$/.test(part) && part.length > 1 && part[0] === '0')
      fail(`version "${v}": numeric prerelease part with a leading zero`);
}

function checkSelector(sel, i) {
  if (!sel) fail(`platform ${i}: selector is missing`);
  const { matchLabels: ml, matchExpressions: me } = sel;
  if (ml === undefined && me === undefined)
    fail(`platform ${i}: selector has neither matchLabels nor matchExpressions`);
  if (ml !== undefined && Object.keys(ml || {}).length === 0)
    fail(`platform ${i}: empty matchLabels`);
  if (me !== undefined && (!Array.isArray(me) || me.length === 0))
    fail(`platform ${i}: empty matchExpressions`);
  for (const k of Object.keys(ml || {}))
    if (k !== 'os' && k !== 'arch') fail(`platform ${i}: selector key "${k}"`);
  for (const e of me || []) {
    if (e.key !== 'os' && e.key !== 'arch') fail(`platform ${i}: selector key "${e.key}"`);
    const withValues = e.operator === 'In' || e.operator === 'NotIn';
    const without = e.operator === 'Exists' || e.operator === 'DoesNotExist';
    if (!withValues && !without) fail(`platform ${i}: operator "${e.operator}"`);
    if (withValues && !(Array.isArray(e.values) && e.values.length))
      fail(`platform ${i}: ${e.operator} needs values`);
    if (without && e.values && e.values.length)
      fail(`platform ${i}: ${e.operator} takes no values`);
  }
}

function matches(sel, os, arch) {
  const labels = { os, arch };
  for (const [k, v] of Object.entries(sel.matchLabels || {}))
    if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions || []) {
    const has = e.values || [];
    if (e.operator === 'In' && !has.includes(labels[e.key])) return false;
    if (e.operator === 'NotIn' && has.includes(labels[e.key])) return false;
    if (e.operator === 'DoesNotExist') return false;
  }
  return true;
}

function validate(file) {
  if (path.extname(file) !== '.yaml') fail(`${file}: the extension must be .yaml`);
  const m = YAML.parse(fs.readFileSync(file, 'utf8'));
  const expected = path.basename(file, '.yaml');
  if (m.apiVersion !== API) fail(`apiVersion=${m.apiVersion} is not supported`);
  if (m.kind !== 'Plugin') fail(`kind=${m.kind}, not Plugin`);
  const name = m.metadata && m.metadata.name;
  if (!name || !/^[\w-]+$/.test(name) || DEVICES.test(name))
    fail(`invalid plugin name "${name}"`);
  if (name !== expected) fail(`plugin name "${name}" does not match file name "${expected}"`);
  const spec = m.spec || {};
  if (!spec.shortDescription || /[\r\n]/.test(spec.shortDescription))
    fail('shortDescription is empty or has a line break');
  checkVersion(spec.version);
  if (!Array.isArray(spec.platforms) || spec.platforms.length === 0)
    fail('no platforms');
  const claimed = new Map();
  spec.platforms.forEach((p, i) => {
    if (!p.uri) fail(`platform ${i}: uri is empty`);
    if (!/^[a-f0-9]{64}$/.test(p.sha256 || '')) fail(`platform ${i}: sha256 is not 64 lowercase hex digits`);
    if (!p.bin) fail(`platform ${i}: bin is empty`);
    if (p.files !== undefined) {
      if (!Array.isArray(p.files) || p.files.length === 0) fail(`platform ${i}: files is empty`);
      for (const f of p.files) if (!f.from || !f.to) fail(`platform ${i}: a files entry lacks from or to`);
    }
    checkSelector(p.selector, i);
    const hits = KNOWN.filter((pair) => matches(p.selector, ...pair.split('/')));
    if (!hits.length) fail(`platform ${i} matches no known os/arch`);
    for (const pair of hits) {
      if (claimed.has(pair)) fail(`overlapping selectors: ${pair} (platforms ${claimed.get(pair)} and ${i})`);
      claimed.set(pair, i);
    }
  });
  return m;
}

// ---- install ------------------------------------------------------------

function untar(buf, dest) {
  const entries = [];
  for (let off = 0; off + 512 <= buf.length; off += 512) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a, b) => h.subarray(a, b).toString('utf8').replace(/\0.*$/s, '');
    const name = (str(345, 500) ? str(345, 500) + '/' : '') + str(0, 100);
    const mode = parseInt(str(100, 108).trim() || '0', 8);
    const size = parseInt(str(124, 136).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    const data = buf.subarray(off + 512, off + 512 + size);
    off += Math.ceil(size / 512) * 512;
    if (type === 'g' || type === 'x' || name === 'pax_global_header') continue;
    if (name.includes('..') || name.startsWith('/') || name.startsWith('\\'))
      fail(`archive entry "${name}" is outside the archive`);
    const target = path.join(dest, name);
    if (type === '5') { fs.mkdirSync(target, { recursive: true }); continue; }
    if (type !== '0') fail(`unable to handle file type ${type} of "${name}"`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, data, { mode });
    fs.chmodSync(target, mode);
    entries.push(name);
  }
  return entries;
}

function clean(p) {
  return p === '.' || (!p.startsWith('/') && !p.startsWith('./') &&
    !p.endsWith('/') && !p.includes('//') && !p.split('/').includes('..'));
}

function globToRe(glob) {
  return new RegExp('^' + glob.split('').map((c) => (c === '*' ? '[^/]*'
    : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('') + '$');
}

function copyInto(src, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(src, path.join(dir, name), { recursive: true });
}

function applyFiles(files, from, to) {
  for (const f of files || [{ from: '*', to: '.' }]) {
    if (!clean(f.to)) fail(`the provided path is not clean: "${f.to}"`);
    const exact = path.join(from, f.from);
    if (fs.existsSync(exact)) {
      const dst = f.to === '.' ? path.join(to, path.basename(exact)) : path.join(to, f.to);
      copyInto(exact, path.dirname(dst), path.basename(dst));
      continue;
    }
    const re = globToRe(f.from);
    const all = (dir, rel = '') => fs.readdirSync(dir).flatMap((n) => {
      const r = rel ? `${rel}/${n}` : n;
      return [r, ...(fs.statSync(path.join(dir, n)).isDirectory() ? all(path.join(dir, n), r) : [])];
    });
    const hits = all(from).filter((r) => re.test(r));
    if (!hits.length) fail(`no files in the archive match "${f.from}"`);
    for (const h of hits) copyInto(path.join(from, h), path.join(to, f.to), path.basename(h));
  }
}

function install(manifestFile, archive, root, platform = 'linux/amd64') {
  const m = validate(manifestFile);
  const [os, arch] = platform.split('/');
  const p = m.spec.platforms.find((x) => matches(x.selector, os, arch));
  if (!p) fail(`plugin "${m.metadata.name}" does not offer installation for this platform`);
  const bytes = fs.readFileSync(archive);
  const got = crypto.createHash('sha256').update(bytes).digest('hex');
  if (got !== p.sha256) fail(`checksum does not match, want: ${p.sha256}, got ${got}`);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) fail('mime type is not a supported archive format (gzip only here)');
  fs.mkdirSync(root, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(root, 'extract-'));
  untar(zlib.gunzipSync(bytes), tmp);
  const store = path.join(root, 'store', m.metadata.name, m.spec.version);
  fs.mkdirSync(store, { recursive: true });
  applyFiles(p.files, tmp, store);
  fs.rmSync(tmp, { recursive: true });
  const installed = fs.readdirSync(store);
  if (!installed.some((n) => LICENSES.includes(n.toLowerCase())))
    fail('no license file among the installed files');
  const bin = path.join(store, p.bin);
  if (!fs.existsSync(bin) || !(fs.statSync(bin).mode & 0o111)) fail(`bin "${p.bin}" is missing or not executable`);
  const link = path.join(root, 'bin', 'kubectl-' + m.metadata.name.replace(/-/g, '_'));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.rmSync(link, { force: true });
  fs.symlinkSync(bin, link);
  console.log(`Installed plugin: ${m.metadata.name} -> ${link}`);
}

try {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'validate' && args.length) {
    for (const f of args) { validate(f); console.log(`${f}: valid`); }
  } else if (cmd === 'install' && args.length >= 3) {
    install(...args);
  } else {
    console.error('usage: krew-check.js validate MANIFEST... | install MANIFEST ARCHIVE KREW_ROOT [OS/ARCH]');
    process.exit(2);
  }
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exit(1);
}
