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

// Schemas: field number -> [jsonName, type]; type is 'string', 'bool', 'int',
// 'strings' (repeated), 'map' (string->string), 'bytesmap' (string->base64),
// a nested schema object, or [schema] for a repeated message.
const OBJECT_META = {
  1: ['name', 'string'], 2: ['generateName', 'string'], 3: ['namespace', 'string'], 5: ['uid', 'string'],
  6: ['resourceVersion', 'string'], 11: ['labels', 'map'], 12: ['annotations', 'map'], 14: ['finalizers', 'strings'],
};
const OBJECT_REF = { 1: ['kind', 'string'], 2: ['namespace', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'] };
const SCHEMAS = {
  TokenRequest: { 1: ['metadata', OBJECT_META], 2: ['spec', {
    1: ['audiences', 'strings'], 4: ['expirationSeconds', 'int'],
    3: ['boundObjectRef', { 1: ['kind', 'string'], 2: ['apiVersion', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'] }],
  }] },
  Namespace: { 1: ['metadata', OBJECT_META], 2: ['spec', { 1: ['finalizers', 'strings'] }] },
  ServiceAccount: { 1: ['metadata', OBJECT_META], 2: ['secrets', [OBJECT_REF]], 3: ['imagePullSecrets', [{ 1: ['name', 'string'] }]], 4: ['automountServiceAccountToken', 'bool'] },
  ConfigMap: { 1: ['metadata', OBJECT_META], 2: ['data', 'map'], 3: ['binaryData', 'bytesmap'], 4: ['immutable', 'bool'] },
  Secret: { 1: ['metadata', OBJECT_META], 2: ['data', 'bytesmap'], 3: ['type', 'string'], 4: ['stringData', 'map'], 5: ['immutable', 'bool'] },
  SelfSubjectAccessReview: { 1: ['metadata', OBJECT_META], 2: ['spec', {
    1: ['resourceAttributes', { 1: ['namespace', 'string'], 2: ['verb', 'string'], 3: ['group', 'string'], 4: ['version', 'string'], 5: ['resource', 'string'], 6: ['subresource', 'string'], 7: ['name', 'string'] }],
    2: ['nonResourceAttributes', { 1: ['path', 'string'], 2: ['verb', 'string'] }],
  }] },
  SelfSubjectReview: { 1: ['metadata', OBJECT_META] },
};

function mapEntry(buf, bytes) {
  const f = fields(buf);
  const k = f.find((x) => x.field === 1);
  const v = f.find((x) => x.field === 2);
  const value = v ? (bytes ? Buffer.from(v.value).toString('base64') : str(v)) : '';
  return [k ? str(k) : '', value];
}

function decodeMessage(buf, schema) {
  const out = {};
  for (const f of fields(buf)) {
    const spec = schema[f.field];
    if (!spec) continue;
    const [name, type] = spec;
    if (type === 'string') out[name] = str(f);
    else if (type === 'bool') out[name] = f.value !== 0n;
    else if (type === 'int') out[name] = Number(f.value);
    else if (type === 'strings') (out[name] ||= []).push(str(f));
    else if (type === 'map' || type === 'bytesmap') {
      const [k, v] = mapEntry(f.value, type === 'bytesmap');
      (out[name] ||= {})[k] = v;
    } else if (Array.isArray(type)) (out[name] ||= []).push(decodeMessage(f.value, type[0]));
    else out[name] = decodeMessage(f.value, type);
  }
  return out;
}

// Decodes a protobuf request body into the JSON shape, for the kinds the lab reads.
function decode(buf) {
  const { apiVersion, kind, raw } = unwrap(buf);
  const schema = SCHEMAS[kind];
  if (!schema) throw new Error(`protobuf bodies of kind ${kind || '(none)'} are not supported by the lab`);
  return { apiVersion, kind, ...decodeMessage(raw, schema) };
}

module.exports = { decode };
