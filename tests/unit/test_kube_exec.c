/* test_kube_exec.c - kube/exec: exec credential plugins run as client-go
 * runs them (environment, KUBERNETES_EXEC_INFO, stdin, output checks,
 * missing command with its installHint, expiry). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube/config.h"
#include "kube/exec.h"
#include "util/err.h"

static char dir[256];

static const char *at(const char *name)
{
	static char path[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	return path[i];
}

static void write_file(const char *name, const char *text, int mode)
{
	FILE *f = fopen(at(name), "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(at(name), (mode_t)mode);
}

static char *slurp(const char *name)
{
	FILE *f = fopen(at(name), "r");
	static char text[8192];
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* The plugin: prints $OUTPUT (a file) after recording its input. */
static const char plugin[] =
	"#!/bin/sh\n"
	"d=$(dirname \"$0\")\n"
	"printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$d/info.json\"\n"
	"echo \"$FOO|$BAR|$*\" > \"$d/env.txt\"\n"
	"cat > \"$d/stdin.txt\"\n"
	"echo 'a prompt on stderr' >&2\n"
	"cat \"$d/$OUTPUT\"\n"
	"exit ${EXIT:-0}\n";

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_kube_exec.XXXXXX");
	assert_non_null(mkdtemp(dir));
	mkdir(at("bin"), 0700);
	write_file("bin/plug", plugin, 0755);
	write_file("ca.crt", "PEM CA\n", 0644);
	setenv("FOO", "parent", 1);
	setenv("BAR", "parent-bar", 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Loads a kubeconfig whose user runs ./bin/plug with `extra` lines. */
static struct kube_config *config(const char *version, const char *extra)
{
	char text[2048];
	struct kube_opts o = { 0 };
	struct kube_config *c = NULL;

	snprintf(text, sizeof(text),
		 "clusters:\n- name: c\n  cluster:\n    server: https://h:6443\n"
		 "    certificate-authority: ca.crt\n"
		 "    tls-server-name: api.internal\n"
		 "    extensions:\n    - name: client.authentication.k8s.io/exec\n"
		 "      extension: {audience: aud-x}\n"
		 "users:\n- name: u\n  user:\n    exec:\n"
		 "      apiVersion: client.authentication.k8s.io/%s\n"
		 "      command: ./bin/plug\n"
		 "      args: [get-token, --x]\n"
		 "      env: [{name: FOO, value: first}, {name: FOO, value: child},"
		 " {name: KUBERNETES_EXEC_INFO, value: forged}]\n"
		 "      installHint: install the plug\n"
		 "%s"
		 "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		 "current-context: x\n", version, extra);
	write_file("kubeconfig", text, 0600);
	o.kubeconfig = at("kubeconfig");
	if (kube_config_load(&c, &o) < 0)
		fail_msg("load: %s", err_msg());
	return c;
}

static void v1_token_with_expiry(void **state)
{
	struct kube_config *c = config("v1", "      interactiveMode: Never\n");
	struct kube_credential cred;
	time_t later = time(NULL) + 3600, exp_at;
	struct tm tm;
	char out[512], stamp[64];

	(void)state;
	gmtime_r(&later, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(out, sizeof(out), "{\"kind\":\"ExecCredential\",\"apiVersion\""
		 ":\"client.authentication.k8s.io/v1\",\"status\":{\"token\":"
		 "\"tok-1\",\"expirationTimestamp\":\"%s\"}}", stamp);
	write_file("bin/out.json", out, 0644);
	setenv("OUTPUT", "out.json", 1);
	assert_int_equal(kube_exec_run(c, &cred), 0);
	assert_string_equal(cred.token, "tok-1");
	assert_null(cred.cert_pem);
	assert_int_equal(kube_parse_rfc3339(stamp, &exp_at), 0);
	assert_int_equal(cred.expiry, exp_at);
	assert_false(kube_credential_expired(&cred, 30));
	assert_true(kube_credential_expired(&cred, 4000));
	assert_string_equal(slurp("bin/info.json"),
			    "{\"kind\":\"ExecCredential\",\"apiVersion\":"
			    "\"client.authentication.k8s.io/v1\",\"spec\":"
			    "{\"interactive\":false}}");
	/* the stanza's env overrides the parent's, last entry wins; other
	 * variables pass through; args in order; stdin is empty */
	assert_string_equal(slurp("bin/env.txt"),
			    "child|parent-bar|get-token --x\n");
	assert_string_equal(slurp("bin/stdin.txt"), "");
	kube_credential_clear(&cred);
	assert_null(cred.token);
	assert_true(kube_credential_expired(&cred, 0));
	kube_config_free(c);
}

static void v1beta1_cluster_info_and_cert(void **state)
{
	struct kube_config *c = config("v1beta1",
				       "      provideClusterInfo: true\n");
	struct kube_credential cred;
	cJSON *info, *cl;

	(void)state;
	write_file("bin/out.json",
		   "{\"kind\":\"ExecCredential\",\"apiVersion\":"
		   "\"client.authentication.k8s.io/v1beta1\",\"status\":{"
		   "\"clientCertificateData\":\"-----BEGIN CERTIFICATE-----\\n"
		   "x\\n-----END CERTIFICATE-----\\n\",\"clientKeyData\":"
		   "\"-----BEGIN PRIVATE KEY-----\\ny\\n-----END PRIVATE KEY"
		   "-----\\n\"}}", 0644);
	setenv("OUTPUT", "out.json", 1);
	assert_int_equal(kube_exec_run(c, &cred), 0);
	assert_null(cred.token);
	assert_non_null(strstr(cred.cert_pem, "BEGIN CERTIFICATE"));
	assert_non_null(strstr(cred.key_pem, "BEGIN PRIVATE KEY"));
	assert_int_equal(cred.expiry, 0);
	assert_false(kube_credential_expired(&cred, 100000));
	info = cJSON_Parse(slurp("bin/info.json"));
	cl = cJSON_GetObjectItem(cJSON_GetObjectItem(info, "spec"), "cluster");
	assert_string_equal(cJSON_GetObjectItem(cl, "server")->valuestring,
			    "https://h:6443");
	assert_string_equal(cJSON_GetObjectItem(cl, "tls-server-name")
			    ->valuestring, "api.internal");
	/* base64 of the CA file's bytes, never the path */
	assert_string_equal(cJSON_GetObjectItem(cl,
			    "certificate-authority-data")->valuestring,
			    "UEVNIENBCg==");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cl,
			    "config"), "audience")->valuestring, "aud-x");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(
			    info, "spec"), "interactive")));
	cJSON_Delete(info);
	kube_credential_clear(&cred);
	kube_config_free(c);
}

