'use strict';
// Shamir secret sharing over GF(2^8) with the AES polynomial, as sops' shares:
// 32 value bytes followed by the x coordinate as the last byte.

function gfMul(a, b) {
  let r = 0;
  while (b) {
    if (b & 1) r ^= a;
    a = (a << 1) ^ (a & 0x80 ? 0x11b : 0);
    b >>= 1;
  }
  return r & 0xff;
}

function gfInv(a) {
  if (a === 0) throw new Error('division by zero in GF(256)');
  // a^254 = a^-1
  let r = 1;
  let base = a;
  let e = 254;
  while (e) {
    if (e & 1) r = gfMul(r, base);
    base = gfMul(base, base);
    e >>= 1;
  }
  return r;
}

function combine(shares) {
  if (shares.length < 2) throw new Error('less than two parts cannot be used to reconstruct the secret');
  const len = shares[0].length;
  for (const s of shares) if (s.length !== len) throw new Error('all parts must be the same length');
  const xs = shares.map((s) => s[len - 1]);
  if (new Set(xs).size !== xs.length) throw new Error('duplicate part detected');
  const out = Buffer.alloc(len - 1);
  for (let j = 0; j < len - 1; j++) {
    let acc = 0;
    for (let i = 0; i < shares.length; i++) {
      let num = 1;
      let den = 1;
      for (let m = 0; m < shares.length; m++) {
        if (m === i) continue;
        num = gfMul(num, xs[m]);
        den = gfMul(den, xs[m] ^ xs[i]);
      }
      acc ^= gfMul(shares[i][j], gfMul(num, gfInv(den)));
    }
    out[j] = acc;
  }
  return out;
}

// split(secret, n, t) for tests.
function split(secret, n, t, rand = require('node:crypto').randomBytes) {
  const shares = [];
  for (let i = 0; i < n; i++) shares.push(Buffer.alloc(secret.length + 1));
  for (let j = 0; j < secret.length; j++) {
    const coeffs = [secret[j], ...rand(t - 1)];
    for (let i = 0; i < n; i++) {
      const x = i + 1;
      let y = 0;
      let xp = 1;
      for (const c of coeffs) {
        y ^= gfMul(c, xp);
        xp = gfMul(xp, x);
      }
      shares[i][j] = y;
    }
  }
  for (let i = 0; i < n; i++) shares[i][secret.length] = i + 1;
  return shares;
}

module.exports = { combine, split, gfMul, gfInv };
