/*
 * http.h - the one HTTP layer of the suite, on libcurl.
 *
 * A struct http_client lives for the whole run: it keeps one easy handle
 * for sequential requests and a small pool for concurrent ones, all joined
 * to one share handle (DNS, TLS sessions, connections), so every request to
 * the same server reuses one connection (HTTP/2 where the server offers
 * it).  Requests are plain data (struct http_request); a struct
 * http_response owns what came back.
 *
 * Logging: -v 6 "METHOD URL STATUS in N milliseconds", -v 7 request and
 * response headers (credential headers replaced by REDACTED), -v 8 bodies
 * through redact_body().  Nothing here ever prints a secret.
 *
 * No retries happen unless the caller asks with http_do_retry().
 *
 * Errors: functions return 0 when an HTTP answer arrived (any status; the
 * caller judges it), -1 with err_set(EXIT_FAILED, ...) and a hint when none
 * did (DNS, connect, TLS, timeout, proxy).
 */
#ifndef COMMON_UTIL_HTTP_H
#define COMMON_UTIL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

struct http_client;

/* TLS settings for one request.  Every pointer is borrowed. */
struct http_tls {
	const char *ca_file;		/* PEM bundle; NULL: see ca_data */
	const void *ca_data;		/* PEM bytes (CURLOPT_CAINFO_BLOB) */
	size_t ca_len;
	bool insecure;			/* skip server verification */
	const char *cert_file;		/* client certificate (PEM) */
	const void *cert_data;
	size_t cert_len;
	const char *key_file;		/* its private key (PEM) */
	const void *key_data;		/* secret */
	size_t key_len;
	const char *server_name;	/* verify/SNI with this name instead
					 * of the URL's host */
};

struct http_request {
	const char *method;		/* NULL: GET, or POST with a body */
	const char *url;
	const char *const *headers;	/* "Name: value", NULL-terminated */
	const char *bearer;		/* Authorization: Bearer (secret) */
	const char *basic_user;		/* Authorization: Basic, with ... */
	const char *basic_pass;		/* ... this password (secret) */
	const char *content_type;
	const void *body;
	size_t body_len;
	long timeout_ms;		/* 0: the client's default */
	const struct http_tls *tls;	/* NULL: system trust store */
	const char *proxy;		/* NULL: environment (HTTPS_PROXY,
					 * NO_PROXY, ...); "" none */
	bool no_compression;		/* do not ask for gzip */
	bool secret_body;		/* request body is secret: never log */
	bool secret_response;		/* wipe the response body on free and
					 * never log it */
	bool fresh_connection;		/* do not reuse a connection (new
					 * client certificate) */
};

struct http_response {
	long status;			/* 0 when no answer */
	struct buf body;
	char *content_type;		/* NULL when absent */
	char *www_authenticate;
	long retry_after_s;		/* -1 when absent or not seconds */
	char *headers;			/* every header line, "\n"-separated */
	long elapsed_ms;
	/* set by http_perform_many for each request: */
	int result;			/* 0 or -1 */
	struct err_record err;		/* the error when result is -1 */
};

/*
 * Creates the client.  `default_timeout_ms` bounds each request that does
 * not set its own (0 = no limit).  `user_agent` may be NULL.
 * Returns NULL with err_set() on failure.  Free with http_client_free().
 */
struct http_client *http_client_new(const char *user_agent,
				    long default_timeout_ms);
void http_client_free(struct http_client *c);

/*
 * An overall deadline for the run (--request-timeout semantics of callers
 * that want one): no request or retry extends past it.  `ms` from now;
 * 0 removes it.
 */
void http_client_set_deadline(struct http_client *c, long ms);

/* Milliseconds left before the deadline; -1 when there is none. */
long http_client_remaining_ms(const struct http_client *c);

/* The libcurl code (CURLcode) of the client's last transfer; 0 when it got
 * an answer.  Lets callers with their own retry loop tell a reset or a
 * timeout from other failures. */
int http_client_last_code(const struct http_client *c);

/* True when that code is a reset, an empty reply or a broken HTTP/2 stream
 * (worth retrying), false for DNS, connect, TLS and timeout failures. */
bool http_code_is_reset(int code);
/* True when that code is a timeout of the transfer. */
bool http_code_is_timeout(int code);

void http_response_init(struct http_response *r);
void http_response_free(struct http_response *r);

/* The value of the first header `name` (case-insensitive), copied into
 * `out` (truncated to `size`).  Returns true when present. */
bool http_response_header(const struct http_response *r, const char *name,
			  char *out, size_t size);

/* Performs one request.  `resp` must be initialised; it is reset first. */
int http_do(struct http_client *c, const struct http_request *req,
	    struct http_response *resp);

/*
 * Performs n requests with at most `parallel` in flight (<= 16).  Returns
 * 0 when every request got an answer, -1 otherwise (the first failure's
 * error is set; each response's `result` and `err` say which failed).
 */
int http_perform_many(struct http_client *c, const struct http_request *reqs,
		      struct http_response *resps, size_t n, int parallel);

/* What http_do_retry() retries. */
struct http_retry {
	int max_attempts;		/* including the first; 0: 5 */
	long budget_ms;			/* stop retrying after this long;
					 * 0: the client's deadline only */
	long base_delay_ms;		/* first backoff; 0: 500 */
	long max_delay_ms;		/* cap per wait; 0: 30000 */
	bool need_retry_after;		/* retry 429/5xx only when the answer
					 * carries Retry-After (client-go) */
	bool no_reset_retry;		/* do not resend after a reset: the
					 * request may have been processed
					 * (non-idempotent writes) */
};

/*
 * http_do() that retries, within the policy and the client's deadline,
 * on 429, 500, 502, 503, 504 and on connections reset mid-way (unless
 * no_reset_retry).
 * Waits honour Retry-After (seconds), else exponential backoff with full
 * jitter.  The last answer (or error) is what the caller sees.
 */
int http_do_retry(struct http_client *c, const struct http_request *req,
		  struct http_response *resp, const struct http_retry *policy);

/* Percent-encodes `s` for a query value or a path segment.  Returns a new
 * string or NULL with err_set(). */
char *http_escape(const char *s);

/* Splits "https://host:port/path" into its host (no brackets) and port
 * (default 443/80).  Returns 0 or -1 with err_set(EXIT_USAGE). */
int http_url_host_port(const char *url, char *host, size_t hostsz,
		       int *port);

#endif
