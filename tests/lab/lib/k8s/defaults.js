'use strict';
// Defaulting and validation for the kinds the lab serves (the parts that
// clients notice: required fields, name syntax, defaulted spec fields).
const { invalid } = require('./errors');

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAMED = ['namespaces', 'services'];
const RBAC_NAMED = ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'];

function nameError(res, name) {
  if (RBAC_NAMED.includes(res.plural)) return name && !/[/%]/.test(name) ? null : 'may not contain \'/\' or \'%\'';
  if (LABEL_NAMED.includes(res.plural)) {
    if (name.length <= 63 && DNS1123_LABEL.test(name)) return null;
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  }
  if (name.length <= 253 && DNS1123_SUBDOMAIN.test(name)) return null;
  return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
}

function validateName(res, obj) {
  const name = obj.metadata.name;
  if (!name) {
    throw invalid(res.kind, res.group, '', [{ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' }]);
  }
  const err = nameError(res, name);
  if (err) throw invalid(res.kind, res.group, name, [{ field: 'metadata.name', message: `Invalid value: "${name}": ${err}` }]);
}

function defaultContainer(c) {
  c.imagePullPolicy ??= /:latest$|^[^:]*$/.test(c.image || '') ? 'Always' : 'IfNotPresent';
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const p of c.ports || []) p.protocol ??= 'TCP';
}

function defaultPodSpec(spec) {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  if (spec.serviceAccountName === undefined && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount = spec.serviceAccountName;
  for (const c of [...(spec.containers || []), ...(spec.initContainers || [])]) defaultContainer(c);
}

const DEFAULTERS = {
  namespaces(o) {
    o.metadata.labels = { ...(o.metadata.labels || {}), 'kubernetes.io/metadata.name': o.metadata.name };
    o.spec = { finalizers: ['kubernetes'], ...(o.spec || {}) };
    o.status = { phase: 'Active', ...(o.status || {}) };
  },
  secrets(o) {
    o.type ??= 'Opaque';
    if (o.stringData) {
      o.data = { ...(o.data || {}) };
      for (const [k, v] of Object.entries(o.stringData)) o.data[k] = Buffer.from(String(v)).toString('base64');
      delete o.stringData;
    }
  },
  pods(o) {
    defaultPodSpec(o.spec ||= {});
    o.spec.enableServiceLinks ??= true;
    o.spec.preemptionPolicy ??= 'PreemptLowerPriority';
    o.spec.priority ??= 0;
  },
  deployments(o) {
    const s = (o.spec ||= {});
    s.replicas ??= 1;
    s.revisionHistoryLimit ??= 10;
    s.progressDeadlineSeconds ??= 600;
    s.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
    if (s.template) defaultPodSpec(s.template.spec ||= {});
  },
  replicasets(o) {
    o.spec ||= {};
    o.spec.replicas ??= 1;
    if (o.spec.template) defaultPodSpec(o.spec.template.spec ||= {});
  },
};

function selectorMatchesTemplate(selector, labels) {
  return Object.entries(selector?.matchLabels || {}).every(([k, v]) => (labels || {})[k] === v);
}

const VALIDATORS = {
  deployments(o) {
    const causes = [];
    if (!o.spec?.selector) causes.push({ field: 'spec.selector', reason: 'FieldValueRequired', message: 'Required value' });
    else if (!selectorMatchesTemplate(o.spec.selector, o.spec.template?.metadata?.labels)) {
      causes.push({ field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(o.spec.template?.metadata?.labels || {})}: \`selector\` does not match template \`labels\`` });
    }
    if (!o.spec?.template?.spec?.containers?.length) causes.push({ field: 'spec.template.spec.containers', reason: 'FieldValueRequired', message: 'Required value' });
    if (o.spec?.replicas < 0) causes.push({ field: 'spec.replicas', message: `Invalid value: ${o.spec.replicas}: must be greater than or equal to 0` });
    return causes;
  },
  pods(o) {
    const causes = [];
    if (!o.spec?.containers?.length) causes.push({ field: 'spec.containers', reason: 'FieldValueRequired', message: 'Required value' });
    (o.spec?.containers || []).forEach((c, i) => {
      if (!c.name) causes.push({ field: `spec.containers[${i}].name`, reason: 'FieldValueRequired', message: 'Required value' });
      if (!c.image) causes.push({ field: `spec.containers[${i}].image`, reason: 'FieldValueRequired', message: 'Required value' });
    });
    return causes;
  },
  kustomizations(o) {
    const causes = [];
    if (!o.spec?.sourceRef?.name) causes.push({ field: 'spec.sourceRef', reason: 'FieldValueRequired', message: 'Required value' });
    if (!o.spec?.interval) causes.push({ field: 'spec.interval', reason: 'FieldValueRequired', message: 'Required value' });
    if (!o.spec?.prune && o.spec?.prune !== false) causes.push({ field: 'spec.prune', reason: 'FieldValueRequired', message: 'Required value' });
    if (o.spec?.decryption && o.spec.decryption.provider !== 'sops') {
      causes.push({ field: 'spec.decryption.provider', reason: 'FieldValueNotSupported', message: `Unsupported value: "${o.spec.decryption.provider}": supported values: "sops"` });
    }
    return causes;
  },
  gitrepositories(o) {
    if (o.spec?.url) return [];
    return [{ field: 'spec.url', reason: 'FieldValueRequired', message: 'Required value' }];
  },
};

function applyDefaults(res, obj) {
  const fn = DEFAULTERS[res.plural];
  if (fn) fn(obj);
}

function validate(res, obj) {
  validateName(res, obj);
  const fn = VALIDATORS[res.plural];
  const causes = fn ? fn(obj) : [];
  if (causes.length) throw invalid(res.kind, res.group, obj.metadata.name, causes);
}

// Kinds whose metadata.generation tracks spec changes.
const GENERATION = ['deployments', 'replicasets', 'kustomizations', 'gitrepositories', 'mutatingwebhookconfigurations',
  'validatingwebhookconfigurations', 'pods'];

module.exports = { applyDefaults, validate, GENERATION };
