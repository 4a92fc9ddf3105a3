'use strict';
// Virtual create-only resources: TokenRequest, SelfSubjectAccessReview, SelfSubjectReview.
const E = require('./errors');
const R = require('./resources');
const { authorize } = require('./rbac');

const SA = R.byKey('/serviceaccounts');
const POD = R.byKey('/pods');
const SECRET = R.byKey('/secrets');

function tokenInvalid(name, message, field = 'spec.expirationSeconds') {
  return E.status(422, 'Invalid', `TokenRequest.authentication.k8s.io "${name}" is invalid: ${field}: ${message}`,
    { name, group: 'authentication.k8s.io', kind: 'TokenRequest', causes: [{ reason: 'FieldValueInvalid', message, field }] });
}

function boundObject(store, ns, ref) {
  if (!ref) return {};
  const res = { Pod: POD, Secret: SECRET }[ref.kind];
  if (!res) throw E.badRequest(`cannot bind token for object of kind ${ref.kind}`);
  const obj = store.get(res, ns, ref.name);
  if (!obj) throw E.notFound(res, ref.name);
  if (ref.uid && ref.uid !== obj.metadata.uid) {
    throw E.status(409, 'Conflict', `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  return ref.kind === 'Pod' ? { pod: obj } : { secret: obj };
}

// POST /api/v1/namespaces/NS/serviceaccounts/NAME/token
function tokenRequest({ store, issuer, apiAudiences }, ns, name, body) {
  const spec = body.spec || {};
  const exp = spec.expirationSeconds ?? 3600;
  if (!Number.isInteger(exp)) throw E.badRequest('spec.expirationSeconds must be an integer');
  if (exp < 600) throw tokenInvalid(name, `Invalid value: ${exp}: may not specify a duration less than 10 minutes`);
  if (exp > 2 ** 32) throw tokenInvalid(name, `Invalid value: ${exp}: may not specify a duration larger than 2^32 seconds`);
  const sa = store.get(SA, ns, name);
  if (!sa) throw E.notFound(SA, name);
  const audiences = spec.audiences && spec.audiences.length ? spec.audiences : apiAudiences;
  const bound = boundObject(store, ns, spec.boundObjectRef);
  const { token, expiration } = issuer.serviceAccountToken(sa, { audiences, expirationSeconds: exp, ...bound });
  return {
    kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace: ns, creationTimestamp: null },
    spec: { audiences, expirationSeconds: exp, boundObjectRef: spec.boundObjectRef || null },
    status: { token, expirationTimestamp: expiration.toISOString().replace(/\.\d+Z$/, 'Z') },
  };
}

function selfSubjectAccessReview(store, user, body) {
  const spec = body.spec || {};
  let attrs;
  if (spec.resourceAttributes) {
    const a = spec.resourceAttributes;
    attrs = { verb: a.verb || '', group: a.group || '', resource: a.resource || '', subresource: a.subresource || '', namespace: a.namespace || '', name: a.name || '' };
  } else if (spec.nonResourceAttributes) {
    attrs = { verb: spec.nonResourceAttributes.verb || '', path: spec.nonResourceAttributes.path || '' };
  } else {
    throw E.status(422, 'Invalid', 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
  }
  const allowed = authorize(store, user, attrs);
  return {
    kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null }, spec,
    status: allowed ? { allowed: true, reason: 'RBAC: allowed by a binding' } : { allowed: false },
  };
}

function selfSubjectReview(user) {
  return {
    kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null },
    status: { userInfo: { username: user.name, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups } },
  };
}

module.exports = { tokenRequest, selfSubjectAccessReview, selfSubjectReview };
