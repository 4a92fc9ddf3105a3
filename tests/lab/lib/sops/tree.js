'use strict';
// The sops tree: typed scalars, maps, sequences and comments; encryption rules,
// per-leaf AAD, and the MAC (SHA-512 over canonical plaintexts).
const crypto = require('node:crypto');
const { SopsError, isEncrypted, decryptRaw, encryptRaw } = require('./aes');

// Node shapes:
//   {t:'map', items:[{k, v} | {comment}]}   {t:'seq', items:[node | {comment}]}
//   {t:'str'|'int'|'float'|'bool'|'null'|'time'|'bytes', v}

function goFloat(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Object.is(x, -0)) return '-0';
  let s = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const digits = m[2] + (m[3] || '');
  const exp = parseInt(m[4], 10);
  if (exp >= 0) {
    const pad = exp + 1 - digits.length;
    s = pad >= 0 ? digits + '0'.repeat(pad) : digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  } else {
    s = '0.' + '0'.repeat(-exp - 1) + digits;
  }
  return m[1] + s;
}

function goTime(d) {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return iso.replace(/\.(\d*?)0*Z$/, (all, frac) => (frac ? '.' + frac + 'Z' : 'Z'));
}

function canonical(node) {
  switch (node.t) {
    case 'str': return Buffer.from(node.v, 'utf8');
    case 'bytes': return Buffer.from(node.v);
    case 'int': return Buffer.from(node.v.toString());
    case 'float': return Buffer.from(goFloat(node.v));
    case 'bool': return Buffer.from(node.v ? 'True' : 'False');
    case 'time': return Buffer.from(goTime(node.v));
    default: throw new SopsError('unknown type ' + node.t, 25);
  }
}

function fromBytes(type, bytes) {
  const s = bytes.toString('utf8');
  switch (type) {
    case 'str': return { t: 'str', v: s, raw: bytes };
    case 'bytes': return { t: 'bytes', v: bytes };
    case 'int': {
      if (!/^-?\d+$/.test(s)) throw new SopsError('Error decoding int ' + s, 25);
      return { t: 'int', v: BigInt(s) };
    }
    case 'float': return { t: 'float', v: s === '+Inf' ? Infinity : s === '-Inf' ? -Infinity : Number(s) };
    case 'bool': {
      if (/^(1|t|T|TRUE|true|True)$/.test(s)) return { t: 'bool', v: true };
      if (/^(0|f|F|FALSE|false|False)$/.test(s)) return { t: 'bool', v: false };
      throw new SopsError('Error decoding bool ' + s, 25);
    }
    case 'time': return { t: 'time', v: new Date(s) };
    case 'comment': return { t: 'comment', v: s };
    default: throw new SopsError('Unknown datatype: ' + type, 25);
  }
}

const RULES = ['unencrypted_suffix', 'encrypted_suffix', 'unencrypted_regex', 'encrypted_regex',
  'unencrypted_comment_regex', 'encrypted_comment_regex'];

function cryptRule(md, binary) {
  const set = RULES.filter((r) => md[r] !== undefined && md[r] !== null && md[r] !== '');
  if (set.length > 1) throw new SopsError('Cannot use more than one of ' + RULES.join(', '), 8);
  if (binary && set.length === 0) return { name: 'all' };
  if (set.length === 0) return { name: 'unencrypted_suffix', value: '_unencrypted' };
  const name = set[0];
  const value = String(md[name]);
  return { name, value, re: name.endsWith('regex') ? new RegExp(value) : null };
}

// path: list of keys; comments: active comment texts (decrypted where possible).
function shouldEncrypt(rule, path, comments, selfComment) {
  switch (rule.name) {
    case 'all': return true;
    case 'unencrypted_suffix': return !path.some((k) => k.endsWith(rule.value));
    case 'encrypted_suffix': return path.some((k) => k.endsWith(rule.value));
    case 'unencrypted_regex': return !path.some((k) => rule.re.test(k));
    case 'encrypted_regex': return path.some((k) => rule.re.test(k));
    case 'unencrypted_comment_regex': return !comments.some((c) => rule.re.test(c));
    case 'encrypted_comment_regex':
      return comments.some((c) => c !== selfComment && rule.re.test(c));
    default: return true;
  }
}

function aadOf(path) {
  return path.length ? path.join(':') + ':' : '';
}

