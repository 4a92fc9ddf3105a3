'use strict';
// Azure Resource Manager, the parts the suite reads: user-assigned identities and their
// federated identity credentials (also PUT/DELETE for `az identity federated-credential`),
// and the vault's access policies.
const crypto = require('node:crypto');
const { Router, HttpError, serveRouter } = require('../http');
const M = require('./model');
const entra = require('./entra');
const rbac = require('./rbac');

const AUDIENCES = ['https://management.core.windows.net/', 'https://management.core.windows.net',
  'https://management.azure.com/', 'https://management.azure.com'];

function armError(status, code, message, headers) {
  return new HttpError(status, message, { error: { code, message } }, headers);
}

function authenticate(ctx, req) {
  const st = ctx.state.azure;
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization || '');
  const wwwa = { 'WWW-Authenticate': 'Bearer authorization_uri="' + ctx.urls.entra + '/' + st.tenantId + '", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."' };
  if (!m) throw armError(401, 'AuthenticationFailed', 'Authentication failed. The \'Authorization\' header is missing.', wwwa);
  const r = entra.checkAccessToken(ctx, m[1]);
  if (r.fail === 'expired') throw armError(401, 'ExpiredAuthenticationToken', 'The access token expiry UTC time is earlier than current UTC time.', wwwa);
  if (r.fail) throw armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', wwwa);
  if (!AUDIENCES.includes(r.payload.aud)) {
    throw armError(401, 'InvalidAuthenticationTokenAudience', 'The access token has been obtained for wrong audience or resource \'' + r.payload.aud +
      '\'. It should exactly match with one of the allowed audiences \'' + AUDIENCES.join('\',\'') + '\'.', wwwa);
  }
  if (r.payload.tid !== st.tenantId) {
    throw armError(401, 'InvalidAuthenticationTokenTenant', 'The access token is from the wrong issuer \'' + r.payload.iss + '\'.', wwwa);
  }
  return r.payload;
}

function common(ctx, req, sub) {
  if (!req.query.get('api-version')) {
    throw armError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  }
  authenticate(ctx, req);
  if (sub.toLowerCase() !== ctx.state.azure.subscriptionId) {
    throw armError(404, 'SubscriptionNotFound', 'The subscription \'' + sub + '\' could not be found.');
  }
}

function identityJson(st, id) {
  return {
    id: M.armId(st, id),
    name: id.name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    location: id.location,
    tags: {},
    properties: { tenantId: st.tenantId, principalId: id.principalId, clientId: id.clientId },
  };
}

function ficJson(st, id, f) {
  return {
    id: M.armId(st, id) + '/federatedIdentityCredentials/' + f.name,
    name: f.name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
    properties: { issuer: f.issuer, subject: f.subject, audiences: f.audiences },
  };
}

function findIdentity(ctx, rg, name) {
  const st = ctx.state.azure;
  const rgs = new Set([...st.identities.values()].map((i) => i.resourceGroup.toLowerCase()).concat([st.resourceGroup.toLowerCase()]));
  if (!rgs.has(rg.toLowerCase())) throw armError(404, 'ResourceGroupNotFound', 'Resource group \'' + rg + '\' could not be found.');
  const id = st.identities.get(name);
  if (!id || id.resourceGroup.toLowerCase() !== rg.toLowerCase()) {
    throw armError(404, 'ResourceNotFound', 'The Resource \'Microsoft.ManagedIdentity/userAssignedIdentities/' + name +
      '\' under resource group \'' + rg + '\' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix');
  }
  return id;
}

function putFic(ctx, req, id, name) {
  const st = ctx.state.azure;
  const body = req.json();
  const p = body.properties || {};
  if (!p.issuer || !p.subject || !Array.isArray(p.audiences) || p.audiences.length !== 1) {
    throw armError(400, 'BadRequest', 'Federated identity credential needs properties.issuer, properties.subject and exactly one audience.');
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/.test(name)) {
    throw armError(400, 'BadRequest', 'The federated identity credential name \'' + name + '\' is invalid.');
  }
  const clash = id.federatedCredentials.find((f) => f.name !== name && f.issuer === p.issuer && f.subject === p.subject);
  if (clash) throw armError(409, 'Conflict', 'A federated identity credential with the same issuer and subject already exists: ' + clash.name + '.');
  if (id.federatedCredentials.length >= 20 && !id.federatedCredentials.some((f) => f.name === name)) {
    throw armError(400, 'BadRequest', 'Too many federated identity credentials: at most 20 per identity.');
  }
  const f = M.fic({ name, issuer: p.issuer, subject: p.subject, audiences: p.audiences });
  const i = id.federatedCredentials.findIndex((x) => x.name === name);
  if (i >= 0) id.federatedCredentials[i] = f;
  else id.federatedCredentials.push(f);
  ctx.counters.inc('arm.fic.put');
  return { value: ficJson(st, id, f), status: i >= 0 ? 200 : 201 };
}

