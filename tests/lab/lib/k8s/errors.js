'use strict';
// Kubernetes Status errors with the real reasons, codes and messages.
const { HttpError } = require('../http');

function status(code, reason, message, details) {
  const body = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) body.details = details;
  return new HttpError(code, message, body);
}

// res = resource descriptor ({group, plural}); "deployments.apps" or "pods"
const qualified = (res) => (res.group ? `${res.plural}.${res.group}` : res.plural);
const detailsFor = (res, name) => ({ ...(name !== undefined ? { name } : {}), group: res.group, kind: res.plural });

const notFound = (res, name) =>
  status(404, 'NotFound', `${qualified(res)} "${name}" not found`, detailsFor(res, name));

const alreadyExists = (res, name) =>
  status(409, 'AlreadyExists', `${qualified(res)} "${name}" already exists`, detailsFor(res, name));

const conflict = (res, name) =>
  status(409, 'Conflict',
    `Operation cannot be fulfilled on ${qualified(res)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    detailsFor(res, name));

// causes: [{reason, message, field}]
function invalid(kind, group, name, causes) {
  const list = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  const gk = group ? `${kind}.${group}` : kind;
  return status(422, 'Invalid', `${gk} "${name}" is invalid: ${causes.length > 1 ? `[${list}]` : list}`,
    { name, group, kind, causes: causes.map((c) => ({ reason: c.reason || 'FieldValueInvalid', message: c.message, field: c.field })) });
}

const badRequest = (message) => status(400, 'BadRequest', message);
const unauthorized = () => status(401, 'Unauthorized', 'Unauthorized');
const methodNotAllowed = (message = 'the server does not allow this method on the requested resource') =>
  status(405, 'MethodNotAllowed', message, {});
const notFoundPath = () => status(404, 'NotFound', 'the server could not find the requested resource', {});
const unsupportedMediaType = (type, accepted) =>
  status(415, 'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`, {});
const expired = (message) => status(410, 'Expired', message);
const internal = (message) => status(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });

function scopeText(namespace) {
  return namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
}

// Forbidden in the apiserver's wording, e.g.
// secrets "x" is forbidden: User "developer" cannot get resource "secrets" in API group "" in the namespace "ns"
function forbidden(user, attrs) {
  if (attrs.path) {
    return status(403, 'Forbidden', `forbidden: User "${user}" cannot ${attrs.verb} path "${attrs.path}"`, {});
  }
  const res = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const what = attrs.group ? `${attrs.resource}.${attrs.group}` : attrs.resource;
  const subject = attrs.name ? `${what} "${attrs.name}"` : what;
  const msg = `${subject} is forbidden: User "${user}" cannot ${attrs.verb} resource "${res}" in API group "${attrs.group}" ${scopeText(attrs.namespace)}`;
  return status(403, 'Forbidden', msg, { ...(attrs.name ? { name: attrs.name } : {}), group: attrs.group, kind: attrs.resource });
}

const invalidForce = () => status(422, 'Invalid',
  'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
  { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified for non-apply patch', field: 'force' }] });

function applyConflicts(res, name, conflicts) {
  const n = conflicts.length;
  const lines = conflicts.map((c) => `- conflict with "${c.manager}"${c.operation === 'Update' ? ' using ' + c.apiVersion : ''}: ${c.field}`);
  const msg = `Apply failed with ${n} conflict${n > 1 ? 's' : ''}: ${n === 1 ? lines[0].slice(2) : '\n' + lines.join('\n')}`;
  return status(409, 'Conflict', msg, {
    name, group: res.group, kind: res.plural,
    causes: conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}"${c.operation === 'Update' ? ' using ' + c.apiVersion : ''}`,
      field: c.field,
    })),
  });
}

module.exports = {
  status, notFound, alreadyExists, conflict, invalid, badRequest, unauthorized, methodNotAllowed,
  notFoundPath, unsupportedMediaType, invalidForce, expired, internal, forbidden, applyConflicts, qualified,
};
