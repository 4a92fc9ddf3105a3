# sopsenc_lib.sh - shared by test_sopsenc_*.sh (sourced after lib.sh and
# azure_lib.sh).  Independent decryptors check what kubectl sopsenc wrote:
#
#   verify_age KEYFILE ORIG ENC FILE...
#       every ENC/FILE whose metadata has a flat `age` list is decrypted by
#       the sops-age npm package with the identity in KEYFILE and must equal
#       ORIG/FILE (parsed as YAML); prints "sops-age: N verified, M without
#       age"; fails on any difference or error.
#   verify_lab ORIG ENC FILE...
#       the lab's own SOPS decryptor (tests/lab/lib/sops: key groups, Shamir,
#       azure_kv through the official @azure/keyvault-keys client, age from
#       $VERIFY_AGE_KEY_FILE when set) decrypts every ENC/FILE; every
#       document must equal ORIG/FILE's.
#   values_of FILE      the plaintext file's data/stringData as sorted JSON
#   sops_field FILE EXPR  a JS expression on the parsed metadata `m`

SOPS_AGE_JS=$TOP/tests/lab/node_modules/sops-age
[[ -d $SOPS_AGE_JS ]] || fail "sops-age is missing: run 'make deps' (npm ci in tests/lab)"

_verify_js='
const fs = require("fs"), path = require("path");
const YAML = require("yaml");
const [mode, keyFile, orig, enc, ...files] = process.argv.slice(1);
const same = (a, b) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
const sorted = (v) => Array.isArray(v) ? v.map(sorted) : v && typeof v === "object" ?
  Object.keys(v).sort().reduce((o, k) => ((o[k] = sorted(v[k])), o), {}) : v;
const docsOf = (f) => YAML.parseAllDocuments(fs.readFileSync(f, "utf8")).map((d) => d.toJS());
async function ageOne(f, key) {
  const { decryptSops } = require(process.env.SOPS_AGE_JS);
  const text = fs.readFileSync(path.join(enc, f), "utf8");
  const md = YAML.parse(text).sops || {};
  if (!Array.isArray(md.age) || !md.age.length) return false;
  const got = await decryptSops(text, { fileType: "yaml", secretKey: key });
  delete got.sops;
  if (!same(got, docsOf(path.join(orig, f))[0])) throw new Error(f + ": sops-age gives other values");
  return true;
}
async function labOne(f, cred) {
  const sops = require(process.env.TOP + "/tests/lab/lib/sops");
  const { CryptographyClient } = require("@azure/keyvault-keys");
  const azureDecrypt = async ({ vaultUrl, name, version, enc: e }) => {
    const c = new CryptographyClient(vaultUrl + "/keys/" + name + "/" + version, cred,
      { disableChallengeResourceVerification: true });
    const r = await c.decrypt({ algorithm: "RSA-OAEP-256", ciphertext: Buffer.from(e, "base64url") });
    return Buffer.from(r.result);
  };
  const ids = process.env.VERIFY_AGE_KEY_FILE ? fs.readFileSync(process.env.VERIFY_AGE_KEY_FILE, "utf8") : undefined;
  const out = await sops.decrypt(fs.readFileSync(path.join(enc, f), "utf8"),
    { filename: f, azureDecrypt, ageIdentities: ids });
  const want = docsOf(path.join(orig, f));
  if (!same(out.docs, want)) throw new Error(f + ": the lab decryptor gives other values");
}
(async () => {
  let ok = 0, other = 0;
  if (mode === "age") {
    const key = fs.readFileSync(keyFile, "utf8").split("\n").find((l) => l.startsWith("AGE-SECRET"));
    for (const f of files) (await ageOne(f, key)) ? ok++ : other++;
    console.log("sops-age: " + ok + " verified, " + other + " without age");
  } else {
    const { ClientSecretCredential } = require("@azure/identity");
    const cred = new ClientSecretCredential(process.env.LAB_TENANT_ID, process.env.LAB_SP_CLIENT_ID,
      process.env.LAB_SP_CLIENT_SECRET,
      { authorityHost: process.env.AZURE_AUTHORITY_HOST, disableInstanceDiscovery: true });
    for (const f of files) { await labOne(f, cred); ok++; }
    console.log("lab decryptor: " + ok + " verified");
  }
})().catch((e) => { console.error("verify failed: " + e.message); process.exit(1); });
'

verify_age() {
    SOPS_AGE_JS=$SOPS_AGE_JS NODE_PATH=$TOP/tests/lab/node_modules \
        node -e "$_verify_js" age "$@"
}

verify_lab() {
    TOP=$TOP NODE_PATH=$TOP/tests/lab/node_modules NODE_EXTRA_CA_CERTS=${SSL_CERT_FILE:-} \
        node -e "$_verify_js" lab - "$@"
}

# meta FILE...: per file one line "mac|lastmodified|keys|first
# age enc|groups/threshold|first azure_kv version" (one node run).
meta() {
    NODE_PATH=$TOP/tests/lab/node_modules node -e '
        const YAML = require("yaml"); const fs = require("fs");
        for (const f of process.argv.slice(1)) {
          const m = YAML.parse(fs.readFileSync(f, "utf8")).sops;
          const keys = JSON.stringify([(m.age || []).map((k) => k.recipient).sort(),
            (m.azure_kv || []).map((k) => [k.vault_url, k.name, k.version])]);
          console.log([m.mac, m.lastmodified, keys, ((m.age || [])[0] || {}).enc || "",
            (m.key_groups || []).length + "/" + (m.shamir_threshold || 0),
            ((m.azure_kv || [])[0] || {}).version || ""].join("|").replace(/\n/g, " "));
        }' "$@"
}
meta_field() { # FILE N: field N (1-based) of meta FILE, fields split at |
    meta "$1" | cut -d"|" -f"$2"
}

sops_field() {
    NODE_PATH=$TOP/tests/lab/node_modules node -e '
        const YAML = require("yaml"); const fs = require("fs");
        const m = YAML.parse(fs.readFileSync(process.argv[1], "utf8")).sops;
        const v = eval(process.argv[2]);
        process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));' "$1" "$2"
}

# A Secret with a comment, two keys, in the layout the YAML emitter writes
# (4-space indent), so that decrypting gives back the same bytes.
secret_yaml() { # NAME VALUE
    printf 'apiVersion: v1\nkind: Secret\nmetadata:\n    name: %s\n    namespace: apps\n# the password\nstringData:\n    password: %s\n    user: admin\ntype: Opaque\n' "$1" "$2"
}
