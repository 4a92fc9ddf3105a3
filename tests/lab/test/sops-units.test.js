'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const sops = require('../lib/sops');
const { decryptRaw } = require('../lib/sops/aes');
const { goFloat } = require('../lib/sops/tree');

test('sops aes test vector (key 0x66 x32, AAD bar:)', () => {
  const key = Buffer.alloc(32, 0x66);
  const enc = 'ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]';
  assert.strictEqual(decryptRaw(enc, key, 'bar:').bytes.toString(), 'foo');
  assert.throws(() => decryptRaw(enc, key, ''), /Could not decrypt value/);
});

test('Go float formatting is positional and shortest', () => {
  assert.strictEqual(goFloat(25.4), '25.4');
  assert.strictEqual(goFloat(1e21), '1000000000000000000000');
  assert.strictEqual(goFloat(1e-7), '0.0000001');
  assert.strictEqual(goFloat(1234568000), '1234568000');
  assert.strictEqual(goFloat(-0), '-0');
});

test('shamir split/combine over GF(256)', () => {
  const secret = crypto.randomBytes(32);
  const shares = sops.shamir.split(secret, 3, 2);
  assert.deepStrictEqual(sops.shamir.combine([shares[0], shares[2]]), secret);
  assert.deepStrictEqual(sops.shamir.combine(shares), secret);
  assert.notDeepStrictEqual(sops.shamir.combine([shares[0], shares[0].map((b, i) => (i === 32 ? 9 : b))]), secret);
});

test('two key groups with a Shamir threshold of 2', async () => {
  // Build identities/recipients in age text form via the age module's bech32 helpers.
  const ids = [];
  const recips = [];
  for (let i = 0; i < 2; i++) {
    const { id, recipient } = makeAgeKey();
    ids.push(id);
    recips.push(recipient);
  }
  const obj = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { k: 'v', n: 42, f: 1.5, b: true } };
  const enc = await sops.encryptObject(obj, {
    encrypted_regex: '^(data|stringData)$',
    wrap: async (dk) => {
      const parts = sops.shamir.split(dk, 2, 2);
      return {
        key_groups: parts.map((p, i) => ({ age: [{ recipient: recips[i], enc: sops.age.encrypt(p, recips[i]) }] })),
        shamir_threshold: 2,
      };
    },
  });
  assert.match(enc.stringData.k, /^ENC\[AES256_GCM/);
  const both = await sops.decrypt(JSON.stringify(enc), { format: 'json', ageIdentities: ids.join('\n') });
  assert.deepStrictEqual(both.plain, obj);
  await assert.rejects(sops.decrypt(JSON.stringify(enc), { format: 'json', ageIdentities: ids[0] }),
    /Shamir threshold of 2, but only 1 part/);
});

const BECH = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
function bech32Encode(hrp, bytes) {
  const words = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) { bits -= 5; words.push((acc >> bits) & 31); }
  }
  if (bits) words.push((acc << (5 - bits)) & 31);
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  const pm = (vals) => {
    let chk = 1;
    for (const v of vals) {
      const top = chk >>> 25;
      chk = ((chk & 0x1ffffff) << 5) ^ v;
      for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i];
    }
    return chk >>> 0;
  };
  const exp = [...hrp].map((c) => c.charCodeAt(0) >> 5).concat([0], [...hrp].map((c) => c.charCodeAt(0) & 31));
  const mod = pm(exp.concat(words, [0, 0, 0, 0, 0, 0])) ^ 1;
  const chk = [];
  for (let i = 0; i < 6; i++) chk.push((mod >>> (5 * (5 - i))) & 31);
  return hrp + '1' + words.concat(chk).map((w) => BECH[w]).join('');
}

function makeAgeKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('x25519');
  const d = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const x = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { id: bech32Encode('age-secret-key-', d).toUpperCase(), recipient: bech32Encode('age', x) };
}
