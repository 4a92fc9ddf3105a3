/* test_flux_workload.c - a pod counts as mutated in every webhook layout,
 * and not when any part of the injection is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "flux/workload.h"

/* A pod with the controller container: env, mounts and volumes given as
 * JSON fragments. */
static cJSON *pod(const char *labels, const char *env, const char *mounts,
		  const char *volumes)
{
	char text[4096];
	cJSON *p;

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"kc-1\",\"labels\":{%s}},"
		 "\"spec\":{\"containers\":[{\"name\":\"sidecar\"},"
		 "{\"name\":\"manager\",\"env\":[%s],\"volumeMounts\":[%s]}],"
		 "\"volumes\":[%s]}}", labels, env, mounts, volumes);
	p = cJSON_Parse(text);
	assert_non_null(p);
	return p;
}

#define LABEL "\"azure.workload.identity/use\":\"true\""
#define ENV(file) \
	"{\"name\":\"AZURE_CLIENT_ID\",\"value\":\"cid\"}," \
	"{\"name\":\"AZURE_TENANT_ID\",\"value\":\"tid\"}," \
	"{\"name\":\"AZURE_FEDERATED_TOKEN_FILE\",\"value\":\"" file "\"}," \
	"{\"name\":\"AZURE_AUTHORITY_HOST\",\"value\":\"https://login/\"}"
#define MOUNT(name, path) \
	"{\"name\":\"" name "\",\"mountPath\":\"" path "\",\"readOnly\":true}"
#define VOLUME(name, aud, path) \
	"{\"name\":\"" name "\",\"projected\":{\"sources\":[" \
	"{\"serviceAccountToken\":{\"audience\":\"" aud "\"," \
	"\"expirationSeconds\":3600,\"path\":\"" path "\"}}]}}"
#define AUD "api://AzureADTokenExchange"
#define V16 "azure-workload-identity-reserved-0123456789abcdef0123456789abcd"

static void expect(cJSON *p, bool injected, const char *layout_or_why)
{
	struct flux_wi_pod r;

	assert_int_equal(flux_wi_pod_injected(p, &r), injected);
	assert_int_equal(r.injected, injected);
	assert_string_equal(r.name, "kc-1");
	if (injected) {
		assert_string_equal(r.layout, layout_or_why);
		assert_string_equal(r.client_id, "cid");
		assert_string_equal(r.tenant_id, "tid");
	} else {
		assert_non_null(strstr(r.why, layout_or_why));
	}
	cJSON_Delete(p);
}

static void layouts(void **state)
{
	(void)state;
	expect(pod(LABEL, ENV("/var/run/secrets/azure/tokens/azure-identity-token"),
		   MOUNT("azure-identity-token", "/var/run/secrets/azure/tokens"),
		   VOLUME("azure-identity-token", AUD, "azure-identity-token")),
	       true, "legacy");
	expect(pod(LABEL, ENV("/var/run/secrets/azure/wi/token/azure-identity-token"),
		   MOUNT(V16, "/var/run/secrets/azure/wi"),
		   VOLUME(V16, AUD, "token/azure-identity-token")),
	       true, "v1.6");
	expect(pod("", ENV("/var/run/service-account/azure-token"),
		   MOUNT("azure-token", "/var/run/service-account/"),
		   VOLUME("azure-token", AUD, "azure-token")),
	       true, "manual");
}

static void labelled(void **state)
{
	struct flux_wi_pod r;
	cJSON *p = pod(LABEL, "", "", "");

	(void)state;
	assert_false(flux_wi_pod_injected(p, &r));
	assert_true(r.labelled);
	cJSON_Delete(p);
	p = pod("\"azure.workload.identity/use\":\"True\"", "", "", "");
	assert_false(flux_wi_pod_injected(p, &r));
	assert_false(r.labelled);
	cJSON_Delete(p);
}

static void incomplete(void **state)
{
	(void)state;
	expect(pod(LABEL, "", "", ""), false, "no AZURE_FEDERATED_TOKEN_FILE");
	expect(pod(LABEL, "{\"name\":\"AZURE_FEDERATED_TOKEN_FILE\",\"value\":"
		   "\"/t/azure-identity-token\"}", MOUNT("v", "/t"),
		   VOLUME("v", AUD, "azure-identity-token")),
	       false, "no AZURE_AUTHORITY_HOST");
	/* no volume at all */
	expect(pod(LABEL, ENV("/t/azure-identity-token"), "", ""), false,
	       "no projected token volume");
	/* another audience */
	expect(pod(LABEL, ENV("/t/azure-identity-token"), MOUNT("v", "/t"),
		   VOLUME("v", "api://other", "azure-identity-token")),
	       false, "no projected token volume");
	/* mounted elsewhere than the file's directory */
	expect(pod(LABEL, ENV("/t/azure-identity-token"), MOUNT("v", "/u"),
		   VOLUME("v", AUD, "azure-identity-token")),
	       false, "no projected token volume");
	/* a mount whose path is only a prefix of the file's directory name */
	expect(pod(LABEL, ENV("/tokens/azure-identity-token"), MOUNT("v", "/tok"),
		   VOLUME("v", AUD, "ens/azure-identity-token")),
	       false, "no projected token volume");
	/* the volume projects another file */
	expect(pod(LABEL, ENV("/t/azure-identity-token"), MOUNT("v", "/t"),
		   VOLUME("v", AUD, "token")),
	       false, "no projected token volume");
}

static void container_choice(void **state)
{
	cJSON *spec = cJSON_Parse("{\"containers\":[{\"name\":\"a\"},"
				  "{\"name\":\"manager\"}]}");
	cJSON *one = cJSON_Parse("{\"containers\":[{\"name\":\"a\"}]}");

	(void)state;
	assert_string_equal(cJSON_GetObjectItem(flux_wi_container(spec),
						"name")->valuestring,
			    "manager");
	assert_string_equal(cJSON_GetObjectItem(flux_wi_container(one),
						"name")->valuestring, "a");
	assert_null(flux_wi_container(NULL));
	cJSON_Delete(spec);
	cJSON_Delete(one);
}

static void restart_stamps(void **state)
{
	struct timespec t = { 1795950026, 123456789 };	/* 2026-11-29T11:00:26 */
	char out[48];

	(void)state;
	flux_restart_stamp(out, sizeof(out), NULL, &t);
	assert_string_equal(out, "2026-11-29T11:00:26Z");
	flux_restart_stamp(out, sizeof(out), "2026-11-29T10:59:59Z", &t);
	assert_string_equal(out, "2026-11-29T11:00:26Z");
	/* the same second as the previous restart: the template must change */
	flux_restart_stamp(out, sizeof(out), "2026-11-29T11:00:26Z", &t);
	assert_string_equal(out, "2026-11-29T11:00:26.123456789Z");
	flux_restart_stamp(out, sizeof(out), "2026-11-29T11:00:26.000000001Z",
			   &t);
	assert_string_equal(out, "2026-11-29T11:00:26.123456789Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layouts),
		cmocka_unit_test(labelled),
		cmocka_unit_test(incomplete),
		cmocka_unit_test(container_choice),
		cmocka_unit_test(restart_stamps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
