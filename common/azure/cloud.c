#include "azure/cloud.h"

#include <bsd/string.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"
#include "util/http.h"

static const struct az_cloud clouds[] = {
	{ "AzurePublicCloud", "https://login.microsoftonline.com",
	  ".vault.azure.net", "https://vault.azure.net",
	  ".managedhsm.azure.net", "https://managedhsm.azure.net",
	  "https://management.azure.com" },
	{ "AzureChinaCloud", "https://login.chinacloudapi.cn",
	  ".vault.azure.cn", "https://vault.azure.cn",
	  ".managedhsm.azure.cn", "https://managedhsm.azure.cn",
	  "https://management.chinacloudapi.cn" },
	{ "AzureUSGovernment", "https://login.microsoftonline.us",
	  ".vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net",
	  ".managedhsm.usgovcloudapi.net",
	  "https://managedhsm.usgovcloudapi.net",
	  "https://management.usgovcloudapi.net" },
	{ "AzureGermanCloud", "https://login.microsoftonline.de",
	  ".vault.microsoftazure.de", "https://vault.microsoftazure.de",
	  NULL, NULL, "https://management.microsoftazure.de" },
};
#define NCLOUDS (sizeof(clouds) / sizeof(clouds[0]))

static bool ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcasecmp(s + n - m, suffix) == 0;
}

const struct az_cloud *az_cloud_for_vault_host(const char *host, bool *hsm)
{
	size_t i;

	for (i = 0; i < NCLOUDS; i++) {
		if (ends_with_ci(host, clouds[i].vault_suffix)) {
			*hsm = false;
			return &clouds[i];
		}
		if (clouds[i].hsm_suffix &&
		    ends_with_ci(host, clouds[i].hsm_suffix)) {
			*hsm = true;
			return &clouds[i];
		}
	}
	return NULL;
}

static const char *host_of_url(const char *url, char *host, size_t size)
{
	int port;

	if (http_url_host_port(url, host, size, &port) < 0) {
		err_clear();
		return NULL;
	}
	return host;
}

const struct az_cloud *az_cloud_default(void)
{
	const char *a = getenv("AZURE_AUTHORITY_HOST");
	char host[256];
	size_t i;

	if (!a || !*a || !host_of_url(a, host, sizeof(host)))
		return &clouds[0];
	for (i = 0; i < NCLOUDS; i++) {
		char h[256];

		if (host_of_url(clouds[i].authority, h, sizeof(h)) &&
		    strcasecmp(h, host) == 0)
			return &clouds[i];
	}
	if (strcasecmp(host, "login.partner.microsoftonline.cn") == 0)
		return &clouds[1];
	return &clouds[0];
}

