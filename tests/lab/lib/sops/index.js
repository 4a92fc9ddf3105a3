'use strict';
// Independent SOPS decryption for the lab (second implementation next to the C code).
const crypto = require('node:crypto');
const { SopsError } = require('./aes');
const tree = require('./tree');
const stores = require('./stores');
const age = require('./age');
const shamir = require('./shamir');

const TYPE_ORDER = ['kms', 'gcp_kms', 'hckms', 'azure_kv', 'hc_vault', 'pgp', 'age'];
const DEFAULT_DECRYPTION_ORDER = ['age', 'pgp'];

function keyId(type, k) {
  switch (type) {
    case 'age': return k.recipient;
    case 'azure_kv': return k.vault_url + '/keys/' + k.name + '/' + (k.version || '');
    case 'pgp': return k.fp;
    case 'kms': return k.arn;
    case 'gcp_kms': return k.resource_id;
    case 'hc_vault': return k.vault_address + '/v1/' + k.engine_path + '/keys/' + k.key_name;
    default: return k.key_id || type;
  }
}

function groupOf(src) {
  const keys = [];
  for (const type of TYPE_ORDER) {
    for (const k of src[type] || []) keys.push({ type, k, id: keyId(type, k) });
  }
  const rank = (t) => {
    const i = DEFAULT_DECRYPTION_ORDER.indexOf(t);
    return i < 0 ? DEFAULT_DECRYPTION_ORDER.length : i;
  };
  return keys.map((x, i) => ({ x, i })).sort((a, b) => rank(a.x.type) - rank(b.x.type) || a.i - b.i).map((e) => e.x);
}

function keyGroups(md) {
  const flat = TYPE_ORDER.some((t) => Array.isArray(md[t]) && md[t].length > 0);
  if (flat) return [groupOf(md)];
  if (Array.isArray(md.key_groups) && md.key_groups.length) return md.key_groups.map(groupOf);
  throw new SopsError('No keys found in file', 128);
}

async function unwrap(entry, opts) {
  switch (entry.type) {
    case 'age': {
      const ids = opts.ageIdentities || [];
      if (!ids.length) throw new Error('failed to load age identities: no age identity found');
      try {
        return age.decrypt(entry.k.enc, ids);
      } catch (e) {
        throw new Error('failed to create reader for decrypting sops data key with age: ' + e.message);
      }
    }
    case 'azure_kv': {
      if (!opts.azureDecrypt) throw new Error('no Azure Key Vault credentials available');
      const url = keyId('azure_kv', entry.k);
      try {
        return await opts.azureDecrypt({ vaultUrl: entry.k.vault_url, name: entry.k.name, version: entry.k.version, enc: entry.k.enc });
      } catch (e) {
        throw new Error('failed to decrypt sops data key with Azure Key Vault key \'' + url + '\': ' + e.message);
      }
    }
    default:
      throw new Error('master key type ' + entry.type + ' is not supported by the lab');
  }
}

function indentErr(msg) {
  const lines = String(msg).split('\n');
  return '    - | ' + lines[0] + lines.slice(1).map((l) => '\n      | ' + l).join('');
}

// Recover the data key: {key, groupsFailed}. Throws a sops-shaped error.
async function dataKey(md, opts) {
  const groups = keyGroups(md);
  const threshold = groups.length > 1 ? parseInt(md.shamir_threshold || groups.length, 10) : 1;
  const parts = [];
  const report = [];
  for (let gi = 0; gi < groups.length; gi++) {
    const errs = [];
    let got = null;
    for (const entry of groups[gi]) {
      try {
        got = await unwrap(entry, opts);
        break;
      } catch (e) {
        errs.push({ id: entry.id, message: e.message });
      }
    }
    if (got) parts.push(got);
    else report.push({ group: gi, errs });
  }
  if (groups.length === 1 && parts.length === 1) return parts[0];
  if (groups.length > 1 && parts.length >= threshold) return shamir.combine(parts);
  let msg = 'Failed to get the data key required to decrypt the SOPS file.\n';
  for (const r of report) {
    msg += '\nGroup ' + r.group + ': FAILED\n';
    for (const e of r.errs) msg += '  ' + e.id + ': FAILED\n' + indentErr(e.message) + '\n';
  }
  if (groups.length === 1) {
    msg += '\nRecovery failed because no master key was able to decrypt the file. In\n' +
      'order for SOPS to recover the file, at least one key has to be successful,\n' +
      'but none were.';
  } else {
    msg += '\nRecovery failed because the file was encrypted with a Shamir threshold of ' + threshold +
      ', but only ' + parts.length + ' part(s) were successfully recovered, one for each successful key group.';
  }
  const err = new SopsError(msg, 128);
  err.groups = report;
  throw err;
}

function metadataOf(mdNode) {
  if (!mdNode || mdNode.t !== 'map') throw new SopsError('sops metadata not found', 2);
  return stores.toPlain(mdNode);
}

// decrypt(text, {format|filename, ageIdentities (text or parsed), azureDecrypt, ignoreMac})
// -> {trees, plain (first document as JS), docs (all as JS), output (Buffer|string), metadata}
async function decrypt(text, opts = {}) {
  const format = opts.format || stores.formatFor(opts.filename || '');
  const parsed = stores.parse(text, format);
  const md = metadataOf(parsed.md);
  if (!md.lastmodified && !opts.ignoreMac) throw new SopsError('no lastmodified in sops metadata', 128);
  const o = Object.assign({}, opts);
  if (typeof o.ageIdentities === 'string') o.ageIdentities = age.parseIdentities(o.ageIdentities);
  const key = await dataKey(md, o);
  if (key.length !== 32) throw new SopsError('data key has length ' + key.length + ', expected 32', 128);
  const ctx = {
    key, rule: tree.cryptRule(md, format === 'binary'), hash: tree.newHash(md),
    macOnlyEncrypted: md.mac_only_encrypted === true || md.mac_only_encrypted === 'true',
  };
  const trees = parsed.trees.map((t) => tree.decryptNode(t, [], [], ctx));
  const computed = ctx.hash.digest('hex').toUpperCase();
  if (!opts.ignoreMac) tree.verifyMac(md, key, computed);
  return {
    trees,
    metadata: md,
    mac: computed,
    docs: trees.map(stores.toPlain),
    plain: stores.toPlain(trees[0]),
    output: stores.emit(trees, format),
  };
}

// Encrypt a plain JS object as YAML/JSON sops document. wrap: async (dataKey) -> metadata key lists
// e.g. {azure_kv:[...]} or {age:[...]}.
async function encryptObject(obj, opts) {
  const key = crypto.randomBytes(32);
  const md = Object.assign({}, await opts.wrap(key));
  if (opts.encrypted_regex) md.encrypted_regex = opts.encrypted_regex;
  else md.unencrypted_suffix = '_unencrypted';
  const ctx = { key, rule: tree.cryptRule(md, false), hash: tree.newHash(md), macOnlyEncrypted: false };
  const encTree = tree.encryptNode(stores.fromPlain(obj), [], ctx);
  md.lastmodified = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  md.mac = tree.encryptRaw(Buffer.from(ctx.hash.digest('hex').toUpperCase()), 'str', key, md.lastmodified);
  md.version = '3.13.2';
  const out = stores.toPlain(encTree);
  out.sops = md;
  return out;
}

module.exports = { decrypt, encryptObject, dataKey, SopsError, age, shamir, stores, tree };
