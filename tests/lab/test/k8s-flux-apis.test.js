'use strict';
// Which Flux APIs the lab cluster serves: v1beta2 only (Flux < 2.0), or none
// (Flux not installed). The default (v1 + deprecated v1beta2) is in k8s-kubectl.test.js.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startLab, ok } = require('./helpers/k8s-lab');

test('Flux not installed: no group, no objects, 404 without a name', async (t) => {
  const lab = await startLab({ scenario: 'kubernetes:\n  flux:\n    installed: false\n' });
  t.after(() => lab.stop());
  const groups = JSON.parse(await ok(lab, ['get', '--raw', '/apis']));
  assert.ok(!groups.groups.some((g) => g.name.endsWith('.toolkit.fluxcd.io')));
  const r = await lab.kubectl(['get', '--raw', '/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/flux-system']);
  assert.match(r.stderr, /NotFound.*the server could not find the requested resource/);
  const ns = await lab.kubectl(['get', 'ns', 'flux-system']);
  assert.notEqual(ns.code, 0);
});

test('Flux before 2.0: only v1beta2', async (t) => {
  const lab = await startLab({ scenario: 'kubernetes:\n  flux:\n    versions: [v1beta2]\n' });
  t.after(() => lab.stop());
  const group = JSON.parse(await ok(lab, ['get', '--raw', '/apis/source.toolkit.fluxcd.io']));
  assert.deepEqual(group.versions.map((v) => v.version), ['v1beta2']);
  const list = await ok(lab, ['get', 'gitrepositories', '-A', '-o', 'json']);
  assert.equal(list.items[0].apiVersion, 'source.toolkit.fluxcd.io/v1beta2');
  const v1 = await lab.kubectl(['get', '--raw', '/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories']);
  assert.match(v1.stderr, /NotFound/);
});
