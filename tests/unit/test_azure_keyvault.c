/* test_azure_keyvault.c - key URLs, key bundles, local-use rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "azure/azkv_key.h"
#include "azure/keyvault.h"
#include "sops/keys.h"
#include "util/err.h"
#include "util/http.h"

static void urls(void **state)
{
	struct az_kv_ref r;
	char s[700];

	(void)state;
	assert_int_equal(az_kv_parse_url(" https://kv.vault.azure.net/keys/"
					 "sops-key/0123abcd \n", &r), 0);
	assert_string_equal(r.vault_url, "https://kv.vault.azure.net");
	assert_string_equal(r.name, "sops-key");
	assert_string_equal(r.version, "0123abcd");
	az_kv_ref_string(&r, s, sizeof(s));
	assert_string_equal(s, "https://kv.vault.azure.net/keys/sops-key/"
			    "0123abcd");
	assert_int_equal(az_kv_parse_url("https://kv.vault.azure.net/keys/k",
					 &r), 0);
	assert_string_equal(r.version, "");
	assert_int_equal(az_kv_parse_url("https://kv.vault.azure.net/keys/k/",
					 &r), 0);
	assert_string_equal(r.name, "k");
	assert_string_equal(r.version, "");
	assert_int_equal(az_kv_parse_url("https://127.0.0.1:8443/keys/k/v1/",
					 &r), 0);
	assert_string_equal(r.vault_url, "https://127.0.0.1:8443");
	assert_string_equal(r.version, "v1");
	assert_int_equal(az_kv_parse_url("http://kv.vault.azure.net/keys/k",
					 &r), -1);
	assert_int_equal(az_kv_parse_url("https://kv.vault.azure.net/secrets/k",
					 &r), -1);
	assert_int_equal(az_kv_parse_url("https://kv.vault.azure.net/keys/",
					 &r), -1);
	assert_int_equal(az_kv_parse_url("https://kv.vault.azure.net/keys/k/v/x",
					 &r), -1);
	assert_int_equal(az_kv_parse_url("https:///keys/k", &r), -1);
	assert_int_equal(az_kv_parse_url("https://kv/keys/a b", &r), -1);
}

/* An RSA-2048 public key in JWK form (n, e) made for this test. */
static char *bundle(const char *kty, const char *ops, const char *attrs)
{
	static const char n[] =
		"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1Wl"
		"UzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDpre"
		"cbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_"
		"7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBI"
		"Y2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU"
		"7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";
	char *s = malloc(2048);

	snprintf(s, 2048, "{\"key\":{\"kid\":\"https://kv.vault.azure.net/keys"
		 "/k/0f1e2d\",\"kty\":\"%s\",\"key_ops\":[%s],\"n\":\"%s\","
		 "\"e\":\"AQAB\"},\"attributes\":{%s}}", kty, ops, n, attrs);
	return s;
}

