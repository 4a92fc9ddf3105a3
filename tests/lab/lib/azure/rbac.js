'use strict';
// Azure RBAC for the vault's data plane (when the vault has enableRbacAuthorization):
// built-in Key Vault roles, role assignments at subscription / resource group / vault / key
// scope, and the ForbiddenByRbac refusal.

const KV = 'Microsoft.KeyVault/vaults/keys/';
const ACTIONS = {
  get: KV + 'read', list: KV + 'read', encrypt: KV + 'encrypt/action', decrypt: KV + 'decrypt/action',
  wrapKey: KV + 'wrap/action', unwrapKey: KV + 'unwrap/action',
};
const ALL = Object.values(ACTIONS);
const ROLES = {
  'Key Vault Crypto User': { id: '12338af0-0e69-4776-bea7-57ae8d297424', actions: ALL },
  'Key Vault Crypto Officer': { id: '14b46e9e-c2b7-41b4-b07b-48a6ebf60603', actions: ALL },
  'Key Vault Crypto Service Encryption User': { id: 'e147488a-f6f5-4113-8e2d-b22465e65bf6', actions: [ACTIONS.get, ACTIONS.wrapKey, ACTIONS.unwrapKey] },
  'Key Vault Administrator': { id: '00482a5a-887f-4fb3-b363-3b7fe8e74483', actions: ALL },
  'Key Vault Reader': { id: '21090545-7ca7-4776-b22c-e363652d74d2', actions: [ACTIONS.get] },
};

function roleByName(name) {
  const key = Object.keys(ROLES).find((r) => r.toLowerCase() === String(name).toLowerCase() || ROLES[r].id === name);
  if (!key) throw new Error('unknown role ' + name + ' (known: ' + Object.keys(ROLES).join(', ') + ')');
  return key;
}

function vaultScope(st) {
  return '/subscriptions/' + st.subscriptionId + '/resourceGroups/' + st.resourceGroup + '/providers/Microsoft.KeyVault/vaults/' + st.vaultName;
}

function covers(scope, resource) {
  const s = scope.toLowerCase().replace(/\/$/, '');
  const r = resource.toLowerCase();
  return r === s || r.startsWith(s + '/');
}

function allowed(st, oid, perm, keyName) {
  const resource = vaultScope(st) + '/keys/' + keyName;
  const action = ACTIONS[perm];
  return st.roleAssignments.some((a) => a.principalId === oid && covers(a.scope, resource) && ROLES[a.role].actions.includes(action));
}

function refusal(st, claims, perm, keyName) {
  const resource = (vaultScope(st) + '/keys/' + keyName).toLowerCase();
  return 'Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n' +
    'Caller: appid=' + claims.appid + ';oid=' + claims.oid + ';iss=' + claims.iss + '\r\n' +
    'Action: \'' + ACTIONS[perm] + '\'\r\n' +
    'Resource: \'' + resource + '\'\r\n' +
    'Assignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: \'DeniedWithNoValidRBAC\' \r\n' +
    'Vault: ' + st.vaultName + ';location=' + st.location + '\r\n';
}

function assign(st, principalId, role, scope) {
  const r = roleByName(role);
  const a = { id: require('node:crypto').randomUUID(), principalId, role: r, scope: scope || vaultScope(st) };
  st.roleAssignments = st.roleAssignments.filter((x) => !(x.principalId === principalId && x.role === r && x.scope === a.scope));
  st.roleAssignments.push(a);
  return a;
}

function assignmentJson(st, a) {
  return {
    id: a.scope + '/providers/Microsoft.Authorization/roleAssignments/' + a.id,
    name: a.id,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      roleDefinitionId: '/subscriptions/' + st.subscriptionId + '/providers/Microsoft.Authorization/roleDefinitions/' + ROLES[a.role].id,
      principalId: a.principalId, principalType: 'ServicePrincipal', scope: a.scope,
    },
  };
}

module.exports = { ROLES, ACTIONS, allowed, refusal, assign, roleByName, vaultScope, covers, assignmentJson };
