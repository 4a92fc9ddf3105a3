'use strict';
// Authentication: client certificates signed by the lab CA, static bearer
// tokens, and service account tokens the issuer signed.
const { unauthorized } = require('./errors');

const ANONYMOUS = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

function fromCertificate(socket) {
  if (!socket.authorized) return null;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject || !cert.subject.CN) return null;
  const orgs = cert.subject.O ? [].concat(cert.subject.O) : [];
  return { name: cert.subject.CN, groups: [...orgs, 'system:authenticated'] };
}

// tokens: Map(token -> {name, groups}); issuer: tokens.js; findSA(ns, name) -> SA or null
function createAuthenticator({ staticTokens, issuer, apiAudiences, findSA }) {
  function fromServiceAccountToken(token) {
    const claims = issuer.verify(token);
    if (!claims) return null;
    const aud = [].concat(claims.aud || []);
    if (!aud.some((a) => apiAudiences.includes(a))) return null;
    const k = claims['kubernetes.io'] || {};
    const sa = findSA(k.namespace, k.serviceaccount?.name);
    if (!sa || sa.metadata.uid !== k.serviceaccount?.uid) return null;
    return {
      name: claims.sub,
      uid: sa.metadata.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
    };
  }

  // Returns the user; throws 401 for a bearer token that is not accepted.
  return function authenticate(req) {
    const header = req.headers.authorization || '';
    const m = header.match(/^Bearer\s+(\S+)\s*$/i);
    if (m) {
      const user = staticTokens.get(m[1]) || fromServiceAccountToken(m[1]);
      if (!user) throw unauthorized();
      return user;
    }
    if (header) throw unauthorized();
    return fromCertificate(req.raw.socket) || ANONYMOUS;
  };
}

module.exports = { createAuthenticator, ANONYMOUS };
