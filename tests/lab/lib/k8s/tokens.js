'use strict';
// The service account issuer: RS256 JWTs, JWKS, TokenRequest claims.
const crypto = require('node:crypto');

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function createIssuer(issuer) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const kid = b64url(crypto.createHash('sha256').update(spki).digest());
  const jwk = publicKey.export({ format: 'jwk' });

  function sign(claims) {
    const header = { alg: 'RS256', kid };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = crypto.sign('sha256', Buffer.from(input), privateKey);
    return `${input}.${b64url(sig)}`;
  }

  // Returns the claims of a token this issuer signed and that is still valid, else null.
  function verify(token) {
    const parts = String(token).split('.');
    if (parts.length !== 3) return null;
    let header;
    let claims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
    } catch { return null; }
    if (header.alg !== 'RS256' || header.kid !== kid) return null;
    const ok = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'));
    if (!ok || claims.iss !== issuer) return null;
    const nowS = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp < nowS || (claims.nbf && claims.nbf > nowS + 60)) return null;
    return claims;
  }

  // A service account token, as TokenRequest or the kubelet would get it.
  // sa: ServiceAccount object; pod: optional bound Pod object.
  function serviceAccountToken(sa, { audiences, expirationSeconds = 3600, pod, secret } = {}) {
    const iat = Math.floor(Date.now() / 1000);
    const ns = sa.metadata.namespace;
    const k8s = { namespace: ns, serviceaccount: { name: sa.metadata.name, uid: sa.metadata.uid } };
    if (pod) k8s.pod = { name: pod.metadata.name, uid: pod.metadata.uid };
    if (secret) k8s.secret = { name: secret.metadata.name, uid: secret.metadata.uid };
    const claims = {
      aud: audiences, exp: iat + expirationSeconds, iat, iss: issuer, jti: crypto.randomUUID(),
      'kubernetes.io': k8s, nbf: iat, sub: `system:serviceaccount:${ns}:${sa.metadata.name}`,
    };
    return { token: sign(claims), expiration: new Date((iat + expirationSeconds) * 1000) };
  }

  const jwks = () => ({ keys: [{ use: 'sig', kty: 'RSA', kid, alg: 'RS256', n: jwk.n, e: jwk.e }] });

  function discovery(jwksUri) {
    return {
      issuer, jwks_uri: jwksUri, response_types_supported: ['id_token'],
      subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  return { issuer, kid, sign, verify, serviceAccountToken, jwks, discovery, publicKey };
}

module.exports = { createIssuer };
