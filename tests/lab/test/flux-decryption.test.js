'use strict';
// Other decryption paths of the controller: age keys from spec.decryption.secretRef (with a
// file written by a real sops release), sops.azure-kv credentials, object-level workload identity.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const H = require('./helpers/azure-lab');
const S = require('./helpers/flux-steps');

const VEC = process.env.SOPS_VECTORS || path.resolve(__dirname, '../../../../shared/vectors/sops-real');

function addKustomization(lab, name, spec) {
  const ks = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name, namespace: 'flux-system' },
    spec: Object.assign({ interval: '10m0s', prune: true, sourceRef: { kind: 'GitRepository', name: 'flux-system' } }, spec) };
  const f = path.join(lab.dir, name + '.json');
  fs.writeFileSync(f, JSON.stringify(ks));
  lab.kubectl('apply', '--server-side', '--field-manager=test', '-f', f);
}

function secretFile(lab, name, data) {
  const f = path.join(lab.dir, name + '-secret.json');
  const s = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'flux-system' }, data: {} };
  for (const [k, v] of Object.entries(data)) s.data[k] = Buffer.from(v).toString('base64');
  fs.writeFileSync(f, JSON.stringify(s));
  lab.kubectl('apply', '--server-side', '--field-manager=test', '-f', f);
}