// Walk and decrypt in place. ctx: {key, rule, hash, macOnlyEncrypted}
function decryptNode(node, path, active, ctx) {
  if (node.t === 'map') return decryptItems(node, path, active, ctx, true);
  if (node.t === 'seq') return decryptItems(node, path, active, ctx, false);
  if (node.t === 'null') return node;
  const enc = shouldEncrypt(ctx.rule, path, active);
  let out = node;
  if (enc) {
    if (node.t === 'str' && node.v === '') {
      out = node;
    } else if (node.t !== 'str') {
      throw new SopsError('Error decrypting tree: Error walking tree: Could not decrypt value: Expected encrypted value as string', 25);
    } else if (!isEncrypted(node.v)) {
      throw new SopsError('Error decrypting tree: Error walking tree: Could not decrypt value: Input string ' +
        JSON.stringify(node.v) + ' does not match sops\' data format', 25);
    } else {
      let raw;
      try {
        raw = decryptRaw(node.v, ctx.key, aadOf(path));
      } catch (e) {
        throw new SopsError('Error decrypting tree: Error walking tree: ' + e.message, 25);
      }
      out = fromBytes(raw.type, raw.bytes);
      if (out.t === 'comment') return out;
      ctx.hash.update(raw.bytes);
      return out;
    }
  }
  if (!(ctx.macOnlyEncrypted && !enc)) ctx.hash.update(canonical(out));
  return out;
}

// A comment's AAD is the path of its container; try the enclosing containers too (placement
// of comments varies between writers), and keep the comment as-is when none opens it.
function decryptComment(text, path, ctx) {
  const t = text.trim();
  if (!isEncrypted(t)) return text;
  const tries = [];
  for (let n = path.length; n > 0; n--) tries.push(aadOf(path.slice(0, n)));
  tries.push(':', '');
  for (const aad of tries) {
    try {
      return decryptRaw(t, ctx.key, aad).bytes.toString('utf8');
    } catch (e) {
      // not this container
    }
  }
  return text;
}

function decryptItems(node, path, active, ctx, isMap) {
  const level = [];
  const items = [];
  for (const it of node.items) {
    if (it.comment !== undefined) {
      const text = decryptComment(it.comment, path, ctx);
      level.push(text);
      items.push({ comment: text });
      continue;
    }
    const child = isMap ? it.v : it;
    const childPath = isMap ? path.concat([String(it.k)]) : path;
    const res = decryptNode(child, childPath, active.concat(level), ctx);
    level.length = 0;
    if (res.t === 'comment') {
      items.push({ comment: res.v });
      continue;
    }
    items.push(isMap ? { k: it.k, v: res } : res);
  }
  return { t: node.t, items };
}

const SOPS_HASH = Buffer.from('8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69', 'hex');

function newHash(md) {
  const h = crypto.createHash('sha512');
  if (md.mac_only_encrypted === true || md.mac_only_encrypted === 'true') h.update(SOPS_HASH);
  return h;
}

// Go's RFC 3339 re-format of lastmodified (seconds, Z for UTC).
function macAad(lastmodified) {
  const s = String(lastmodified);
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.exec(s);
  if (!m) throw new SopsError('Could not parse lastmodified ' + JSON.stringify(s), 25);
  const off = m[3].toUpperCase() === 'Z' || m[3] === '+00:00' || m[3] === '-00:00' ? 'Z' : m[3];
  return m[1] + off;
}

function verifyMac(md, key, computed) {
  if (!md.mac) {
    throw new SopsError('MAC mismatch. File has no MAC, computed ' + computed, 51);
  }
  let stored;
  try {
    stored = decryptRaw(md.mac, key, macAad(md.lastmodified)).bytes.toString('utf8');
  } catch (e) {
    throw new SopsError('Cannot decrypt MAC: ' + e.message, 51);
  }
  if (stored !== computed) throw new SopsError('MAC mismatch. File has ' + stored + ', computed ' + computed, 51);
}

// Encryption of a tree (for fixtures and tests).
function encryptNode(node, path, ctx) {
  if (node.t === 'map' || node.t === 'seq') {
    const isMap = node.t === 'map';
    return {
      t: node.t,
      items: node.items.map((it) => {
        if (it.comment !== undefined) return it;
        if (isMap) return { k: it.k, v: encryptNode(it.v, path.concat([String(it.k)]), ctx) };
        return encryptNode(it, path, ctx);
      }),
    };
  }
  if (node.t === 'null') return node;
  const enc = shouldEncrypt(ctx.rule, path, []);
  const bytes = canonical(node);
  if (!(ctx.macOnlyEncrypted && !enc)) ctx.hash.update(bytes);
  if (!enc || (node.t === 'str' && node.v === '')) return node;
  return { t: 'str', v: encryptRaw(bytes, node.t, ctx.key, aadOf(path)) };
}

module.exports = {
  goFloat, goTime, canonical, cryptRule, shouldEncrypt, aadOf, decryptNode, encryptNode,
  newHash, verifyMac, macAad, encryptRaw,
};
