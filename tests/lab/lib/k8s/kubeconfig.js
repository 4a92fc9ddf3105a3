'use strict';
// DIR/kubeconfig: cluster "lab", users "lab-admin" (client certificate) and
// "restricted" (bearer token limited by RBAC), contexts "lab" and "lab-restricted".
const YAML = require('yaml');

const b64 = (s) => Buffer.from(s).toString('base64');

function kubeconfig({ server, caPem, adminCert, restrictedToken, namespace = 'default' }) {
  return {
    apiVersion: 'v1', kind: 'Config', preferences: {},
    clusters: [{ name: 'lab', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [
      { name: 'lab-admin', user: { 'client-certificate-data': b64(adminCert.certPem), 'client-key-data': b64(adminCert.keyPem) } },
      { name: 'restricted', user: { token: restrictedToken } },
    ],
    contexts: [
      { name: 'lab', context: { cluster: 'lab', user: 'lab-admin', namespace } },
      { name: 'lab-restricted', context: { cluster: 'lab', user: 'restricted', namespace } },
    ],
    'current-context': 'lab',
  };
}

function writeKubeconfig(ctx, opts) {
  ctx.writeFile('kubeconfig', YAML.stringify(kubeconfig(opts)), 0o600);
  return ctx.file('kubeconfig');
}

module.exports = { writeKubeconfig, kubeconfig };