test('decryption paths on one lab', async (t) => {
  const lab = await H.startLab(t);
  await lab.verb('reconcile', 'flux-system');

  await t.test('secretRef with an age key opens a file written by sops 3.9.0; missing Secret is BuildFailed', async () => {
    fs.mkdirSync(lab.repo('age'), { recursive: true });
    fs.copyFileSync(path.join(VEC, 'sops__algorithms__age.yaml'), lab.repo('age/secret.yaml'));
    addKustomization(lab, 'age-apps', { path: './age', targetNamespace: 'default', decryption: { provider: 'sops', secretRef: { name: 'sops-age' } } });
    const missing = await lab.verb('reconcile', 'age-apps');
    assert.strictEqual(missing.reason, 'BuildFailed');
    assert.strictEqual(missing.message, 'secrets "sops-age" not found');
    secretFile(lab, 'sops-age', { 'age.agekey': fs.readFileSync(path.join(VEC, 'age.key'), 'utf8') });
    const r = await lab.verb('reconcile', 'age-apps');
    assert.strictEqual(r.ready, true, r.message);
    const s = (await S.readSecret(lab, 'default', 'age')).object;
    assert.strictEqual(Buffer.from(s.data.key, 'base64').toString(), 'value');
    assert.strictEqual(s.sops, undefined);
  });

  await t.test('secretGenerator sources encrypted by sops (dotenv, binary) are decrypted before the build', async () => {
    fs.mkdirSync(lab.repo('gen'), { recursive: true });
    fs.copyFileSync(path.join(VEC, 'sops__envs__env.env'), lab.repo('gen/secret.env'));
    fs.copyFileSync(path.join(VEC, 'sops__files__file.txt'), lab.repo('gen/file.txt'));
    fs.writeFileSync(lab.repo('gen/kustomization.yaml'), YAML.stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', namespace: 'default',
      secretGenerator: [{ name: 'from-env', envs: ['secret.env'] }, { name: 'from-file', files: ['file.txt'] }],
      configMapGenerator: [{ name: 'plain', literals: ['a=b'] }],
    }));
    addKustomization(lab, 'gen', { path: './gen', decryption: { provider: 'sops', secretRef: { name: 'sops-age' } } });
    const r = await lab.verb('reconcile', 'gen');
    assert.strictEqual(r.ready, true, r.message);
    const ids = r.changes.map((c) => c.id);
    const envName = ids.find((i) => i.startsWith('Secret/default/from-env-')).split('/')[2];
    const fileName = ids.find((i) => i.startsWith('Secret/default/from-file-')).split('/')[2];
    assert.match(envName, /^from-env-[a-z0-9]{10}$/);
    assert.ok(ids.includes('ConfigMap/default/plain-' + require('../lib/flux/generators').nameHash({ kind: 'ConfigMap', metadata: { name: 'plain' }, data: { a: 'b' } })));
    assert.strictEqual((await S.readSecret(lab, 'default', envName)).data.key, 'value');
    assert.strictEqual((await S.readSecret(lab, 'default', fileName)).data['file.txt'], 'value');
    assert.ok(fs.readFileSync(lab.repo('gen/secret.env'), 'utf8').includes('sops_mac=ENC['), 'the repository is not modified');
    secretFile(lab, 'sops-age', { 'age.agekey': fs.readFileSync(path.join(VEC, 'age-global.key'), 'utf8') });
    const bad = await lab.verb('reconcile', 'gen');
    assert.strictEqual(bad.reason, 'BuildFailed');
    assert.match(bad.message, /^error decrypting sources: cannot get sops data key: Failed to get the data key required to decrypt the SOPS file\./);
  });

  let plain;
  await t.test('secretRef with sops.azure-kv client-secret credentials', async () => {
    plain = await S.encryptSeedSecret(lab);
    secretFile(lab, 'sops-azure', { 'sops.azure-kv': JSON.stringify({ tenantId: lab.env.LAB_TENANT_ID, clientId: lab.env.LAB_SP_CLIENT_ID, clientSecret: lab.env.LAB_SP_CLIENT_SECRET }) });
    addKustomization(lab, 'apps-sp', { path: './gitops/aks/apps', decryption: { provider: 'sops', secretRef: { name: 'sops-azure' } } });
    const r = await lab.verb('reconcile', 'apps-sp');
    assert.strictEqual(r.ready, true, r.message);
    assert.deepStrictEqual((await S.readSecret(lab)).data, plain.stringData);
    secretFile(lab, 'sops-azure', { 'sops.azure-kv': JSON.stringify({ tenantId: lab.env.LAB_TENANT_ID, clientId: lab.env.LAB_SP_CLIENT_ID, clientSecret: 'wrong' }) });
    const bad = await lab.verb('reconcile', 'apps-sp');
    assert.strictEqual(bad.reason, 'BuildFailed');
    assert.match(bad.message, /ClientSecretCredential authentication failed/);
    assert.match(bad.message, /AADSTS7000215/);
    lab.kubectl('delete', 'kustomization', 'apps-sp', '-n', 'flux-system');
    lab.kubectl('delete', 'secret', 'sample-secret', '-n', 'sops-workload-identity');
  });

  await t.test('object-level workload identity: feature gate, annotations, TokenRequest exchange', async () => {
    const f = lab.repo('gitops/aks/apps.yaml');
    const ks = YAML.parse(fs.readFileSync(f, 'utf8'));
    ks.spec.decryption.serviceAccountName = 'apps-decryptor';
    fs.writeFileSync(f, YAML.stringify(ks));
    await lab.verb('reconcile', 'flux-system');
    const off = await lab.verb('reconcile', 'apps');
    assert.strictEqual(off.reason, 'FeatureGateDisabled');
    assert.strictEqual(off.message, 'to use spec.decryption.serviceAccountName for decryption authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller');
    const st = (await S.kustomization(lab, 'apps')).status;
    assert.strictEqual(st.conditions.find((c) => c.type === 'Stalled').status, 'True');

    S.setPatches(lab, { annotate: false, label: false, extra: [{ target: { kind: 'Deployment', name: 'kustomize-controller' },
      patch: YAML.stringify([{ op: 'add', path: '/spec/template/spec/containers/0/args/-', value: '--feature-gates=ObjectLevelWorkloadIdentity=true' }]) }] });
    await S.reconcileFluxSystem(lab);
    const noSa = await lab.verb('reconcile', 'apps');
    assert.match(noSa.message, /serviceaccounts "apps-decryptor" not found/);

    const sa = path.join(lab.dir, 'sa.json');
    fs.writeFileSync(sa, JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'apps-decryptor', namespace: 'flux-system',
      annotations: { 'azure.workload.identity/client-id': lab.env.LAB_CLIENT_ID } } }));
    lab.kubectl('apply', '--server-side', '--field-manager=test', '-f', sa);
    const noTenant = await lab.verb('reconcile', 'apps');
    assert.match(noTenant.message, /azure tenant ID is not set in the service account annotation azure.workload.identity\/tenant-id/);

    lab.kubectl('annotate', 'sa', 'apps-decryptor', '-n', 'flux-system', 'azure.workload.identity/tenant-id=' + lab.env.LAB_TENANT_ID, '--field-manager=test');
    const noFic = await lab.verb('reconcile', 'apps');
    assert.match(noFic.message, /AADSTS700213: .*subject 'system:serviceaccount:flux-system:apps-decryptor'/);

    await lab.verb('fic', 'set', lab.env.LAB_IDENTITY_NAME, 'apps-decryptor', 'issuer={{issuer}}', 'subject=system:serviceaccount:flux-system:apps-decryptor');
    const ok = await lab.verb('reconcile', 'apps');
    assert.strictEqual(ok.ready, true, ok.message);
    assert.deepStrictEqual((await S.readSecret(lab)).data, plain.stringData);
  });
});
