'use strict';
// lib/sops against every file written by real sops releases in shared/vectors/sops-real.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const sops = require('../lib/sops');
const { decryptResource } = require('../lib/sops/kube');

const VEC = process.env.SOPS_VECTORS || path.resolve(__dirname, '../../../../shared/vectors/sops-real');
const expected = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/sops-real-expected.json'), 'utf8'));
const files = fs.readdirSync(VEC).filter((f) => f !== 'README.md' && !f.endsWith('.key'));
const keyText = (name) => fs.readFileSync(path.join(VEC, name || 'age.key'), 'utf8');

test('every vector file has an expected result', () => {
  assert.ok(files.length >= 15);
  for (const f of files) assert.ok(expected[f], 'no fixture for ' + f);
});

for (const f of files) {
  const exp = expected[f];
  if (!exp) continue;
  test('decrypt ' + f, async () => {
    const text = fs.readFileSync(path.join(VEC, f));
    const opts = { format: exp.format, ageIdentities: keyText(exp.key) };
    if (exp.notEncrypted) {
      await assert.rejects(sops.decrypt(text, opts), /sops metadata not found/);
      return;
    }
    if (exp.macMismatch) {
      await assert.rejects(sops.decrypt(text, opts), (e) => e.code === 51 && /MAC mismatch/.test(e.message));
      const r = await sops.decrypt(text, Object.assign({ ignoreMac: true }, opts));
      assert.deepStrictEqual(r.plain.stringData, exp.plainIgnoringMac.stringData);
      return;
    }
    if (exp.format === 'kube') {
      const obj = YAML.parse(text.toString('utf8'));
      const out = await decryptResource(obj, { ageIdentities: keyText(exp.key) });
      for (const [k, v] of Object.entries(exp.secretData)) {
        assert.strictEqual(Buffer.from(out.data[k], 'base64').toString('utf8'), v);
      }
      return;
    }
    const r = await sops.decrypt(text, opts);
    assert.deepStrictEqual(r.plain, exp.plain);
    if (exp.output !== undefined) assert.strictEqual(Buffer.from(r.output).toString('utf8'), exp.output);
  });
}

test('wrong identity gives the sops data-key error with exit code 128', async () => {
  const f = 'sops__algorithms__age.yaml';
  const other = fs.readFileSync(path.join(VEC, 'age-global.key'), 'utf8');
  await assert.rejects(sops.decrypt(fs.readFileSync(path.join(VEC, f)), { format: 'yaml', ageIdentities: other }), (e) => {
    assert.strictEqual(e.code, 128);
    assert.match(e.message, /^Failed to get the data key required to decrypt the SOPS file\./);
    assert.match(e.message, /Group 0: FAILED\n  age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29: FAILED/);
    return true;
  });
});

test('tampered value fails with the tree error (code 25), even ignoring the MAC', async () => {
  const f = 'sops__algorithms__age.yaml';
  const text = fs.readFileSync(path.join(VEC, f), 'utf8').replace('data:mHeXsmQ=', 'data:mHeXsmA=');
  await assert.rejects(sops.decrypt(text, { format: 'yaml', ageIdentities: keyText(), ignoreMac: true }),
    (e) => e.code === 25 && /Could not decrypt value/.test(e.message));
});

test('a value moved to another path fails (AAD is the path)', async () => {
  const text = fs.readFileSync(path.join(VEC, 'sops__algorithms__age.yaml'), 'utf8').replace('  key: ENC', '  other: ENC');
  await assert.rejects(sops.decrypt(text, { format: 'yaml', ageIdentities: keyText(), ignoreMac: true }), /Could not decrypt value/);
});

test('MAC detects a changed clear value', async () => {
  const text = fs.readFileSync(path.join(VEC, 'sops__algorithms__age.yaml'), 'utf8').replace('name: age', 'name: agf');
  await assert.rejects(sops.decrypt(text, { format: 'yaml', ageIdentities: keyText() }), (e) => e.code === 51);
});

test('cross-check with the sops-age package on age files', async () => {
  const { decryptSops } = require('sops-age');
  let checked = 0;
  for (const f of files) {
    const exp = expected[f];
    if (!['yaml', 'dotenv', 'binary'].includes(exp.format) || exp.notEncrypted || exp.macMismatch) continue;
    const secretKey = keyText(exp.key).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'));
    const fileType = exp.format === 'dotenv' ? 'env' : exp.format === 'binary' ? 'json' : 'yaml';
    const theirs = await decryptSops(fs.readFileSync(path.join(VEC, f), 'utf8'), { secretKey, fileType });
    const ours = await sops.decrypt(fs.readFileSync(path.join(VEC, f)), { format: exp.format, ageIdentities: keyText(exp.key) });
    assert.deepStrictEqual(ours.plain, theirs, f);
    checked++;
  }
  assert.ok(checked >= 12, 'checked ' + checked);
});