int az_authority(char *out, size_t size)
{
	const char *a = getenv("AZURE_AUTHORITY_HOST");
	size_t n;

	if (!a || !*a)
		a = clouds[0].authority;
	if (strncasecmp(a, "https://", 8) != 0) {
		err_set(EXIT_USAGE, "AZURE_AUTHORITY_HOST \"%s\" is not an "
			"https URL", a);
		return err_hint("set it to https://login.microsoftonline.com/ "
				"(or your cloud's authority) or unset it");
	}
	strlcpy(out, a, size);
	n = strlen(out);
	while (n > 8 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

static bool entry_matches(const char *e, size_t len, const char *host,
			  int port)
{
	char item[300], *colon;

	while (len && isspace((unsigned char)*e)) {
		e++;
		len--;
	}
	while (len && isspace((unsigned char)e[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(item))
		return false;
	memcpy(item, e, len);
	item[len] = '\0';
	colon = strrchr(item, ':');
	if (colon && !strchr(item, ']') && strchr(item, ':') != colon)
		colon = NULL;	/* a bare IPv6 address */
	if (colon) {
		*colon = '\0';
		if (atoi(colon + 1) != port)
			return false;
	}
	if (item[0] == '[') {
		size_t l = strlen(item);

		if (l > 2 && item[l - 1] == ']') {
			item[l - 1] = '\0';
			return strcasecmp(item + 1, host) == 0;
		}
	}
	return strcasecmp(item, host) == 0;
}

bool az_host_trusted(const char *host, int port)
{
	const char *list = getenv("FLUXWI_TRUSTED_HOSTS");
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (entry_matches(p, len, host, port))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

static int url_parts(const char *url, char *host, size_t size, int *port)
{
	if (strncasecmp(url, "https://", 8) != 0) {
		err_set(EXIT_USAGE, "%s: Azure endpoints must use https", url);
		return -1;
	}
	return http_url_host_port(url, host, size, port);
}

static int refuse(const char *what, const char *url, const char *host,
		  int port)
{
	err_set(EXIT_USAGE, "refusing to send an Azure token to %s (%s): %s "
		"is not under an Azure %s domain", url, what, host, what);
	return err_hint("check the URL for typos; if %s:%d really is your "
			"endpoint (a private alias or a test server), list it "
			"in FLUXWI_TRUSTED_HOSTS", host, port);
}

int az_vault_scope(const char *vault_url, char *scope, size_t size)
{
	char host[256];
	int port;
	bool hsm = false;
	const struct az_cloud *c;

	if (url_parts(vault_url, host, sizeof(host), &port) < 0)
		return -1;
	c = az_cloud_for_vault_host(host, &hsm);
	if (c && port == 443) {
		snprintf(scope, size, "%s/.default",
			 hsm ? c->hsm_resource : c->vault_resource);
		return 0;
	}
	if (az_host_trusted(host, port)) {
		snprintf(scope, size, "%s/.default",
			 az_cloud_default()->vault_resource);
		return 0;
	}
	return refuse("Key Vault", vault_url, host, port);
}

/* Copies the quoted or bare value of `name=` in a challenge. */
static bool challenge_param(const char *h, const char *name, char *out,
			    size_t size)
{
	size_t n = strlen(name);
	const char *p = h;

	while ((p = strcasestr(p, name))) {
		const char *v = p + n;
		bool start = p == h || p[-1] == ' ' || p[-1] == ',';
		size_t len;

		p = v;
		if (!start || *v != '=')
			continue;
		v++;
		if (*v == '"') {
			const char *end = strchr(++v, '"');

			len = end ? (size_t)(end - v) : strlen(v);
		} else {
			len = strcspn(v, ", ");
		}
		if (len >= size)
			return false;
		memcpy(out, v, len);
		out[len] = '\0';
		return true;
	}
	return false;
}

static void tenant_of(const char *authz, char *out, size_t size)
{
	const char *p = strstr(authz, "://");
	size_t len;

	out[0] = '\0';
	if (!p || !(p = strchr(p + 3, '/')))
		return;
	p++;
	len = strcspn(p, "/?");
	if (len < size) {
		memcpy(out, p, len);
		out[len] = '\0';
	}
}

int az_challenge_parse(const char *header, struct az_challenge *c)
{
	char resource[480];

	memset(c, 0, sizeof(*c));
	if (!header || strncasecmp(header, "Bearer", 6) != 0)
		return err_set(EXIT_FAILED, "Key Vault answered 401 without a "
			       "Bearer challenge");
	if (!challenge_param(header, "authorization", c->authorization,
			     sizeof(c->authorization)))
		challenge_param(header, "authorization_uri", c->authorization,
				sizeof(c->authorization));
	tenant_of(c->authorization, c->tenant, sizeof(c->tenant));
	if (challenge_param(header, "scope", c->scope, sizeof(c->scope)))
		return 0;
	if (!challenge_param(header, "resource", resource, sizeof(resource)))
		return err_set(EXIT_FAILED, "Key Vault's 401 challenge names "
			       "no resource: %s", header);
	while (strlen(resource) > 8 && resource[strlen(resource) - 1] == '/')
		resource[strlen(resource) - 1] = '\0';
	snprintf(c->scope, sizeof(c->scope), "%s/.default", resource);
	return 0;
}

int az_challenge_check(const char *vault_url, const struct az_challenge *c)
{
	char host[256], rhost[256], dot[260];
	int port, rport;

	if (url_parts(vault_url, host, sizeof(host), &port) < 0)
		return -1;
	if (az_host_trusted(host, port))
		return 0;
	if (http_url_host_port(c->scope, rhost, sizeof(rhost), &rport) < 0)
		return -1;
	snprintf(dot, sizeof(dot), ".%s", rhost);
	if (ends_with_ci(host, dot))
		return 0;
	err_set(EXIT_FAILED, "refusing to send a token to %s: its 401 "
		"challenge asks for a token for %s, which is not that host's "
		"domain", host, c->scope);
	return err_hint("a server that is not Key Vault may be impersonating "
			"it; check the vault URL");
}

int az_arm_endpoint(char *out, size_t size)
{
	const char *e = getenv("FLUXWI_ARM_ENDPOINT");
	size_t n;

	strlcpy(out, e && *e ? e : az_cloud_default()->arm, size);
	n = strlen(out);
	while (n > 8 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

int az_arm_scope(const char *arm_url, char *scope, size_t size)
{
	char host[256], h[256];
	int port, p;
	size_t i;

	if (url_parts(arm_url, host, sizeof(host), &port) < 0)
		return -1;
	for (i = 0; i < NCLOUDS; i++) {
		if (http_url_host_port(clouds[i].arm, h, sizeof(h), &p) == 0 &&
		    strcasecmp(h, host) == 0 && p == port) {
			snprintf(scope, size, "%s/.default", clouds[i].arm);
			return 0;
		}
	}
	if (az_host_trusted(host, port)) {
		snprintf(scope, size, "%s/.default", az_cloud_default()->arm);
		return 0;
	}
	return refuse("Resource Manager", arm_url, host, port);
}
