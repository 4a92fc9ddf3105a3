#include "util/redact.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

static const char *const secret_headers[] = {
	"authorization", "proxy-authorization", "x-identity-header",
	"cookie", "set-cookie", "x-ms-authorization-auxiliary", NULL
};

static const char *const secret_fields[] = {
	"access_token", "accessToken", "refresh_token", "id_token",
	"client_secret", "client_assertion", "assertion", "token",
	"password", "value", "data", "stringData", "secret", "key_data",
	"client-key-data", "private_key", "d", "p", "q", "dp", "dq", "qi",
	NULL
};

static bool in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcasecmp(*list, name) == 0)
			return true;
	return false;
}

bool redact_header_is_secret(const char *name)
{
	return in_list(secret_headers, name);
}

bool redact_field_is_secret(const char *name)
{
	return in_list(secret_fields, name);
}

static void redact_json(cJSON *node)
{
	cJSON *child;

	cJSON_ArrayForEach(child, node) {
		if (child->string && redact_field_is_secret(child->string) &&
		    !cJSON_IsNull(child)) {
			cJSON *mask = cJSON_CreateString(REDACTED);

			if (mask)
				cJSON_ReplaceItemViaPointer(node, child, mask);
			child = mask;
			if (!child)
				return;
			continue;
		}
		redact_json(child);
	}
}

static bool looks_like_form(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !memchr(s, '=', len))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || strchr("=&%+-._~:", c)))
			return false;
	}
	return true;
}

static char *redact_form(const char *s, size_t len)
{
	char *out = malloc(len * 2 + sizeof(REDACTED) * 16 + 1);
	char *copy = strndup(s, len), *save = NULL, *field, *o = out;

	if (!out || !copy) {
		free(out);
		free(copy);
		return NULL;
	}
	*o = '\0';
	for (field = strtok_r(copy, "&", &save); field;
	     field = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(field, '=');

		if (o != out)
			*o++ = '&';
		if (eq) {
			*eq = '\0';
			o += sprintf(o, "%s=%s", field,
				     redact_field_is_secret(field) ? REDACTED :
				     eq + 1);
		} else {
			o += sprintf(o, "%s", field);
		}
	}
	free(copy);
	redact_tokens_inplace(out);
	return out;
}

char *redact_body(const char *body, size_t len)
{
	cJSON *json;
	char *out;

	if (len == 0)
		return strdup("");
	json = cJSON_ParseWithLength(body, len);
	if (json) {
		redact_json(json);
		out = cJSON_PrintUnformatted(json);
		cJSON_Delete(json);
		if (out)
			redact_tokens_inplace(out);
		return out;
	}
	if (looks_like_form(body, len))
		return redact_form(body, len);
	out = malloc(64);
	if (out)
		snprintf(out, 64, "[%zu bytes not shown]", len);
	return out;
}

static bool tokchar(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* A JWT: "eyJ" then base64url, containing two dots. */
static size_t jwt_len(const char *s)
{
	size_t n = 0;
	int dots = 0;

	if (strncmp(s, "eyJ", 3) != 0)
		return 0;
	while (tokchar(s[n])) {
		if (s[n] == '.')
			dots++;
		n++;
	}
	return dots >= 2 && n > 20 ? n : 0;
}

void redact_tokens_inplace(char *s)
{
	char *p = s;

	while (*p) {
		size_t n = (p == s || !tokchar(p[-1])) ? jwt_len(p) : 0;

		if (n >= sizeof(REDACTED) - 1) {
			memcpy(p, REDACTED, sizeof(REDACTED) - 1);
			memmove(p + sizeof(REDACTED) - 1, p + n,
				strlen(p + n) + 1);
			p += sizeof(REDACTED) - 1;
		} else {
			p++;
		}
	}
}
