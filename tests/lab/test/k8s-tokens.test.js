'use strict';
// TokenRequest JWTs verify against the issuer's JWKS (fetched the way Entra
// does: discovery document, then jwks_uri), and authenticate to the API server.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startLab } = require('./helpers/k8s-lab');
const { request } = require('../lib/control');

let lab;
let ca;
test.before(async () => {
  lab = await startLab();
  ca = fs.readFileSync(path.join(lab.dir, 'ca.crt'));
});
test.after(() => lab && lab.stop());

async function getJson(url, headers = {}) {
  const r = await request(url, { ca, headers });
  return { status: r.status, body: JSON.parse(r.body) };
}

async function tokenRequest(spec, bearer) {
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${bearer}` };
  const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });
  const r = await request(`${lab.urls.apiserver}/api/v1/namespaces/flux-system/serviceaccounts/kustomize-controller/token`, { method: 'POST', headers, body, ca });
  return { status: r.status, body: JSON.parse(r.body) };
}

async function adminBearer() {
  const r = await lab.labctl(['k8s-token', 'flux-system', 'kustomize-controller']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).token;
}

function verifyJwt(token, jwks) {
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, 'signing key published in the JWKS');
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  return crypto.verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'));
}

test('issuer discovery and JWKS are public, issuer ends with a slash', async () => {
  const issuer = lab.urls.issuer;
  assert.match(issuer, /^https:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}\/[0-9a-f-]{36}\/$/);
  assert.equal(lab.env.LAB_K8S_ISSUER, issuer);
  const disc = await getJson(`${issuer}.well-known/openid-configuration`);
  assert.equal(disc.status, 200);
  assert.equal(disc.body.issuer, issuer);
  assert.deepEqual(disc.body.id_token_signing_alg_values_supported, ['RS256']);
  const jwks = await getJson(disc.body.jwks_uri);
  assert.equal(jwks.body.keys[0].kty, 'RSA');
  assert.equal(jwks.body.keys[0].alg, 'RS256');
});

test('TokenRequest JWT verifies against the JWKS and carries the claims', async () => {
  const bearer = await adminBearer();
  const r = await tokenRequest({ audiences: ['api://AzureADTokenExchange'], expirationSeconds: 7200 }, bearer);
  assert.equal(r.status, 201);
  assert.equal(r.body.kind, 'TokenRequest');
  const token = r.body.status.token;
  const disc = await getJson(`${lab.urls.issuer}.well-known/openid-configuration`);
  const jwks = (await getJson(disc.body.jwks_uri)).body;
  assert.equal(verifyJwt(token, jwks), true);
  const tampered = token.replace(/\.([^.]+)\./, (m, p) => `.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), sub: 'x' })).toString('base64url')}.`);
  assert.equal(verifyJwt(tampered, jwks), false);
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));
  assert.equal(claims.iss, lab.urls.issuer);
  assert.equal(claims.sub, 'system:serviceaccount:flux-system:kustomize-controller');
  assert.deepEqual(claims.aud, ['api://AzureADTokenExchange']);
  assert.equal(claims.exp - claims.iat, 7200);
  assert.equal(claims['kubernetes.io'].namespace, 'flux-system');
  assert.match(claims['kubernetes.io'].serviceaccount.uid, /^[0-9a-f-]{36}$/);
  assert.equal(Date.parse(r.body.status.expirationTimestamp) / 1000, claims.exp);
});

test('TokenRequest validation and errors', async () => {
  const bearer = await adminBearer();
  let r = await tokenRequest({ expirationSeconds: 599 }, bearer);
  assert.equal(r.status, 422);
  assert.equal(r.body.reason, 'Invalid');
  assert.equal(r.body.message, 'TokenRequest.authentication.k8s.io "kustomize-controller" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes');
  r = await tokenRequest({}, bearer);
  assert.equal(r.body.spec.expirationSeconds, 3600);
  assert.deepEqual(r.body.spec.audiences, [lab.urls.issuer], 'empty audiences mean the API server audience');
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${bearer}` };
  const missing = await request(`${lab.urls.apiserver}/api/v1/namespaces/flux-system/serviceaccounts/nope/token`, { method: 'POST', headers, body: '{}', ca });
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body).message, 'serviceaccounts "nope" not found');
});

test('service account tokens authenticate; audience and signature are checked', async () => {
  const bearer = await adminBearer();
  const who = await request(`${lab.urls.apiserver}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    method: 'POST', ca, headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
  });
  assert.equal(JSON.parse(who.body).status.userInfo.username, 'system:serviceaccount:flux-system:kustomize-controller');
  const azureToken = (await tokenRequest({ audiences: ['api://AzureADTokenExchange'] }, bearer)).body.status.token;
  const rejected = await getJson(`${lab.urls.apiserver}/api/v1/namespaces`, { Authorization: `Bearer ${azureToken}` });
  assert.equal(rejected.status, 401, 'a token for another audience is not an API credential');
  assert.equal(rejected.body.reason, 'Unauthorized');
  const apiDiscovery = await getJson(`${lab.urls.apiserver}/.well-known/openid-configuration`, { Authorization: `Bearer ${bearer}` });
  assert.equal(apiDiscovery.status, 200, 'service accounts may read issuer discovery');
  assert.equal(apiDiscovery.body.issuer, lab.urls.issuer);
  const anon = await getJson(`${lab.urls.apiserver}/.well-known/openid-configuration`);
  assert.equal(anon.status, 403);
  assert.equal(anon.body.message, 'forbidden: User "system:anonymous" cannot get path "/.well-known/openid-configuration"');
});
