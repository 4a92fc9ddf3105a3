'use strict';
// start/stop: two labs side by side, distinct free ports, files written,
// nothing left running afterwards.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const { startLab, run, isAlive, eventually, LAB } = require('./helpers/k8s-lab');

function portOpen(hostport) {
  const [host, port] = hostport.split(':');
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port) }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

test('two labs run side by side and stop cleanly', async (t) => {
  const a = await startLab();
  t.after(() => a.stop());
  const b = await startLab();
  t.after(() => b.stop());

  assert.notEqual(a.urls.apiserver, b.urls.apiserver);
  for (const lab of [a, b]) {
    for (const f of ['kubeconfig', 'ca.crt', 'env', 'pid', 'lab.log', 'admin-token']) {
      assert.ok(fs.existsSync(path.join(lab.dir, f)), `${f} missing`);
    }
    assert.equal(lab.env.KUBECONFIG, path.join(lab.dir, 'kubeconfig'));
    assert.equal(lab.env.SSL_CERT_FILE, path.join(lab.dir, 'ca.crt'));
    assert.equal(lab.env.LAB_DIR, lab.dir);
    assert.ok(lab.env.PATH.startsWith(path.join(LAB, 'bin') + ':'));
    assert.equal(lab.env.AZURE_CLIENT_ID, undefined);
    assert.equal(lab.env.AZURE_CLIENT_SECRET, undefined);
    const hosts = lab.env.FLUXWI_TRUSTED_HOSTS.split(',');
    assert.ok(hosts.includes(new URL(lab.urls.apiserver).host));
    assert.equal(fs.statSync(path.join(lab.dir, 'kubeconfig')).mode & 0o077, 0, 'kubeconfig must not be group/world readable');
    const r = await lab.kubectl(['get', 'ns', 'flux-system', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'namespace/flux-system');
  }

  const again = await run(path.join(LAB, 'start'), [a.dir]);
  assert.equal(again.code, 2, 'a second start in the same directory is refused');
  assert.match(again.stderr, /already running/);

  // labctl: counters and their reset, unknown verbs.
  await a.kubectl(['get', 'secrets', '-n', 'flux-system']);
  await a.kubectl(['get', 'secrets', '-n', 'flux-system']);
  const first = JSON.parse((await a.labctl(['counters', '--reset'])).stdout);
  assert.equal(first['k8s.list.secrets'], 2);
  const after = JSON.parse((await a.labctl(['counters'])).stdout);
  assert.equal(after['k8s.list.secrets'], undefined);
  const bad = await a.labctl(['no-such-verb']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown verb .*no-such-verb/);

  const hostA = new URL(a.urls.apiserver).host;
  await a.stop();
  assert.equal(isAlive(a.pid), false);
  assert.equal(await portOpen(hostA), false, 'API server port closed after stop');

  // The safety net: a lab exits by itself when its directory is removed.
  fs.rmSync(b.dir, { recursive: true, force: true });
  await eventually(() => assert.equal(isAlive(b.pid), false), { timeout: 8000 });
  await b.stop();
});

test('start fails with a clear message for a bad scenario', async () => {
  await assert.rejects(startLab({ scenario: 'bogus: [1]\n' }), /unknown section\(s\): bogus/);
});
