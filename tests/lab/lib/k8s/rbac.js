'use strict';
// RBAC authorization from the stored Roles, ClusterRoles and bindings.
const R = require('./resources');

const CR = R.byKey('rbac.authorization.k8s.io/clusterroles');
const CRB = R.byKey('rbac.authorization.k8s.io/clusterrolebindings');
const ROLE = R.byKey('rbac.authorization.k8s.io/roles');
const RB = R.byKey('rbac.authorization.k8s.io/rolebindings');

function subjectMatches(s, user) {
  if (s.kind === 'User') return s.name === user.name;
  if (s.kind === 'Group') return user.groups.includes(s.name);
  if (s.kind === 'ServiceAccount') return user.name === `system:serviceaccount:${s.namespace}:${s.name}`;
  return false;
}

const has = (list, v) => (list || []).includes('*') || (list || []).includes(v);

function ruleAllows(rule, a) {
  if (!has(rule.verbs, a.verb)) return false;
  if (a.path !== undefined) {
    return (rule.nonResourceURLs || []).some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  }
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  if (!has(rule.apiGroups, a.group) || !has(rule.resources, resource)) return false;
  return !rule.resourceNames || !rule.resourceNames.length || rule.resourceNames.includes(a.name);
}

function roleRules(store, ref, namespace) {
  const role = ref.kind === 'ClusterRole' ? store.get(CR, '', ref.name) : store.get(ROLE, namespace, ref.name);
  return role ? role.rules || [] : [];
}

function applicableRules(store, user, namespace) {
  const rules = [];
  for (const b of store.list(CRB)) {
    if ((b.subjects || []).some((s) => subjectMatches(s, user))) rules.push(...roleRules(store, b.roleRef, ''));
  }
  if (namespace) {
    for (const b of store.list(RB, namespace)) {
      if ((b.subjects || []).some((s) => subjectMatches(s, user))) rules.push(...roleRules(store, b.roleRef, namespace));
    }
  }
  return rules;
}

// attrs: {verb, group, resource, subresource, namespace, name} or {verb, path}
function authorize(store, user, attrs) {
  if (user.groups.includes('system:masters')) return true;
  return applicableRules(store, user, attrs.namespace).some((r) => ruleAllows(r, attrs));
}

module.exports = { authorize };
