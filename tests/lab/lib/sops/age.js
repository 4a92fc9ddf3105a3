'use strict';
// age v1 decryption (X25519 recipients only), armored or binary, written from the age spec.
const crypto = require('node:crypto');

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values) {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i];
  }
  return chk >>> 0;
}

function hrpExpand(hrp) {
  const out = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

function bech32Decode(str) {
  const lower = str.toLowerCase();
  if (str !== lower && str !== str.toUpperCase()) throw new Error('mixed case bech32 string');
  const pos = lower.lastIndexOf('1');
  if (pos < 1 || pos + 7 > lower.length) throw new Error('invalid bech32 separator position');
  const hrp = lower.slice(0, pos);
  const data = [];
  for (const c of lower.slice(pos + 1)) {
    const v = CHARSET.indexOf(c);
    if (v < 0) throw new Error('invalid bech32 character');
    data.push(v);
  }
  if (polymod(hrpExpand(hrp).concat(data)) !== 1) throw new Error('invalid bech32 checksum');
  const words = data.slice(0, -6);
  let acc = 0;
  let bits = 0;
  const bytes = [];
  for (const w of words) {
    acc = (acc << 5) | w;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  if (bits >= 5 || (acc & ((1 << bits) - 1))) throw new Error('invalid bech32 padding');
  return { hrp, bytes: Buffer.from(bytes) };
}

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

function x25519Private(scalar) {
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, scalar]), format: 'der', type: 'pkcs8' });
}

function x25519Public(raw) {
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
}

function rawPublic(privKey) {
  const der = crypto.createPublicKey(privKey).export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

// Parse identities text (one per line, # comments) into [{scalar, key, pub, recipient}].
function parseIdentities(text) {
  const ids = [];
  for (const raw of String(text).split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    for (const tok of line.split(/\s+/)) {
      if (!tok.toUpperCase().startsWith('AGE-SECRET-KEY-1')) continue;
      const { hrp, bytes } = bech32Decode(tok);
      if (hrp !== 'age-secret-key-' || bytes.length !== 32) throw new Error('malformed age identity');
      const key = x25519Private(bytes);
      ids.push({ key, pub: rawPublic(key) });
    }
  }
  return ids;
}

function b64raw(str) {
  if (/[=\s]/.test(str) || !/^[A-Za-z0-9+/]*$/.test(str)) throw new Error('invalid base64 in age header');
  const buf = Buffer.from(str, 'base64');
  if (buf.toString('base64').replace(/=+$/, '') !== str) throw new Error('non-canonical base64 in age header');
  return buf;
}

function dearmor(text) {
  const s = String(text).trim();
  if (!s.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')) return Buffer.from(text, 'binary');
  const lines = s.split(/\r?\n/).map((l) => l.trim());
  if (lines[lines.length - 1] !== '-----END AGE ENCRYPTED FILE-----') throw new Error('invalid armor footer');
  return Buffer.from(lines.slice(1, -1).join(''), 'base64');
}

function hkdf(ikm, salt, info) {
  return Buffer.from(crypto.hkdfSync('sha256', ikm, salt, Buffer.from(info), 32));
}

function chachaOpen(key, nonce, data) {
  if (data.length < 16) throw new Error('ciphertext too short');
  const d = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  d.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]);
}

function chachaSeal(key, nonce, data) {
  const c = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  return Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
}

function parseHeader(buf) {
  const text = buf.toString('latin1');
  if (!text.startsWith('age-encryption.org/v1\n')) throw new Error('unknown age format version');
  const macAt = text.indexOf('\n---');
  if (macAt < 0) throw new Error('age header has no MAC line');
  const lineEnd = text.indexOf('\n', macAt + 1);
  const macLine = text.slice(macAt + 1, lineEnd);
  const stanzas = [];
  const lines = text.slice('age-encryption.org/v1\n'.length, macAt).split('\n');
  let cur = null;
  for (const line of lines) {
    if (line.startsWith('-> ')) {
      cur = { args: line.slice(3).split(' '), body: '' };
      stanzas.push(cur);
    } else if (cur) {
      cur.body += line;
    }
  }
  return {
    stanzas,
    hdr: buf.subarray(0, macAt + 4),
    mac: b64raw(macLine.slice(4)),
    payload: buf.subarray(lineEnd + 1),
  };
}

