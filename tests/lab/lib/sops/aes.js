'use strict';
// AES-256-GCM value encryption as sops writes it: ENC[AES256_GCM,data:..,iv:..,tag:..,type:..]
const crypto = require('node:crypto');

const PREFIX = 'ENC[AES256_GCM,data:';
const TYPES = new Set(['str', 'int', 'float', 'bool', 'time', 'bytes', 'comment']);

class SopsError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

function isEncrypted(text) {
  return typeof text === 'string' && text.startsWith(PREFIX);
}

// Split the token the way sops does: anchored prefix, then greedy splits.
function parseEnc(text) {
  if (!isEncrypted(text)) {
    throw new SopsError('Input string ' + JSON.stringify(text) + ' does not match sops\' data format', 25);
  }
  const rest = text.slice(PREFIX.length);
  const ivAt = rest.lastIndexOf(',iv:');
  const tagAt = rest.lastIndexOf(',tag:');
  const typeAt = rest.lastIndexOf(',type:');
  const end = rest.lastIndexOf(']');
  if (ivAt < 0 || tagAt < ivAt || typeAt < tagAt || end < typeAt) {
    throw new SopsError('Input string does not match sops\' data format', 25);
  }
  const parts = {
    data: rest.slice(0, ivAt),
    iv: rest.slice(ivAt + 4, tagAt),
    tag: rest.slice(tagAt + 5, typeAt),
    type: rest.slice(typeAt + 6, end),
  };
  if (!parts.iv || !parts.tag || !parts.type) {
    throw new SopsError('Input string does not match sops\' data format', 25);
  }
  if (!TYPES.has(parts.type)) throw new SopsError('Unknown datatype: ' + parts.type, 25);
  return {
    data: Buffer.from(parts.data, 'base64'),
    iv: Buffer.from(parts.iv, 'base64'),
    tag: Buffer.from(parts.tag, 'base64'),
    type: parts.type,
  };
}

// Returns {type, bytes}: the plaintext bytes exactly as stored (canonical form).
function decryptRaw(text, key, aad) {
  const p = parseEnc(text);
  if (p.iv.length === 0 || p.tag.length !== 16) throw new SopsError('Could not decrypt value: bad iv or tag', 25);
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', key, p.iv, { authTagLength: 16 });
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(p.tag);
    const bytes = Buffer.concat([d.update(p.data), d.final()]);
    return { type: p.type, bytes };
  } catch (e) {
    throw new SopsError('Could not decrypt value: cipher: message authentication failed', 25);
  }
}

function encryptRaw(bytes, type, key, aad) {
  const iv = crypto.randomBytes(32);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  c.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([c.update(bytes), c.final()]);
  const tag = c.getAuthTag();
  return PREFIX + data.toString('base64') + ',iv:' + iv.toString('base64') +
    ',tag:' + tag.toString('base64') + ',type:' + type + ']';
}

module.exports = { SopsError, isEncrypted, parseEnc, decryptRaw, encryptRaw, PREFIX };