function vaultJson(ctx) {
  const st = ctx.state.azure;
  return {
    id: '/subscriptions/' + st.subscriptionId + '/resourceGroups/' + st.resourceGroup + '/providers/Microsoft.KeyVault/vaults/' + st.vaultName,
    name: st.vaultName, type: 'Microsoft.KeyVault/vaults', location: st.location, tags: {},
    properties: {
      sku: { family: 'A', name: 'standard' }, tenantId: st.tenantId,
      accessPolicies: [...st.policies.entries()].map(([oid, perms]) => ({ tenantId: st.tenantId, objectId: oid, permissions: { keys: [...perms], secrets: [], certificates: [] } })),
      enabledForDeployment: false, enableSoftDelete: true, softDeleteRetentionInDays: 90, enableRbacAuthorization: st.rbac,
      vaultUri: ctx.urls.vault + '/', provisioningState: 'Succeeded',
      publicNetworkAccess: (st.network && st.network.publicNetworkAccess) || 'Enabled',
      networkAcls: { bypass: 'AzureServices', defaultAction: (st.network && st.network.defaultAction) || 'Allow',
        ipRules: ((st.network && st.network.ipRules) || []).map((value) => ({ value })), virtualNetworkRules: [] },
    },
  };
}

function clusterJson(ctx) {
  const st = ctx.state.azure;
  const c = st.cluster;
  const issuer = c.issuerURL !== undefined ? c.issuerURL : ((ctx.state.k8s && ctx.state.k8s.issuer) || ctx.urls.issuer || '');
  return {
    id: '/subscriptions/' + st.subscriptionId + '/resourcegroups/' + st.resourceGroup + '/providers/Microsoft.ContainerService/managedClusters/' + c.name,
    name: c.name, type: 'Microsoft.ContainerService/ManagedClusters', location: st.location,
    properties: {
      provisioningState: 'Succeeded', kubernetesVersion: '1.32.0', fqdn: c.name + '-dns.hcp.' + st.location + '.azmk8s.io',
      nodeResourceGroup: 'MC_' + st.resourceGroup + '_' + c.name + '_' + st.location,
      oidcIssuerProfile: c.oidcIssuerEnabled ? { enabled: true, issuerURL: issuer } : { enabled: false },
      securityProfile: { workloadIdentity: { enabled: !!c.workloadIdentityEnabled } },
      identityProfile: { kubeletidentity: kubelet(st) },
    },
  };
}

function kubelet(st) {
  const name = (st.hostIdentities.imds || [])[0];
  const id = name && st.identities.get(name);
  return id ? { resourceId: M.armId(st, id), clientId: id.clientId, objectId: id.principalId } : null;
}

