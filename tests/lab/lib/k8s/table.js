'use strict';
// meta.k8s.io/v1 Table answers, as `kubectl get` asks for them.

function age(ts) {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (h < 3) return `${m}m`;
  if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  if (h < 48) return `${h}h`;
  return `${d}d`;
}

const col = (name, description, type = 'string', priority = 0, format = '') => ({ name, type, format, description, priority });
const NAME = col('Name', 'Name must be unique within a namespace.', 'string', 0, 'name');
const AGE = col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

function readyCondition(o) {
  const c = (o.status?.conditions || []).find((x) => x.type === 'Ready');
  return c ? [c.status, c.message || ''] : ['Unknown', ''];
}

function podCells(o) {
  const statuses = o.status?.containerStatuses || [];
  const ready = statuses.filter((s) => s.ready).length;
  const restarts = statuses.reduce((n, s) => n + (s.restartCount || 0), 0);
  const phase = o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.phase || 'Pending');
  const reason = statuses.find((s) => s.state?.waiting?.reason)?.state.waiting.reason;
  return [`${ready}/${(o.spec?.containers || []).length}`, reason || phase, restarts, age(o.metadata.creationTimestamp),
    o.status?.podIP || '<none>', o.spec?.nodeName || '<none>'];
}

const TABLES = {
  namespaces: [[NAME, col('Status', 'The status of the namespace'), AGE],
    (o) => [o.status?.phase || 'Active', age(o.metadata.creationTimestamp)]],
  pods: [[NAME, col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'), col('Status', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'The number of times the containers in this pod have been restarted.', 'string'), AGE,
    col('IP', 'IP address allocated to the pod.', 'string', 1), col('Node', 'Name of the Node this pod is running on.', 'string', 1)], podCells],
  deployments: [[NAME, col('Ready', 'Number of the pod with ready state'), col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', 'integer'),
    col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', 'integer'), AGE,
    col('Containers', 'Names of each container in the template.', 'string', 1), col('Images', 'Images referenced by each container in the template.', 'string', 1)],
  (o) => [`${o.status?.readyReplicas || 0}/${o.spec?.replicas ?? 1}`, o.status?.updatedReplicas || 0, o.status?.availableReplicas || 0,
    age(o.metadata.creationTimestamp), (o.spec?.template?.spec?.containers || []).map((c) => c.name).join(','),
    (o.spec?.template?.spec?.containers || []).map((c) => c.image).join(',')]],
  replicasets: [[NAME, col('Desired', 'Number of desired pods.', 'integer'), col('Current', 'Number of actual replicas.', 'integer'),
    col('Ready', 'Number of ready replicas.', 'integer'), AGE],
  (o) => [o.spec?.replicas ?? 1, o.status?.replicas || 0, o.status?.readyReplicas || 0, age(o.metadata.creationTimestamp)]],
  serviceaccounts: [[NAME, col('Secrets', 'Secrets is the list of secrets allowed to be used by pods running using this ServiceAccount.', 'string', 1), AGE],
    (o) => [(o.secrets || []).length, age(o.metadata.creationTimestamp)]],
  secrets: [[NAME, col('Type', 'The type of the secret'), col('Data', 'The number of entries in the secret', 'string'), AGE],
    (o) => [o.type || 'Opaque', Object.keys(o.data || {}).length, age(o.metadata.creationTimestamp)]],
  configmaps: [[NAME, col('Data', 'Number of data in the configmap', 'string'), AGE],
    (o) => [Object.keys(o.data || {}).length + Object.keys(o.binaryData || {}).length, age(o.metadata.creationTimestamp)]],
  mutatingwebhookconfigurations: [[NAME, col('Webhooks', 'Webhooks indicates the number of webhooks.', 'integer'), AGE],
    (o) => [(o.webhooks || []).length, age(o.metadata.creationTimestamp)]],
  kustomizations: [[NAME, AGE, col('Ready', ''), col('Status', '')],
    (o) => [age(o.metadata.creationTimestamp), ...readyCondition(o)]],
  gitrepositories: [[NAME, col('URL', ''), AGE, col('Ready', ''), col('Status', '')],
    (o) => [o.spec?.url || '', age(o.metadata.creationTimestamp), ...readyCondition(o)]],
};

// Events put their name last (priority 1), like the API server's table for them.
const EVENTS = [[col('Last Seen', 'Time since the most recent occurrence of this event'), col('Type', 'Type of this event'),
  col('Reason', 'Short, machine understandable string that gives the reason for this event being generated'),
  col('Object', 'The object that this event is about'), col('Message', 'A human-readable description of the status of this operation'),
  { ...NAME, priority: 1 }],
(o) => [age(o.lastTimestamp || o.metadata.creationTimestamp), o.type || '', o.reason || '',
  `${(o.involvedObject?.kind || '').toLowerCase()}/${o.involvedObject?.name || ''}`, o.message || '', o.metadata.name]];

const DEFAULT = [[NAME, AGE], (o) => [age(o.metadata.creationTimestamp)]];

function wantsTable(accept) {
  return /as=Table/.test(accept || '');
}

function rowObject(o, includeObject) {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

// objects: array; listMeta: {resourceVersion, continue, remainingItemCount}
function toTable(res, objects, listMeta = {}, includeObject = 'Metadata') {
  const full = res.plural === 'events';
  const [columns, cells] = full ? EVENTS : (TABLES[res.plural] || DEFAULT);
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta,
    columnDefinitions: columns,
    rows: objects.map((o) => ({ cells: full ? cells(o) : [o.metadata.name, ...cells(o)], object: rowObject(o, includeObject) })),
  };
}

module.exports = { toTable, wantsTable, age };
