'use strict';
// lib/sops with azure_kv master keys against the lab's Key Vault, and bin/lab-sops-decrypt.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const sops = require('../lib/sops');
const { decrypter } = require('../lib/sops/azkv');
const H = require('./helpers/azure-lab');

test('azure_kv: files encrypted with the lab key decrypt with a vault token', async (t) => {
  const lab = await H.startLab(t);
  const obj = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'n' }, stringData: { user: 'u', pass: 'p w', n: 7 } };
  const enc = await H.encryptWithLabKey(lab, obj);
  assert.match(enc.stringData.pass, /^ENC\[AES256_GCM,data:[^,]+,iv:[^,]{44},tag:[^,]{24},type:str\]$/);
  assert.match(enc.stringData.n, /type:int\]$/);
  assert.strictEqual(enc.metadata.name, 's');
  assert.strictEqual(enc.sops.azure_kv[0].enc.length, 342);
  const file = path.join(lab.dir, 'secret.enc.yaml');
  fs.writeFileSync(file, YAML.stringify(enc));

  await t.test('lib/sops + a developer token', async () => {
    const token = H.devToken(lab);
    const r = await sops.decrypt(fs.readFileSync(file), { format: 'yaml', azureDecrypt: decrypter({ ca: lab.ca, getToken: async () => token }) });
    assert.deepStrictEqual(r.plain, obj);
  });

  await t.test('a token without decrypt permission: the sops error carries the Forbidden answer', async () => {
    const mi = await new Promise((resolve, reject) => {
      require('node:http').get(lab.env.LAB_IMDS_ENDPOINT + '?api-version=2018-02-01&resource=https://vault.azure.net', { headers: { Metadata: 'true' } }, (res) => {
        let d = '';
        res.on('data', (c) => { d += c; });
        res.on('end', () => resolve(JSON.parse(d).access_token));
      }).on('error', reject);
    });
    await assert.rejects(sops.decrypt(fs.readFileSync(file), { format: 'yaml', azureDecrypt: decrypter({ ca: lab.ca, getToken: async () => mi }) }), (e) => {
      assert.strictEqual(e.code, 128);
      assert.match(e.message, /failed to decrypt sops data key with Azure Key Vault key 'https:\/\/127\.0\.0\.1:\d+\/keys\/sops-key\/[0-9a-f]{32}': Key Vault decrypt: 403 Forbidden: .*does not have keys decrypt permission/);
      return true;
    });
  });

  await t.test('bin/lab-sops-decrypt uses az for the token; JSON output; tampering fails with 51', () => {
    const r = lab.run(path.join(H.LAB, 'bin/lab-sops-decrypt'), [file]);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.deepStrictEqual(YAML.parse(r.stdout), obj);
    const j = lab.run(path.join(H.LAB, 'bin/lab-sops-decrypt'), ['--output-type', 'json', file]);
    assert.deepStrictEqual(JSON.parse(j.stdout), obj);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('name: s\n', 'name: t\n'));
    const bad = lab.run(path.join(H.LAB, 'bin/lab-sops-decrypt'), [file]);
    assert.strictEqual(bad.status, 51);
    assert.match(bad.stderr, /^MAC mismatch/);
    assert.strictEqual(lab.run(path.join(H.LAB, 'bin/lab-sops-decrypt'), ['--ignore-mac', file]).status, 0);
  });
});
