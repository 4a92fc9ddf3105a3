'use strict';
// Unit tests of the API server's pure parts: patches, selectors, field sets,
// server-side apply ownership, protobuf decoding, the CA.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const P = require('../lib/k8s/patch');
const S = require('../lib/k8s/selectors');
const M = require('../lib/k8s/managed');
const F = require('../lib/k8s/fields');
const protobuf = require('../lib/k8s/protobuf');
const { createCA } = require('../lib/ca');

const deployment = () => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'kc', namespace: 'flux-system', labels: { app: 'kc' } },
  spec: { template: { spec: {
    containers: [{ name: 'manager', image: 'img:1', env: [{ name: 'A', value: '1' }], volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] }],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  } } },
});

test('merge patch: maps merge, null deletes, lists replaced', () => {
  const out = P.mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] });
  assert.deepEqual(out, { a: { c: 2, d: 3 }, l: [3] });
});

test('strategic merge: containers, env, volumes and volumeMounts merged by key', () => {
  const d = deployment();
  const out = P.strategicMerge(d, { spec: { template: { spec: {
    containers: [{ name: 'manager', env: [{ name: 'B', value: '2' }, { name: 'A', value: '9' }], volumeMounts: [{ name: 'tok', mountPath: '/var/run/tok' }] }],
    volumes: [{ name: 'tok', projected: { sources: [] } }],
  } } } });
  const c = out.spec.template.spec.containers[0];
  assert.equal(c.image, 'img:1');
  assert.deepEqual(c.env, [{ name: 'A', value: '9' }, { name: 'B', value: '2' }]);
  assert.deepEqual(c.volumeMounts.map((m) => m.mountPath), ['/tmp', '/var/run/tok']);
  assert.deepEqual(out.spec.template.spec.volumes.map((v) => v.name), ['tmp', 'tok']);
  const deleted = P.strategicMerge(out, { spec: { template: { spec: { volumes: [{ name: 'tok', $patch: 'delete' }] } } } });
  assert.deepEqual(deleted.spec.template.spec.volumes.map((v) => v.name), ['tmp']);
  const replaced = P.strategicMerge(out, { spec: { template: { spec: { volumes: [{ $patch: 'replace' }, { name: 'only', emptyDir: {} }] } } } });
  assert.deepEqual(replaced.spec.template.spec.volumes, [{ name: 'only', emptyDir: {} }]);
});

test('json patch: escaped paths, test, errors', () => {
  const doc = { metadata: { labels: { 'azure.workload.identity/use': 'true' } } };
  const out = P.jsonPatch(doc, [{ op: 'test', path: '/metadata/labels/azure.workload.identity~1use', value: 'true' },
    { op: 'add', path: '/metadata/annotations', value: { a: 'b' } }]);
  assert.equal(out.metadata.annotations.a, 'b');
  assert.throws(() => P.jsonPatch(doc, [{ op: 'test', path: '/metadata/labels/azure.workload.identity~1use', value: 'false' }]), (e) => e.status === 422);
  assert.throws(() => P.jsonPatch(doc, [{ op: 'remove', path: '/spec/x' }]), (e) => /missing path/.test(e.message));
  assert.throws(() => P.jsonPatch(doc, { op: 'add' }), (e) => e.status === 400);
});

test('label selectors: equality, sets, existence', () => {
  const labels = { app: 'kc', tier: 'ctl' };
  const sel = (s) => S.matchLabels(S.parseLabelSelector(s), labels);
  assert.equal(sel('app=kc'), true);
  assert.equal(sel('app==kc,tier!=web'), true);
  assert.equal(sel('app in (a, kc)'), true);
  assert.equal(sel('app notin (kc)'), false);
  assert.equal(sel('tier'), true);
  assert.equal(sel('!tier'), false);
  assert.equal(sel('missing!=x'), true);
  assert.throws(() => S.parseLabelSelector('app=kc,'), (e) => e.status === 400);
});

test('field selectors: common and per-kind fields, unknown rejected', () => {
  const res = { key: '/pods', builtin: true };
  const pod = { metadata: { name: 'p', namespace: 'n' }, status: { phase: 'Running' } };
  assert.equal(S.matchFields(S.parseFieldSelector('metadata.name=p,status.phase!=Pending', res), pod), true);
  assert.throws(() => S.parseFieldSelector('spec.x=1', res), /field label not supported: spec.x/);
  assert.throws(() => S.parseFieldSelector('spec.x=1', { key: 'x/ks', builtin: false }), /is not a known field selector/);
});

test('field sets round-trip through FieldsV1', () => {
  const set = F.fieldsOf(deployment());
  const tree = F.toFieldsV1(set);
  assert.deepEqual(tree['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"manager"}']['.'], {});
  assert.deepEqual([...F.fromFieldsV1(tree)].sort(), [...set].sort());
});

