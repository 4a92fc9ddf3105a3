'use strict';
// Built-in admission for pods: the ServiceAccount plugin (the SA must exist;
// the kube-api-access projected volume is added).
const E = require('./errors');
const R = require('./resources');

const SA = R.byKey('/serviceaccounts');
const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

function apiAccessVolume(name) {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

function serviceAccountAdmission(res, pod, op, { api }) {
  if (res.plural !== 'pods' || op !== 'CREATE') return;
  const ns = pod.metadata.namespace;
  const saName = pod.spec.serviceAccountName || 'default';
  if (!api.store.get(SA, ns, saName)) {
    const name = pod.metadata.name || pod.metadata.generateName || '';
    throw E.status(403, 'Forbidden',
      `pods "${name}" is forbidden: error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`,
      { name, kind: 'pods' });
  }
  if (pod.spec.automountServiceAccountToken === false) return;
  if ((pod.spec.containers || []).some((c) => (c.volumeMounts || []).some((m) => m.mountPath === TOKEN_DIR))) return;
  const volName = `kube-api-access-${api.randomSuffix(5)}`;
  pod.spec.volumes = [...(pod.spec.volumes || []), apiAccessVolume(volName)];
  for (const c of [...(pod.spec.containers || []), ...(pod.spec.initContainers || [])]) {
    c.volumeMounts = [...(c.volumeMounts || []), { name: volName, readOnly: true, mountPath: TOKEN_DIR }];
  }
}

module.exports = { serviceAccountAdmission };
