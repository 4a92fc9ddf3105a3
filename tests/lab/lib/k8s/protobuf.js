'use strict';
// Just enough of the Kubernetes protobuf encoding to read what kubectl's typed
// clients send to the lab: the runtime.Unknown envelope and a TokenRequest.
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function readVarint(buf, pos) {
  let value = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    value |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [value, pos];
    shift += 7n;
  }
}

// Returns [{field, wire, value}] (value: BigInt for varints, Buffer otherwise).
function fields(buf) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    pos = p1;
    if (wire === 0) { const [v, p] = readVarint(buf, pos); out.push({ field, wire, value: v }); pos = p; continue; }
    if (wire === 2) {
      const [len, p] = readVarint(buf, pos);
      const end = p + Number(len);
      if (end > buf.length) throw new Error('truncated field');
      out.push({ field, wire, value: buf.subarray(p, end) }); pos = end; continue;
    }
    if (wire === 1) { out.push({ field, wire, value: buf.subarray(pos, pos + 8) }); pos += 8; continue; }
    if (wire === 5) { out.push({ field, wire, value: buf.subarray(pos, pos + 4) }); pos += 4; continue; }
    throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const str = (f) => f.value.toString('utf8');

function unwrap(buf) {
  if (!buf.subarray(0, 4).equals(MAGIC)) throw new Error('missing protobuf magic');
  const env = fields(buf.subarray(4));
  const typeMeta = env.find((f) => f.field === 1);
  const raw = env.find((f) => f.field === 2);
  const meta = typeMeta ? fields(typeMeta.value) : [];
  return {
    apiVersion: meta.filter((f) => f.field === 1).map(str)[0] || '',
    kind: meta.filter((f) => f.field === 2).map(str)[0] || '',
    raw: raw ? raw.value : Buffer.alloc(0),
  };
}

function boundObjectRef(buf) {
  const names = { 1: 'kind', 2: 'apiVersion', 3: 'name', 4: 'uid' };
  const ref = {};
  for (const f of fields(buf)) if (names[f.field]) ref[names[f.field]] = str(f);
  return ref;
}

function tokenRequestSpec(buf) {
  const spec = { audiences: [] };
  for (const f of fields(buf)) {
    if (f.field === 1) spec.audiences.push(str(f));
    if (f.field === 4 && f.wire === 0) spec.expirationSeconds = Number(f.value);
    if (f.field === 3) spec.boundObjectRef = boundObjectRef(f.value);
  }
  return spec;
}

// Decodes a protobuf request body into the JSON shape, for the kinds the lab reads.
function decode(buf) {
  const { apiVersion, kind, raw } = unwrap(buf);
  if (kind !== 'TokenRequest') throw new Error(`protobuf bodies of kind ${kind || '(none)'} are not supported by the lab`);
  const spec = fields(raw).find((f) => f.field === 2);
  return { apiVersion, kind, spec: spec ? tokenRequestSpec(spec.value) : {} };
}

module.exports = { decode };