test('server-side apply: ownership, conflicts, force, and removal of dropped fields', () => {
  const opts = (manager, force = false) => ({ manager, force, apiVersion: 'apps/v1' });
  let r = M.apply(null, deployment(), opts('kustomize-controller'));
  const live = r.object;
  const mine = deployment();
  mine.spec.template.spec.containers[0].image = 'img:2';
  r = M.apply(live, mine, opts('kubectl'));
  assert.equal(r.conflicts.length, 1);
  assert.equal(r.conflicts[0].field, '.spec.template.spec.containers[name="manager"].image');
  r = M.apply(live, mine, opts('kubectl', true));
  assert.equal(r.object.spec.template.spec.containers[0].image, 'img:2');
  const owners = r.object.metadata.managedFields.map((e) => e.manager).sort();
  assert.deepEqual(owners, ['kubectl', 'kustomize-controller']);
  // Flux applies with force: it takes the image back; env A, co-owned by kubectl, stays
  // when Flux stops applying it.
  const flux = deployment();
  delete flux.spec.template.spec.containers[0].env;
  assert.equal(M.apply(r.object, flux, opts('kustomize-controller')).conflicts.length, 1);
  const kept = M.apply(r.object, flux, opts('kustomize-controller', true)).object;
  assert.equal(kept.spec.template.spec.containers[0].image, 'img:1');
  assert.deepEqual(kept.spec.template.spec.containers[0].env, [{ name: 'A', value: '1' }]);
  // A field only kustomize-controller applied disappears when it stops applying it.
  const withLabel = deployment();
  withLabel.metadata.labels.extra = 'x';
  const step1 = M.apply(kept, withLabel, opts('kustomize-controller', true)).object;
  assert.equal(step1.metadata.labels.extra, 'x');
  const step2 = M.apply(step1, deployment(), opts('kustomize-controller', true)).object;
  assert.equal(step2.metadata.labels.extra, undefined);
  assert.equal(step2.metadata.labels.app, 'kc');
});

test('updates take ownership of the fields they change', () => {
  const live = M.apply(null, deployment(), { manager: 'kustomize-controller', apiVersion: 'apps/v1' }).object;
  const changed = structuredClone(live);
  changed.metadata.labels.app = 'other';
  changed.metadata.annotations = { note: 'x' };
  const out = M.trackUpdate(live, changed, { manager: 'kubectl-patch', apiVersion: 'apps/v1' });
  const patchEntry = out.metadata.managedFields.find((e) => e.manager === 'kubectl-patch');
  assert.deepEqual(Object.keys(patchEntry.fieldsV1['f:metadata']).sort(), ['f:annotations', 'f:labels']);
  const fluxEntry = out.metadata.managedFields.find((e) => e.manager === 'kustomize-controller');
  assert.equal(fluxEntry.fieldsV1['f:metadata'], undefined, 'the changed label is no longer Flux-owned');
  assert.ok(fluxEntry.fieldsV1['f:spec']);
});

function pbString(field, s) {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
}
const pbMessage = (field, body) => Buffer.concat([Buffer.from([(field << 3) | 2, body.length]), body]);

test('protobuf TokenRequest decoding', () => {
  const spec = Buffer.concat([pbString(1, 'api://AzureADTokenExchange'), Buffer.from([4 << 3, 0x90, 0x1c])]);
  const raw = Buffer.concat([pbMessage(1, pbString(1, 'kc')), pbMessage(2, spec)]);
  const typeMeta = Buffer.concat([pbString(1, 'authentication.k8s.io/v1'), pbString(2, 'TokenRequest')]);
  const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), pbMessage(1, typeMeta), pbMessage(2, raw)]);
  const obj = protobuf.decode(body);
  assert.deepEqual(obj.spec, { audiences: ['api://AzureADTokenExchange'], expirationSeconds: 3600 });
  assert.equal(obj.metadata.name, 'kc');
  assert.throws(() => protobuf.decode(Buffer.from('nope')), /magic/);
});

test('the CA issues certificates that verify', () => {
  const ca = createCA();
  const server = ca.issue({ cn: 'apiserver' });
  assert.equal(server.certificate.verify(ca.certificate.publicKey), true);
  assert.match(server.certificate.subjectAltName, /IP Address:127\.0\.0\.1/);
  assert.equal(server.certificate.checkIP('127.0.0.1'), '127.0.0.1');
  const client = ca.issue({ cn: 'lab-admin', orgs: ['system:masters'], usage: 'client', keyType: 'rsa' });
  assert.match(client.certificate.subject, /O=system:masters/);
  assert.equal(client.certificate.verify(ca.certificate.publicKey), true);
  assert.equal(crypto.createPrivateKey(client.keyPem).asymmetricKeyType, 'rsa');
  assert.equal(ca.certificate.ca, true);
});