async function start(ctx) {
  const st = () => ctx.state.azure;
  const r = new Router();
  const SUB = '/subscriptions/([0-9a-fA-F-]+)';
  const UAI = SUB + '/resourceGroups/([^/]+)/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities';
  r.route('GET', new RegExp('^' + SUB + '/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities$', 'i'), (req, m) => {
    common(ctx, req, m[1]);
    return { value: [...st().identities.values()].map((i) => identityJson(st(), i)) };
  });
  r.route('GET', new RegExp('^' + UAI + '$', 'i'), (req, m) => {
    common(ctx, req, m[1]);
    return { value: [...st().identities.values()].filter((i) => i.resourceGroup.toLowerCase() === m[2].toLowerCase()).map((i) => identityJson(st(), i)) };
  });
  r.route('GET', new RegExp('^' + UAI + '/([^/]+)$', 'i'), (req, m) => {
    common(ctx, req, m[1]);
    ctx.counters.inc('arm.identity.get');
    return identityJson(st(), findIdentity(ctx, m[2], m[3]));
  });
  r.route('GET', new RegExp('^' + UAI + '/([^/]+)/federatedIdentityCredentials$', 'i'), (req, m) => {
    common(ctx, req, m[1]);
    ctx.counters.inc('arm.fic.list');
    const id = findIdentity(ctx, m[2], m[3]);
    return { value: id.federatedCredentials.map((f) => ficJson(st(), id, f)) };
  });
  r.route('GET', new RegExp('^' + UAI + '/([^/]+)/federatedIdentityCredentials/([^/]+)$', 'i'), (req, m) => {
    common(ctx, req, m[1]);
    const id = findIdentity(ctx, m[2], m[3]);
    const f = id.federatedCredentials.find((x) => x.name === m[4]);
    if (!f) throw armError(404, 'NotFound', 'Federated identity credential \'' + m[4] + '\' was not found.');
    return ficJson(st(), id, f);
  });
  r.route('PUT', new RegExp('^' + UAI + '/([^/]+)/federatedIdentityCredentials/([^/]+)$', 'i'), (req, m) => {
    common(ctx, req, m[1]);
    const out = putFic(ctx, req, findIdentity(ctx, m[2], m[3]), m[4]);
    req.reply(out.status, out.value);
  });
  r.route('DELETE', new RegExp('^' + UAI + '/([^/]+)/federatedIdentityCredentials/([^/]+)$', 'i'), (req, m) => {
    common(ctx, req, m[1]);
    const id = findIdentity(ctx, m[2], m[3]);
    const before = id.federatedCredentials.length;
    id.federatedCredentials = id.federatedCredentials.filter((x) => x.name !== m[4]);
    req.reply(before === id.federatedCredentials.length ? 204 : 200, {});
  });
  r.route('GET', new RegExp('^' + SUB + '/resourceGroups/([^/]+)/providers/Microsoft\\.KeyVault/vaults/([^/]+)$', 'i'), (req, m) => {
    common(ctx, req, m[1]);
    if (m[3] !== st().vaultName) throw armError(404, 'ResourceNotFound', 'The Resource \'Microsoft.KeyVault/vaults/' + m[3] + '\' under resource group \'' + m[2] + '\' was not found.');
    return vaultJson(ctx);
  });
  r.route('GET', new RegExp('^(' + SUB + '(?:/.*)?)/providers/Microsoft\\.Authorization/roleAssignments$', 'i'), (req, m) => {
    common(ctx, req, m[2]);
    const scope = m[1];
    const f = /principalId eq '([^']+)'/.exec(req.query.get('$filter') || '');
    const list = st().roleAssignments.filter((a) => (rbac.covers(a.scope, scope) || rbac.covers(scope, a.scope)) && (!f || a.principalId === f[1]));
    return { value: list.map((a) => rbac.assignmentJson(st(), a)) };
  });
  r.route('GET', new RegExp('^' + SUB + '/resourceGroups/([^/]+)/providers/Microsoft\\.ContainerService/managedClusters/([^/]+)$', 'i'), (req, m) => {
    common(ctx, req, m[1]);
    const c = st().cluster;
    if (m[3] !== c.name || m[2].toLowerCase() !== st().resourceGroup.toLowerCase()) {
      throw armError(404, 'ResourceNotFound', 'The Resource \'Microsoft.ContainerService/managedClusters/' + m[3] + '\' under resource group \'' + m[2] + '\' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix');
    }
    return clusterJson(ctx);
  });
  r.route('GET', new RegExp('^' + SUB + '$', 'i'), (req, m) => {
    common(ctx, req, m[1]);
    return { id: '/subscriptions/' + st().subscriptionId, subscriptionId: st().subscriptionId, tenantId: st().tenantId, displayName: 'fluxwi lab', state: 'Enabled' };
  });
  const srv = await serveRouter(ctx, 'arm', r, {
    before: (req, res) => {
      ctx.counters.inc('arm.requests');
      res.setHeader('x-ms-request-id', crypto.randomUUID());
      res.setHeader('x-ms-correlation-request-id', crypto.randomUUID());
    },
  });
  ctx.urls.arm = srv.url;
  return srv;
}

module.exports = { start };
