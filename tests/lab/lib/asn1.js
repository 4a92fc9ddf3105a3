'use strict';
// Minimal DER encoder: just what X.509 certificate generation needs.

function encodeLength(n) {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = [];
  while (n > 0) { bytes.unshift(n & 0xff); n >>= 8; }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag, content) {
  const body = Buffer.isBuffer(content) ? content : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

const seq = (...items) => tlv(0x30, items);
const set = (...items) => tlv(0x31, items);
const explicit = (n, item) => tlv(0xa0 + n, [item]);
const implicitPrim = (n, content) => tlv(0x80 + n, content);
const octets = (buf) => tlv(0x04, buf);
const utf8 = (s) => tlv(0x0c, Buffer.from(s, 'utf8'));
const nul = () => Buffer.from([0x05, 0x00]);
const bool = (b) => tlv(0x01, Buffer.from([b ? 0xff : 0x00]));

function integer(value) {
  let buf = Buffer.isBuffer(value) ? value : bigToBuf(BigInt(value));
  let i = 0;
  while (i < buf.length - 1 && buf[i] === 0 && buf[i + 1] < 0x80) i++;
  buf = buf.subarray(i);
  if (buf[0] & 0x80) buf = Buffer.concat([Buffer.from([0]), buf]);
  return tlv(0x02, buf);
}

function bigToBuf(n) {
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex');
}

function oid(dotted) {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) { chunk.unshift((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function bitString(buf) {
  return tlv(0x03, [Buffer.from([0]), buf]);
}

function time(date) {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  if (date.getUTCFullYear() < 2050) return tlv(0x17, Buffer.from(iso.slice(2)));
  return tlv(0x18, Buffer.from(iso));
}

module.exports = {
  tlv, seq, set, explicit, implicitPrim, octets, utf8, nul, bool,
  integer, oid, bitString, time,
};