static void key_bundles(void **state)
{
	struct az_kv_key k;
	char *b = bundle("RSA-HSM", "\"encrypt\",\"decrypt\",\"wrapKey\"",
			 "\"enabled\":true,\"nbf\":1000");
	char attrs[100];

	(void)state;
	assert_int_equal(az_kv_key_from_json(b, &k), 0);
	assert_string_equal(k.version, "0f1e2d");
	assert_string_equal(k.kty, "RSA-HSM");
	assert_true(k.enabled);
	assert_int_equal(k.nbf, 1000);
	assert_int_equal(k.ops, 1u << AZ_KV_ENCRYPT | 1u << AZ_KV_DECRYPT |
					1u << AZ_KV_WRAP);
	assert_int_equal(EVP_PKEY_get_bits(k.pkey), 2048);
	assert_int_equal(az_kv_key_usable_locally(&k), 0);
	az_kv_key_free(&k);
	free(b);
	/* expired, not yet valid, no encrypt: no local wrapping */
	snprintf(attrs, sizeof(attrs), "\"enabled\":true,\"exp\":%lld",
		 (long long)time(NULL) - 10);
	b = bundle("RSA", "\"encrypt\"", attrs);
	assert_int_equal(az_kv_key_from_json(b, &k), 0);
	assert_int_equal(az_kv_key_usable_locally(&k), -1);
	az_kv_key_free(&k);
	free(b);
	snprintf(attrs, sizeof(attrs), "\"nbf\":%lld",
		 (long long)time(NULL) + 100);
	b = bundle("RSA", "\"encrypt\"", attrs);
	assert_int_equal(az_kv_key_from_json(b, &k), 0);
	assert_int_equal(az_kv_key_usable_locally(&k), -1);
	az_kv_key_free(&k);
	free(b);
	b = bundle("RSA", "\"decrypt\"", "\"enabled\":false");
	assert_int_equal(az_kv_key_from_json(b, &k), 0);
	assert_false(k.enabled);
	assert_int_equal(az_kv_key_usable_locally(&k), -1);
	az_kv_key_free(&k);
	free(b);
	b = bundle("EC", "\"sign\"", "");
	assert_int_equal(az_kv_key_from_json(b, &k), -1);
	free(b);
	assert_int_equal(az_kv_key_from_json("{}", &k), -1);
}

static void op_names(void **state)
{
	(void)state;
	assert_string_equal(az_kv_op_name(AZ_KV_ENCRYPT), "encrypt");
	assert_string_equal(az_kv_op_name(AZ_KV_UNWRAP), "unwrapkey");
}

/* The azure_kv key type: options checked, registered once, described by
 * its key URL (never its enc). */
static void key_type(void **state)
{
	struct azkv_options bad_wrap = { NULL, 0, "sideways" };
	struct azkv_options bad_auth = { "kerberos", 0, "auto" };
	struct azkv_options ok = { "azure-cli", 5000, "remote" };
	const struct sops_keytype *kt;
	struct sops_key_group g = { NULL, 0 };
	struct sops_key_entry *e;
	char d[300];

	(void)state;
	assert_int_equal(azkv_register(&bad_wrap), -1);
	assert_int_equal(err_code(), EXIT_USAGE);
	assert_int_equal(azkv_register(&bad_auth), -1);
	assert_null(sops_keytype_find("azure_kv"));
	assert_int_equal(azkv_register(&ok), 0);
	assert_int_equal(azkv_register(NULL), 0);	/* again: options only */
	kt = sops_keytype_find("azure_kv");
	assert_non_null(kt);
	e = sops_group_add(&g, "azure_kv");
	assert_non_null(e);
	sops_entry_set(e, "vault_url", "https://kv.vault.azure.net");
	sops_entry_set(e, "name", "sops");
	sops_entry_set(e, "version", "abc");
	sops_entry_set(e, "enc", "c2VjcmV0");
	kt->describe(e, d, sizeof(d));
	assert_string_equal(d, "https://kv.vault.azure.net/keys/sops/abc");
	assert_int_equal(azkv_requests(), 0);
	azkv_shutdown();
	free(e->type);
	sops_node_free(e->fields);
	free(g.keys);
}

static void answer(struct http_response *r, long status, const char *body,
		   const char *headers)
{
	http_response_init(r);
	r->status = status;
	buf_puts(&r->body, body);
	r->headers = headers ? strdup(headers) : NULL;
}

/* Key Vault's error answers become a message with the permission, the
 * object ID and the command that fixes it. */