function unwrapStanza(st, id) {
  if (st.args[0] !== 'X25519' || st.args.length !== 2) return null;
  const share = b64raw(st.args[1]);
  const body = b64raw(st.body);
  if (share.length !== 32 || body.length !== 32) throw new Error('invalid X25519 stanza');
  const shared = crypto.diffieHellman({ privateKey: id.key, publicKey: x25519Public(share) });
  if (shared.every((b) => b === 0)) throw new Error('invalid X25519 share');
  const wrap = hkdf(shared, Buffer.concat([share, id.pub]), 'age-encryption.org/v1/X25519');
  try {
    return chachaOpen(wrap, Buffer.alloc(12), body);
  } catch (e) {
    return null;
  }
}

function openPayload(fileKey, payload) {
  const nonce = payload.subarray(0, 16);
  const key = hkdf(fileKey, nonce, 'payload');
  const out = [];
  const CH = 64 * 1024 + 16;
  let rest = payload.subarray(16);
  for (let i = 0; ; i++) {
    const last = rest.length <= CH;
    const chunk = rest.subarray(0, Math.min(CH, rest.length));
    const n = Buffer.alloc(12);
    n.writeUIntBE(i, 5, 6);
    n[11] = last ? 1 : 0;
    out.push(chachaOpen(key, n, chunk));
    rest = rest.subarray(chunk.length);
    if (last) break;
  }
  return Buffer.concat(out);
}

// Decrypt an (armored) age file with a list of identities from parseIdentities.
function decrypt(text, identities) {
  const h = parseHeader(dearmor(text));
  let fileKey = null;
  for (const st of h.stanzas) {
    for (const id of identities) {
      fileKey = unwrapStanza(st, id);
      if (fileKey) break;
    }
    if (fileKey) break;
  }
  if (!fileKey) throw new Error('no identity matched any of the recipients');
  const macKey = hkdf(fileKey, Buffer.alloc(0), 'header');
  const mac = crypto.createHmac('sha256', macKey).update(h.hdr).digest();
  if (!crypto.timingSafeEqual(mac, h.mac)) throw new Error('bad header MAC');
  return openPayload(fileKey, h.payload);
}

function armor(buf) {
  const b64 = buf.toString('base64');
  const lines = b64.match(/.{1,64}/g) || [];
  return '-----BEGIN AGE ENCRYPTED FILE-----\n' + lines.join('\n') + '\n-----END AGE ENCRYPTED FILE-----\n';
}

function recipientKey(recipient) {
  const { hrp, bytes } = bech32Decode(recipient);
  if (hrp !== 'age' || bytes.length !== 32) throw new Error('malformed age recipient');
  return bytes;
}

// Encrypt (armored), used by tests and the lab's own fixtures.
function encrypt(plain, recipient) {
  const pub = recipientKey(recipient);
  const fileKey = crypto.randomBytes(16);
  const { privateKey } = crypto.generateKeyPairSync('x25519');
  const share = rawPublic(privateKey);
  const shared = crypto.diffieHellman({ privateKey, publicKey: x25519Public(pub) });
  const wrap = hkdf(shared, Buffer.concat([share, pub]), 'age-encryption.org/v1/X25519');
  const body = chachaSeal(wrap, Buffer.alloc(12), fileKey);
  const raw = (b) => b.toString('base64').replace(/=+$/, '');
  const hdr = 'age-encryption.org/v1\n-> X25519 ' + raw(share) + '\n' + raw(body) + '\n---';
  const mac = crypto.createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(hdr).digest();
  const nonce = crypto.randomBytes(16);
  const n = Buffer.alloc(12);
  n[11] = 1;
  const payload = chachaSeal(hkdf(fileKey, nonce, 'payload'), n, plain);
  return armor(Buffer.concat([Buffer.from(hdr + ' ' + raw(mac) + '\n'), nonce, payload]));
}

module.exports = { bech32Decode, parseIdentities, decrypt, encrypt, dearmor };
