'use strict';
// kustomize-controller stand-in: the seed walkthrough end to end, and the ways it breaks.
// One lab for the walkthrough (steps in order), one for a bootstrapped start.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const YAML = require('yaml');
const H = require('./helpers/azure-lab');
const S = require('./helpers/flux-steps');

test('seed walkthrough on one lab', async (t) => {
  const lab = await H.startLab(t);
  const kubelet = (await lab.verb('azure')).identities.find((i) => i.name !== lab.env.LAB_IDENTITY_NAME);

  await t.test('plaintext seed: apps applies without any Key Vault call', async () => {
    await lab.verb('reconcile', 'flux-system');
    await lab.resetCounters();
    const r = await lab.verb('reconcile', 'apps');
    assert.strictEqual(r.ready, true, r.message);
    assert.strictEqual((await S.readSecret(lab)).data.username, 'demo-user');
    assert.strictEqual((await lab.counters())['keyvault.requests'], undefined);
  });

  await t.test('flux-system reconcile drops fields owned by kubectl* managers and keeps others', async () => {
    lab.kubectl('annotate', 'serviceaccount', 'kustomize-controller', '-n', 'flux-system', 'example.com/by-kubectl=yes');
    lab.kubectl('annotate', 'serviceaccount', 'kustomize-controller', '-n', 'flux-system', 'example.com/by-fluxwi=yes', '--field-manager=fluxwi');
    lab.kubectl('patch', 'deployment', 'kustomize-controller', '-n', 'flux-system', '--type', 'merge',
      '-p', '{"spec":{"template":{"metadata":{"annotations":{"example.com/kept":"1"}}}}}', '--field-manager=flux-client-side-apply');
    lab.kubectl('patch', 'deployment', 'kustomize-controller', '-n', 'flux-system', '--type', 'merge',
      '-p', '{"spec":{"template":{"metadata":{"annotations":{"example.com/dropped":"1"}}}}}');
    const r = await lab.verb('reconcile', 'flux-system');
    assert.strictEqual(r.ready, true, r.message);
    const sa = await lab.get('/api/v1/namespaces/flux-system/serviceaccounts/kustomize-controller');
    const ann = sa.metadata.annotations || {};
    assert.strictEqual(ann['example.com/by-kubectl'], undefined, 'kubectl-annotate field removed');
    assert.strictEqual(ann['example.com/by-fluxwi'], 'yes', 'fluxwi field kept');
    assert.ok(!sa.metadata.managedFields.some((m) => m.manager.startsWith('kubectl')));
    const d = await lab.get('/apis/apps/v1/namespaces/flux-system/deployments/kustomize-controller');
    const tann = d.spec.template.metadata.annotations || {};
    assert.strictEqual(tann['example.com/kept'], '1');
    assert.strictEqual(tann['example.com/dropped'], undefined);
    await S.waitFor(() => S.rolledOut(lab));
  });

  await t.test('a reconcile.fluxcd.io/requestedAt annotation triggers reconciles (flux reconcile style)', async () => {
    lab.kubectl('annotate', '--overwrite', 'gitrepository', 'flux-system', '-n', 'flux-system', 'reconcile.fluxcd.io/requestedAt=1700000000', '--field-manager=flux-client-side-apply');
    lab.kubectl('annotate', '--overwrite', 'kustomization', 'apps', '-n', 'flux-system', 'reconcile.fluxcd.io/requestedAt=1700000001', '--field-manager=flux-client-side-apply');
    const ks = await S.waitFor(async () => {
      const k = await S.kustomization(lab, 'apps');
      return k.status && k.status.lastHandledReconcileAt === '1700000001' ? k : null;
    });
    assert.strictEqual(ks.status.conditions.find((c) => c.type === 'Ready').status, 'True');
    const gr = await lab.get('/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/flux-system');
    assert.strictEqual(gr.status.lastHandledReconcileAt, '1700000000');
    assert.strictEqual(gr.status.artifact.revision, ks.status.lastAppliedRevision);
  });

  await t.test('kustomize build errors give BuildFailed', async () => {
    fs.writeFileSync(lab.repo('gitops/aks/apps/kustomization.yaml'), 'resources:\n- namespace.yaml\n- missing.yaml\n');
    const r = await lab.verb('reconcile', 'apps');
    assert.strictEqual(r.reason, 'BuildFailed');
    assert.match(r.message, /^kustomize build failed: accumulating resources/);
    S.restoreSeedFile(lab, 'gitops/aks/apps/kustomization.yaml');
  });

  let plain;
  await t.test('encrypted secret, no workload identity: BuildFailed, Key Vault refuses the node identity', async () => {
    plain = await S.encryptSeedSecret(lab);
    const r = await lab.verb('reconcile', 'flux-system/apps');
    assert.strictEqual(r.ready, false);
    assert.strictEqual(r.reason, 'BuildFailed');
    assert.match(r.message, /^decryption failed for 'sample-secret': failed to decrypt and format 'sops-workload-identity\/sample-secret' Secret data: cannot get sops data key: Failed to get the data key required to decrypt the SOPS file\./);
    assert.match(r.message, /Group 0: FAILED/);
    assert.match(r.message, /failed to decrypt sops data key with Azure Key Vault key '/);
    assert.match(r.message, /RESPONSE 403: 403 Forbidden/);
    assert.ok(r.message.includes('oid=' + kubelet.principalId), 'the kubelet identity was used');
    assert.match(r.message, /ForbiddenByPolicy/);
    assert.strictEqual((await S.readSecret(lab)).data.username, 'demo-user', 'the old Secret stays');
    const ks = await S.kustomization(lab, 'apps');
    const ready = ks.status.conditions.find((c) => c.type === 'Ready');
    assert.strictEqual(ready.status, 'False');
    assert.strictEqual(ready.reason, 'BuildFailed');
    assert.strictEqual(ks.status.lastAttemptedRevision, r.revision);
    assert.notStrictEqual(ks.status.lastAppliedRevision, r.revision);
  });

  await t.test('SA annotated but the pod lacks the label: still the node identity', async () => {
    S.setPatches(lab, { annotate: true, label: false });
    await S.reconcileFluxSystem(lab);
    const sa = await lab.get('/api/v1/namespaces/flux-system/serviceaccounts/kustomize-controller');
    assert.strictEqual(sa.metadata.annotations['azure.workload.identity/client-id'], lab.env.LAB_CLIENT_ID);
    const pods = await S.controllerPods(lab);
    assert.ok(pods.every((p) => !(p.spec.containers[0].env || []).some((e) => e.name === 'AZURE_FEDERATED_TOKEN_FILE')));
    const r = await lab.verb('reconcile', 'apps');
    assert.strictEqual(r.reason, 'BuildFailed');
    assert.ok(r.message.includes('oid=' + kubelet.principalId));
  });

  await t.test('annotation and pod label: the Secret is decrypted and applied', async () => {
    S.setPatches(lab, { annotate: true, label: true });
    await S.reconcileFluxSystem(lab);
    await lab.resetCounters();
    const r = await lab.verb('reconcile', 'apps');
    assert.strictEqual(r.ready, true, r.message);
    assert.strictEqual(r.reason, 'ReconciliationSucceeded');
    assert.match(r.revision, /^main@sha1:[0-9a-f]{40}$/);
    const s = await S.readSecret(lab);
    assert.deepStrictEqual(s.data, plain.stringData);
    assert.strictEqual(s.object.metadata.labels['kustomize.toolkit.fluxcd.io/name'], 'apps');
    assert.ok(s.object.metadata.managedFields.some((m) => m.manager === 'kustomize-controller' && m.operation === 'Apply'));
    const ks = await S.kustomization(lab, 'apps');
    assert.strictEqual(ks.status.lastAppliedRevision, r.revision);
    assert.strictEqual(ks.status.lastAttemptedRevision, r.revision);
    assert.strictEqual(ks.status.observedGeneration, ks.metadata.generation);
    assert.strictEqual(ks.status.conditions.find((c) => c.type === 'Ready').message, 'Applied revision: ' + r.revision);
    assert.deepStrictEqual(ks.status.inventory.entries.map((e) => e.id).sort(),
      ['_sops-workload-identity__Namespace', 'sops-workload-identity_sample-secret__Secret']);
    const c = await lab.counters();
    assert.strictEqual(c['keyvault.decrypt'], 2, 'challenge probe + decrypt');
    assert.strictEqual(c['keyvault.401'], 1);
    assert.strictEqual(c['entra.token.federated'], 1);
  });

  await t.test('FIC subject mismatch: AADSTS700213 in the Ready message', async () => {
    await lab.verb('fic', 'set', lab.env.LAB_IDENTITY_NAME, 'kustomize-controller', 'subject=system:serviceaccount:flux-system:kustomize-controler');
    const r = await lab.verb('reconcile', 'apps');
    assert.strictEqual(r.reason, 'BuildFailed');
    assert.match(r.message, /WorkloadIdentityCredential authentication failed/);
    assert.match(r.message, /AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:flux-system:kustomize-controller'/);
    const logs = lab.kubectl('logs', '-n', 'flux-system', 'deploy/kustomize-controller').trim().split('\n').map((l) => JSON.parse(l));
    const last = logs[logs.length - 1];
    assert.strictEqual(last.level, 'error');
    assert.match(last.msg, /^Reconciliation failed after [\d.]+s, next try in 10m0s$/);
    assert.match(last.error, /AADSTS700213/);
    await lab.verb('fic', 'set', lab.env.LAB_IDENTITY_NAME, 'kustomize-controller', 'subject=system:serviceaccount:flux-system:kustomize-controller');
  });

  await t.test('FIC issuer without the trailing slash: AADSTS700211', async () => {
    await lab.verb('fic', 'set', lab.env.LAB_IDENTITY_NAME, 'kustomize-controller', 'issuer={{issuerNoSlash}}');
    const r = await lab.verb('reconcile', 'apps');
    assert.match(r.message, /AADSTS700211: No matching federated identity record found for presented assertion issuer '/);
    await lab.verb('fic', 'set', lab.env.LAB_IDENTITY_NAME, 'kustomize-controller', 'issuer={{issuer}}');
  });

  await t.test('identity without decrypt permission: Forbidden naming its oid and the permission', async () => {
    await lab.verb('policy', 'set', lab.env.LAB_PRINCIPAL_ID, 'get');
    const r = await lab.verb('reconcile', 'apps');
    assert.strictEqual(r.reason, 'BuildFailed');
    assert.ok(r.message.includes('oid=' + lab.env.LAB_PRINCIPAL_ID));
    assert.match(r.message, /does not have keys decrypt permission on key vault 'fluxwi-lab-kv;location=westeurope'/);
    await lab.verb('policy', 'set', lab.env.LAB_PRINCIPAL_ID, 'get,decrypt');
    const ok = await lab.verb('reconcile', 'apps');
    assert.strictEqual(ok.ready, true, ok.message);
  });

  await t.test('key disabled: KeyDisabled', async () => {
    await lab.verb('key', 'disable', lab.env.LAB_KEY_NAME);
    const r = await lab.verb('reconcile', 'apps');
    assert.match(r.message, /Operation decrypt is not allowed on a disabled key/);
    assert.match(r.message, /"code": "KeyDisabled"/);
    await lab.verb('key', 'enable', lab.env.LAB_KEY_NAME);
  });

  await t.test('a leftover AZURE_CLIENT_SECRET in the Deployment replaces workload identity', async () => {
    const envPatch = { target: { kind: 'Deployment', name: 'kustomize-controller' },
      patch: YAML.stringify([{ op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'AZURE_CLIENT_SECRET', value: 'stale-secret' } }]) };
    S.setPatches(lab, { annotate: true, label: true, extra: [envPatch] });
    await S.reconcileFluxSystem(lab);
    const r = await lab.verb('reconcile', 'apps');
    assert.strictEqual(r.reason, 'BuildFailed');
    assert.match(r.message, /ClientSecretCredential authentication failed/);
    assert.match(r.message, /AADSTS7000215: Invalid client secret provided/);
  });

  await t.test('pod labelled but the ServiceAccount has no client id: no AZURE_CLIENT_ID, node identity used', async () => {
    S.setPatches(lab, { annotate: false, label: true });
    await S.reconcileFluxSystem(lab);
    lab.kubectl('rollout', 'restart', 'deployment/kustomize-controller', '-n', 'flux-system', '--field-manager=flux-client-side-apply');
    await S.waitFor(async () => (await S.rolledOut(lab)) && (await S.controllerPods(lab)).length === 1 &&
      !((await S.controllerPods(lab))[0].spec.containers[0].env || []).some((e) => e.name === 'AZURE_CLIENT_ID'));
    const pod = (await S.controllerPods(lab))[0];
    assert.ok((pod.spec.containers[0].env || []).some((e) => e.name === 'AZURE_FEDERATED_TOKEN_FILE'), 'webhook mutated the pod');
    const r = await lab.verb('reconcile', 'apps');
    assert.strictEqual(r.reason, 'BuildFailed');
    assert.ok(r.message.includes('oid=' + kubelet.principalId));
  });

  await t.test('decryption not configured: the encrypted Secret is refused like the real controller', async () => {
    const f = lab.repo('gitops/aks/apps.yaml');
    const ks = YAML.parse(fs.readFileSync(f, 'utf8'));
    delete ks.spec.decryption;
    fs.writeFileSync(f, YAML.stringify(ks));
    await lab.verb('reconcile', 'flux-system');
    const r = await lab.verb('reconcile', 'apps');
    assert.strictEqual(r.reason, 'ReconciliationFailed');
    assert.strictEqual(r.message, 'Secret/sops-workload-identity/sample-secret is SOPS encrypted, configuring decryption is required for this secret to be reconciled');
  });

  await t.test('decryption not configured, older controller (flux.legacyApplyEncrypted): ENC text applied as is', async () => {
    await lab.admin('POST', '/scenario', { flux: { legacyApplyEncrypted: true } });
    const r = await lab.verb('reconcile', 'apps');
    assert.strictEqual(r.ready, true, r.message);
    const s = await S.readSecret(lab);
    assert.match(s.data.password, /^ENC\[AES256_GCM,data:/);
    assert.match(s.data.username, /^ENC\[AES256_GCM,data:/);
    await lab.admin('POST', '/scenario', { flux: { legacyApplyEncrypted: false } });
  });
});

test('bootstrapped start, stale revision, periodic reconciles', async (t) => {
  const lab = await H.startLab(t, { scenario: 'flux:\n  bootstrap: true\n' });

  await t.test('flux.bootstrap: flux-system and apps reconciled at start', async () => {
    const ks = await S.kustomization(lab, 'apps');
    assert.match(ks.status.lastAppliedRevision, /^main@sha1:/);
    assert.strictEqual((await S.readSecret(lab)).data.username, 'demo-user');
  });

  await t.test('stale revision: `source` moves the GitRepository, the Kustomization keeps the old one', async () => {
    const before = (await S.kustomization(lab, 'apps')).status.lastAppliedRevision;
    fs.writeFileSync(lab.repo('gitops/aks/apps/extra.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: sops-workload-identity\n');
    const src = await lab.verb('source', 'flux-system');
    assert.notStrictEqual(src.revision, before);
    const gr = await lab.get('/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/flux-system');
    assert.strictEqual(gr.status.artifact.revision, src.revision);
    assert.strictEqual((await S.kustomization(lab, 'apps')).status.lastAppliedRevision, before);
    const r = await lab.verb('reconcile', 'apps');
    assert.strictEqual(r.revision, src.revision);
  });

  await t.test('flux.interval: periodic reconciles of every Kustomization', async () => {
    await lab.resetCounters();
    await lab.admin('POST', '/scenario', { flux: { interval: 1 } });
    await S.waitFor(async () => ((await lab.counters())['flux.reconcile'] || 0) >= 4, 15000);
    await lab.admin('POST', '/scenario', { flux: { interval: 0 } });
  });
});