static void errors_explained(void **state)
{
	struct az_kv_ref ref;
	struct http_response r;

	(void)state;
	az_kv_parse_url("https://myvault.vault.azure.net/keys/sops/0f1e", &ref);
	answer(&r, 403, "{\"error\":{\"code\":\"Forbidden\",\"message\":\"The "
	       "user, group or application 'appid=a-1;oid=o-1;iss=https://sts/' "
	       "does not have keys decrypt permission on key vault 'myvault;"
	       "location=westeurope'.\",\"innererror\":{\"code\":"
	       "\"ForbiddenByPolicy\"}}}", NULL);
	assert_int_equal(az_kv_explain(&ref, AZ_KV_DECRYPT, &r, NULL), -1);
	assert_non_null(strstr(err_msg(), "'decrypt'"));
	assert_non_null(strstr(err_msg(), "object ID o-1"));
	assert_non_null(strstr(err_msg(), "az keyvault set-policy --name "
				"myvault --object-id o-1 --key-permissions "
				"decrypt"));
	http_response_free(&r);

	answer(&r, 403, "{\"error\":{\"code\":\"Forbidden\",\"message\":"
	       "\"Caller is not authorized to perform action on resource.\\r\\n"
	       "Caller: appid=a-2;oid=o-2;iss=https://sts/\\r\\nAction: "
	       "'Microsoft.KeyVault/vaults/keys/encrypt/action'\\r\\nAssignment: "
	       "(not found)\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}",
	       NULL);
	az_kv_explain(&ref, AZ_KV_ENCRYPT, &r, NULL);
	assert_non_null(strstr(err_msg(), "(RBAC)"));
	assert_non_null(strstr(err_msg(), "'encrypt'"));
	assert_non_null(strstr(err_msg(), "--assignee-object-id o-2"));
	assert_null(strstr(err_msg(), "\r"));
	http_response_free(&r);

	answer(&r, 403, "{\"error\":{\"code\":\"Forbidden\",\"message\":"
	       "\"Client address is not authorized and caller is not a trusted "
	       "service.\\r\\nClient address: 203.0.113.7\",\"innererror\":"
	       "{\"code\":\"ForbiddenByFirewall\"}}}",
	       "x-ms-keyvault-network-info: conn_type=Ipv4;addr=203.0.113.7;");
	az_kv_explain(&ref, AZ_KV_DECRYPT, &r, NULL);
	assert_non_null(strstr(err_msg(), "addr=203.0.113.7"));
	assert_non_null(strstr(err_remedy(), "network-rule add --name myvault"));
	http_response_free(&r);

	answer(&r, 403, "{\"error\":{\"code\":\"Forbidden\",\"message\":"
	       "\"Operation decrypt is not permitted on this key.\",\"innererror"
	       "\":{\"code\":\"KeyOperationForbidden\"}}}", NULL);
	az_kv_explain(&ref, AZ_KV_DECRYPT, &r, NULL);
	assert_non_null(strstr(err_msg(), "key_ops"));
	assert_non_null(strstr(err_remedy(), "--ops encrypt decrypt"));
	http_response_free(&r);

	answer(&r, 404, "{\"error\":{\"code\":\"KeyNotFound\",\"message\":"
	       "\"A key with (name/id) sops was not found\"}}", NULL);
	az_kv_explain(&ref, -1, &r, NULL);
	assert_non_null(strstr(err_msg(), "not found"));
	assert_non_null(strstr(err_remedy(), "list-versions --vault-name "
				   "myvault --name sops"));
	http_response_free(&r);

	answer(&r, 401, "{\"error\":{\"code\":\"Unauthorized\",\"message\":"
	       "\"AKV10032: Invalid issuer.\"}}", NULL);
	az_kv_explain(&ref, AZ_KV_DECRYPT, &r, NULL);
	assert_non_null(strstr(err_msg(), "AKV10032"));
	assert_non_null(strstr(err_remedy(), "tenant"));
	http_response_free(&r);

	answer(&r, 429, "{\"error\":{\"code\":\"Throttled\"}}", NULL);
	az_kv_explain(&ref, AZ_KV_DECRYPT, &r, NULL);
	assert_non_null(strstr(err_msg(), "still HTTP 429"));
	assert_non_null(strstr(err_remedy(), "--request-timeout"));
	http_response_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(urls),
		cmocka_unit_test(key_bundles),
		cmocka_unit_test(op_names),
		cmocka_unit_test(key_type),
		cmocka_unit_test(errors_explained),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
