'use strict';
// Decryption of Kubernetes objects the way kustomize-controller's decryptor does it:
// a whole object with a top-level `sops` map (JSON store, MAC not verified), or
// Secret `data` values that hold a base64-encoded sops document.
const sops = require('./index');
const stores = require('./stores');

const DISABLE = 'kustomize.toolkit.fluxcd.io/decrypt';

function isSopsObject(obj) {
  return !!(obj && obj.sops && typeof obj.sops === 'object' && obj.sops.mac);
}

function markerFormat(text) {
  if (text.includes('mac: ENC[')) return 'yaml';
  if (text.includes('"mac": "ENC[')) return 'json';
  if (text.includes('sops_mac=ENC[')) return 'dotenv';
  return null;
}

function outputFormat(key) {
  if (/\.dockerconfigjson$/.test(key)) return 'json';
  return stores.formatFor(key);
}

// decryptResource(obj, opts) -> obj (decrypted copy or the same object).
async function decryptResource(obj, opts) {
  const ann = (obj.metadata && obj.metadata.annotations) || {};
  if (ann[DISABLE] === 'disabled') return obj;
  const ns = (obj.metadata && obj.metadata.namespace) || '';
  const name = (obj.metadata && obj.metadata.name) || '';
  if (isSopsObject(obj)) {
    try {
      const r = await sops.decrypt(JSON.stringify(obj), Object.assign({}, opts, { format: 'json', ignoreMac: true }));
      return r.plain;
    } catch (e) {
      e.message = 'failed to decrypt and format \'' + ns + '/' + name + '\' ' + obj.kind + ' data: ' + prefixed(e);
      throw e;
    }
  }
  if (obj.kind !== 'Secret' || !obj.data) return obj;
  const out = JSON.parse(JSON.stringify(obj));
  for (const [key, value] of Object.entries(obj.data)) {
    const text = Buffer.from(String(value), 'base64').toString('utf8');
    const fmt = markerFormat(text);
    if (!fmt) continue;
    try {
      const r = await sops.decrypt(text, Object.assign({}, opts, { format: fmt, ignoreMac: true }));
      const emitted = stores.emit(r.trees, outputFormat(key));
      out.data[key] = Buffer.from(emitted).toString('base64');
    } catch (e) {
      e.message = 'failed to decrypt and format \'' + ns + '/' + name + '\' Secret field \'' + key + '\': ' + prefixed(e, fmt);
      throw e;
    }
  }
  return out;
}

// The decryptor's wrapping of sops errors (sopsUserErr in kustomize-controller).
function prefixed(e, format) {
  if (e.code === 128) return 'cannot get sops data key: ' + e.message;
  if (e.code === 25) return 'error decrypting sops tree: ' + e.message;
  if (e.code === 2) return 'failed to load encrypted ' + (format || 'json') + ' data: ' + e.message;
  return e.message;
}

module.exports = { decryptResource, isSopsObject };