struct bad_output {
	const char *json;
	const char *msg;
};

static void bad_outputs(void **state)
{
	static const struct bad_output cases[] = {
		{ "not json", "not an ExecCredential" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
		  "\"status\":{\"token\":\"t\"}}",
		  "configured to use API version client.authentication.k8s.io"
		  "/v1, plugin returned version client.authentication.k8s.io/"
		  "v1beta1" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\"}",
		  "has no status" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"status\":{}}", "neither a token nor" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"status\":{\"clientCertificateData\":\"-----BEGIN x\"}}",
		  "without its key" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"status\":{\"clientCertificateData\":\"x\","
		  "\"clientKeyData\":\"y\"}}", "not PEM" },
		{ "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"status\":{\"token\":\"t\",\"expirationTimestamp\":"
		  "\"tomorrow\"}}", "not an RFC 3339 time" },
	};
	struct kube_config *c = config("v1", "      interactiveMode: "
				       "IfAvailable\n");
	struct kube_credential cred;
	size_t i;

	(void)state;
	setenv("OUTPUT", "out.json", 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file("bin/out.json", cases[i].json, 0644);
		assert_int_equal(kube_exec_run(c, &cred), -1);
		if (!strstr(err_msg(), cases[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err_msg(),
				 cases[i].msg);
		assert_null(cred.token);
	}
	kube_config_free(c);
}

static void failures(void **state)
{
	struct kube_config *c = config("v1", "      interactiveMode: Never\n");
	struct kube_credential cred;

	(void)state;
	write_file("bin/out.json", "{}", 0644);
	setenv("EXIT", "3", 1);
	assert_int_equal(kube_exec_run(c, &cred), -1);
	unsetenv("EXIT");
	assert_non_null(strstr(err_msg(), "failed with exit code 3"));
	assert_non_null(strstr(err_msg(), at("bin/plug")));
	unlink(at("bin/plug"));
	assert_int_equal(kube_exec_run(c, &cred), -1);
	assert_int_equal(err_code(), EXIT_FAILED);
	assert_non_null(strstr(err_msg(), "not found"));
	assert_non_null(strstr(err_remedy(), "install the plug"));
	assert_non_null(strstr(err_remedy(), "client-go-credential-plugins"));
	kube_config_free(c);
	c = config("v1", "      interactiveMode: Always\n");
	write_file("bin/plug", plugin, 0755);
	if (!isatty(0)) {
		assert_int_equal(kube_exec_run(c, &cred), -1);
		assert_non_null(strstr(err_msg(), "not a terminal"));
	}
	kube_config_free(c);
}

static void path_lookup(void **state)
{
	struct kube_config *c = config("v1", "      interactiveMode: Never\n");
	struct kube_credential cred;
	char path[1024];

	(void)state;
	free(c->exec->command);
	c->exec->command = strdup("plug");	/* a bare name: PATH */
	write_file("bin/out.json", "{\"apiVersion\":\"client.authentication."
		   "k8s.io/v1\",\"status\":{\"token\":\"from-path\"}}", 0644);
	snprintf(path, sizeof(path), "%s:%s", at("bin"), getenv("PATH"));
	setenv("PATH", path, 1);
	assert_int_equal(kube_exec_run(c, &cred), 0);
	assert_string_equal(cred.token, "from-path");
	kube_credential_clear(&cred);
	kube_config_free(c);
}

static void rfc3339(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(kube_parse_rfc3339("1970-01-01T00:01:40Z", &t), 0);
	assert_int_equal(t, 100);
	assert_int_equal(kube_parse_rfc3339("1970-01-01T01:01:40+01:00", &t),
			 0);
	assert_int_equal(t, 100);
	assert_int_equal(kube_parse_rfc3339("1970-01-01T00:00:00.123456-00:30",
					    &t), 0);
	assert_int_equal(t, 1800);
	assert_int_equal(kube_parse_rfc3339("2026-11-29T10:15:02Z", &t), 0);
	assert_int_equal(t, 1795947302);
	assert_int_equal(kube_parse_rfc3339("2026-11-29", &t), -1);
	assert_int_equal(kube_parse_rfc3339("2026-11-29T10:15:02", &t), -1);
	assert_int_equal(kube_parse_rfc3339("2026-11-29T10:15:02Zjunk", &t),
			 -1);
	assert_int_equal(kube_parse_rfc3339(NULL, &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(v1_token_with_expiry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(v1beta1_cluster_info_and_cert,
						setup, teardown),
		cmocka_unit_test_setup_teardown(bad_outputs, setup, teardown),
		cmocka_unit_test_setup_teardown(failures, setup, teardown),
		cmocka_unit_test_setup_teardown(path_lookup, setup, teardown),
		cmocka_unit_test(rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
