#include "util/http.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <bsd/string.h>
#include <curl/curl.h>

#include "util/log.h"
#include "util/redact.h"

#define POOL 17			/* easy[0] sequential, 1..16 concurrent */
#define MAX_BODY_LOG 10240	/* -v 8 shows this much; -v 9 all */

struct http_client {
	CURLSH *share;
	CURL *easy[POOL];
	CURLM *multi;
	char *user_agent;
	long default_timeout_ms;
	long long deadline;	/* monotonic ms; 0 = none */
	CURLcode last_code;	/* of the last failed transfer */
};

/* Everything one transfer needs besides the easy handle. */
struct xfer {
	const struct http_request *req;
	struct http_response *resp;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	char *url;		/* the URL actually requested */
	char *auth;		/* Authorization header (secret) */
	char errbuf[CURL_ERROR_SIZE];
	long long t0;
	bool in_headers;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int oom(void)
{
	return err_set(EXIT_FAILED, "out of memory");
}

/* ---- client ---------------------------------------------------------- */

static bool curl_ready;

struct http_client *http_client_new(const char *user_agent,
				    long default_timeout_ms)
{
	struct http_client *c;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			err_set(EXIT_FAILED, "cannot initialise libcurl");
			return NULL;
		}
		curl_ready = true;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		oom();
		return NULL;
	}
	c->default_timeout_ms = default_timeout_ms;
	c->share = curl_share_init();
	c->user_agent = user_agent ? strdup(user_agent) : NULL;
	if (!c->share || (user_agent && !c->user_agent)) {
		http_client_free(c);
		oom();
		return NULL;
	}
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	return c;
}

void http_client_free(struct http_client *c)
{
	int i;

	if (!c)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	for (i = 0; i < POOL; i++)
		if (c->easy[i])
			curl_easy_cleanup(c->easy[i]);
	if (c->share)
		curl_share_cleanup(c->share);
	free(c->user_agent);
	free(c);
}

void http_client_set_deadline(struct http_client *c, long ms)
{
	c->deadline = ms > 0 ? now_ms() + ms : 0;
}

long http_client_remaining_ms(const struct http_client *c)
{
	long long left;

	if (!c->deadline)
		return -1;
	left = c->deadline - now_ms();
	return left > 0 ? (long)left : 0;
}

int http_client_last_code(const struct http_client *c)
{
	return (int)c->last_code;
}

bool http_code_is_timeout(int code)
{
	return code == CURLE_OPERATION_TIMEDOUT;
}

static CURL *pool_handle(struct http_client *c, int i)
{
	if (!c->easy[i])
		c->easy[i] = curl_easy_init();
	if (!c->easy[i])
		oom();
	return c->easy[i];
}

/* ---- responses --------------------------------------------------------- */

void http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	r->retry_after_s = -1;
}

void http_response_free(struct http_response *r)
{
	buf_free(&r->body);
	free(r->content_type);
	free(r->www_authenticate);
	free(r->headers);
	http_response_init(r);
}

bool http_response_header(const struct http_response *r, const char *name,
			  char *out, size_t size)
{
	size_t n = strlen(name);
	const char *p = r->headers;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			size_t vlen;

			while (*v == ' ' || *v == '\t')
				v++;
			vlen = len - (size_t)(v - p);
			if (size) {
				if (vlen >= size)
					vlen = size - 1;
				memcpy(out, v, vlen);
				out[vlen] = '\0';
			}
			return true;
		}
		p = eol ? eol + 1 : NULL;
	}
	return false;
}

static char *dup_trimmed(const char *v, size_t len)
{
	while (len && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	return strndup(v, len);
}

static void note_header(struct http_response *r, const char *line,
			size_t len)
{
	const char *colon = memchr(line, ':', len);
	size_t nlen, vlen;
	const char *v;

	if (!colon)
		return;
	nlen = (size_t)(colon - line);
	v = colon + 1;
	vlen = len - nlen - 1;
	if (nlen == 12 && strncasecmp(line, "content-type", 12) == 0 &&
	    !r->content_type) {
		r->content_type = dup_trimmed(v, vlen);
	} else if (nlen == 16 &&
		   strncasecmp(line, "www-authenticate", 16) == 0 &&
		   !r->www_authenticate) {
		r->www_authenticate = dup_trimmed(v, vlen);
	} else if (nlen == 11 && strncasecmp(line, "retry-after", 11) == 0) {
		char *t = dup_trimmed(v, vlen), *end = NULL;
		long s = t ? strtol(t, &end, 10) : -1;

		r->retry_after_s = (t && *t && end && !*end && s >= 0) ? s : -1;
		free(t);
	}
}

static void append_header_line(struct http_response *r, const char *line,
			       size_t len)
{
	size_t old = r->headers ? strlen(r->headers) : 0;
	char *p = realloc(r->headers, old + len + 2);

	if (!p)
		return;
	memcpy(p + old, line, len);
	p[old + len] = '\n';
	p[old + len + 1] = '\0';
	r->headers = p;
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
	struct xfer *x = user;
	struct http_response *r = x->resp;
	size_t len = size * n, l = len;

	while (l && (data[l - 1] == '\n' || data[l - 1] == '\r'))
		l--;
	if (l >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue or a proxy CONNECT) */
		free(r->content_type);
		free(r->www_authenticate);
		free(r->headers);
		r->content_type = r->www_authenticate = r->headers = NULL;
		r->retry_after_s = -1;
		append_header_line(r, data, l);
		return len;
	}
	if (l == 0)
		return len;
	append_header_line(r, data, l);
	note_header(r, data, l);
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct xfer *x = user;

	if (buf_append(&x->resp->body, data, size * n) < 0)
		return 0;
	return size * n;
}

/* ---- logging --------------------------------------------------------- */

static const char *status_text(long s)
{
	switch (s) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

static const char *method_of(const struct http_request *req)
{
	if (req->method)
		return req->method;
	return req->body ? "POST" : "GET";
}

static void log_url_line(const struct xfer *x, const char *tail)
{
	char *url = strdup(x->req->url);

	if (!url)
		return;
	redact_tokens_inplace(url);
	log_at(LOG_HTTP, "%s %s %s", method_of(x->req), url, tail);
	free(url);
}

static void log_header_line(const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	char name[128];
	size_t nlen = colon ? (size_t)(colon - line) : 0;

	if (colon && nlen < sizeof(name)) {
		memcpy(name, line, nlen);
		name[nlen] = '\0';
		if (redact_header_is_secret(name)) {
			log_at(LOG_HEADERS, "    %s: %s", name, REDACTED);
			return;
		}
	}
	log_at(LOG_HEADERS, "    %.*s", (int)len, line);
}

static void log_body(const char *what, const char *data, size_t len,
		     bool secret)
{
	char *safe;
	size_t show;

	if (!log_enabled(LOG_BODIES) || len == 0)
		return;
	if (secret) {
		log_at(LOG_BODIES, "%s: [%zu bytes, not shown]", what, len);
		return;
	}
	safe = redact_body(data, len);
	if (!safe)
		return;
	show = strlen(safe);
	if (!log_enabled(LOG_BODIES + 1) && show > MAX_BODY_LOG)
		log_at(LOG_BODIES, "%s: %.*s ... [truncated %zu bytes]", what,
		       MAX_BODY_LOG, safe, show - MAX_BODY_LOG);
	else
		log_at(LOG_BODIES, "%s: %s", what, safe);
	free(safe);
}

static void log_request(const struct xfer *x)
{
	const struct curl_slist *h;

	if (!log_enabled(LOG_HEADERS))
		return;
	log_url_line(x, "");
	log_at(LOG_HEADERS, "Request Headers:");
	if (x->auth)
		log_at(LOG_HEADERS, "    Authorization: %s", REDACTED);
	for (h = x->headers; h; h = h->next)
		if (strncasecmp(h->data, "Authorization:", 14) != 0)
			log_header_line(h->data, strlen(h->data));
	if (x->req->body)
		log_body("Request Body", x->req->body, x->req->body_len,
			 x->req->secret_body);
}

static void log_response(const struct xfer *x)
{
	const struct http_response *r = x->resp;
	char tail[96];
	const char *p;

	snprintf(tail, sizeof(tail), "%ld %s in %ld milliseconds", r->status,
		 status_text(r->status), r->elapsed_ms);
	log_url_line(x, tail);
	if (log_enabled(LOG_HEADERS) && r->headers) {
		log_at(LOG_HEADERS, "Response Headers:");
		for (p = r->headers; *p;) {
			const char *eol = strchr(p, '\n');
			size_t len = eol ? (size_t)(eol - p) : strlen(p);

			if (strncmp(p, "HTTP/", 5) != 0)
				log_header_line(p, len);
			p += len + (eol ? 1 : 0);
		}
	}
	log_body("Response Body", r->body.data, r->body.len,
		 x->req->secret_response);
}

/* ---- setting up a transfer --------------------------------------------- */

static int add_header(struct xfer *x, const char *line)
{
	struct curl_slist *n = curl_slist_append(x->headers, line);

	if (!n)
		return oom();
	x->headers = n;
	return 0;
}

static int build_headers(struct xfer *x)
{
	const struct http_request *req = x->req;
	const char *const *h;
	char line[256];

	for (h = req->headers; h && *h; h++)
		if (add_header(x, *h) < 0)
			return -1;
	if (req->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s",
			 req->content_type);
		if (add_header(x, line) < 0)
			return -1;
	}
	if (add_header(x, "Expect:") < 0)
		return -1;
	return 0;
}

static int build_auth(struct xfer *x)
{
	const struct http_request *req = x->req;
	struct buf b;

	if (!req->bearer && !req->basic_user)
		return 0;
	buf_init_secret(&b);
	if (req->bearer) {
		if (buf_printf(&b, "Authorization: Bearer %s", req->bearer) < 0)
			return -1;
	} else {
		struct buf raw;
		char *enc;
		size_t i, n;
		static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
					  "ghijklmnopqrstuvwxyz0123456789+/";

		buf_init_secret(&raw);
		if (buf_printf(&raw, "%s:%s", req->basic_user,
			       req->basic_pass ? req->basic_pass : "") < 0 ||
		    buf_puts(&b, "Authorization: Basic ") < 0) {
			buf_free(&raw);
			buf_free(&b);
			return -1;
		}
		n = raw.len;
		enc = calloc(1, (n + 2) / 3 * 4 + 1);
		for (i = 0; enc && i < n; i += 3) {
			unsigned v = (unsigned char)raw.data[i] << 16;
			char *o = enc + i / 3 * 4;

			v |= i + 1 < n ? (unsigned char)raw.data[i + 1] << 8 : 0;
			v |= i + 2 < n ? (unsigned char)raw.data[i + 2] : 0;
			o[0] = tbl[v >> 18 & 63];
			o[1] = tbl[v >> 12 & 63];
			o[2] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
			o[3] = i + 2 < n ? tbl[v & 63] : '=';
		}
		buf_free(&raw);
		if (!enc || buf_puts(&b, enc) < 0) {
			free(enc);
			buf_free(&b);
			return oom();
		}
		explicit_bzero(enc, strlen(enc));
		free(enc);
	}
	x->auth = buf_detach(&b, NULL);
	if (!x->auth)
		return oom();
	return add_header(x, x->auth);
}

/* For tls.server_name: request https://NAME:PORT/... and connect to the
 * real host with CONNECT_TO. */
static int redirect_for_sni(struct xfer *x, const char *name)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *out = NULL, line[600];
	int rc = -1;

	if (!u)
		return oom();
	if (curl_url_set(u, CURLUPART_URL, x->req->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
		    CURLUE_OK) {
		rc = err_set(EXIT_USAGE, "invalid URL %s", x->req->url);
		goto out;
	}
	if (curl_url_set(u, CURLUPART_HOST, name, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK) {
		rc = err_set(EXIT_USAGE, "invalid tls-server-name \"%s\"",
			     name);
		goto out;
	}
	snprintf(line, sizeof(line), "%s:%s:%s:%s", name, port, host, port);
	x->connect_to = curl_slist_append(NULL, line);
	x->url = strdup(out);
	rc = (x->connect_to && x->url) ? 0 : oom();
out:
	curl_free(host);
	curl_free(port);
	curl_free(out);
	curl_url_cleanup(u);
	return rc;
}

static void set_blob(CURL *h, CURLoption opt, const void *data, size_t len)
{
	struct curl_blob blob;

	blob.data = (void *)(uintptr_t)data;
	blob.len = len;
	blob.flags = CURL_BLOB_COPY;
	curl_easy_setopt(h, opt, &blob);
}

static void setup_trust(CURL *h, const struct http_tls *t)
{
	const char *file = getenv("SSL_CERT_FILE");
	const char *dir = getenv("SSL_CERT_DIR");

	if (t && (t->ca_file || t->ca_data)) {
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		if (t->ca_data)
			set_blob(h, CURLOPT_CAINFO_BLOB, t->ca_data, t->ca_len);
		else
			curl_easy_setopt(h, CURLOPT_CAINFO, t->ca_file);
		return;
	}
	/* Go's rule for the system pool: these variables replace the
	 * default bundle file and directory. */
	if (file && *file)
		curl_easy_setopt(h, CURLOPT_CAINFO, file);
	if (dir && *dir)
		curl_easy_setopt(h, CURLOPT_CAPATH, dir);
	else if (file && *file)
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
}

static int setup_tls(CURL *h, struct xfer *x)
{
	const struct http_tls *t = x->req->tls;

	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	setup_trust(h, t);
	if (!t)
		return 0;
	if (t->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (t->cert_data)
		set_blob(h, CURLOPT_SSLCERT_BLOB, t->cert_data, t->cert_len);
	else if (t->cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, t->cert_file);
	if (t->key_data)
		set_blob(h, CURLOPT_SSLKEY_BLOB, t->key_data, t->key_len);
	else if (t->key_file)
		curl_easy_setopt(h, CURLOPT_SSLKEY, t->key_file);
	if (t->cert_data || t->cert_file) {
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (t->server_name && *t->server_name)
		return redirect_for_sni(x, t->server_name);
	return 0;
}

/* Go's ProxyFromEnvironment never proxies localhost or loopback IPs. */
static bool loopback_url(const char *url)
{
	char host[256];
	int port;

	if (http_url_host_port(url, host, sizeof(host), &port) < 0) {
		err_clear();
		return false;
	}
	return strcasecmp(host, "localhost") == 0 ||
	       strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

static void setup_proxy(CURL *h, const char *proxy, const char *url)
{
	char fixed[1024];

	if (!proxy) {
		/* libcurl reads HTTPS_PROXY, NO_PROXY, ... itself */
		if (loopback_url(url))
			curl_easy_setopt(h, CURLOPT_PROXY, "");
		return;
	}
	if (strncasecmp(proxy, "socks5://", 9) == 0) {
		/* Go's SOCKS5 dialer lets the proxy resolve names */
		snprintf(fixed, sizeof(fixed), "socks5h://%s", proxy + 9);
		proxy = fixed;
	}
	curl_easy_setopt(h, CURLOPT_PROXY, proxy);
	if (*proxy)
		curl_easy_setopt(h, CURLOPT_NOPROXY, "");
}

static void setup_method(CURL *h, const struct http_request *req)
{
	const char *m = method_of(req);

	if (req->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
	}
	if (strcmp(m, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(m, "GET") != 0 && !(req->body && strcmp(m, "POST") == 0))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
}

static long effective_timeout(const struct http_client *c,
			      const struct http_request *req)
{
	long t = req->timeout_ms ? req->timeout_ms : c->default_timeout_ms;
	long left = http_client_remaining_ms(c);

	if (left >= 0 && (t == 0 || left < t))
		t = left > 0 ? left : 1;
	return t;
}

static int setup(struct http_client *c, CURL *h, struct xfer *x)
{
	const struct http_request *req = x->req;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, effective_timeout(c, req));
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (c->user_agent)
		curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	if (!req->no_compression)
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (req->fresh_connection)
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	if (req->secret_response)
		x->resp->body.secret = true;
	setup_method(h, req);
	setup_proxy(h, req->proxy, req->url);
	if (setup_tls(h, x) < 0 || build_headers(x) < 0 || build_auth(x) < 0)
		return -1;
	if (x->connect_to)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, x->connect_to);
	curl_easy_setopt(h, CURLOPT_URL, x->url ? x->url : req->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
	return 0;
}

static void xfer_release(struct xfer *x)
{
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->connect_to);
	free(x->url);
	if (x->auth) {
		explicit_bzero(x->auth, strlen(x->auth));
		free(x->auth);
	}
	x->headers = x->connect_to = NULL;
	x->url = x->auth = NULL;
}

/* ---- outcomes ---------------------------------------------------------- */

static const char *hint_for(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return "check that the server address is right and the server "
		       "is reachable from here";
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "check the proxy address (proxy-url or HTTPS_PROXY)";
	case CURLE_OPERATION_TIMEDOUT:
		return "the server did not answer in time; try again or raise "
		       "--request-timeout";
	case CURLE_PEER_FAILED_VERIFICATION:
		return "the server's certificate is not trusted or does not "
		       "match its name: check the CA (certificate-authority) "
		       "and tls-server-name";
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return "a certificate or key file could not be used: check "
		       "that it exists and holds PEM data";
	case CURLE_SSL_CONNECT_ERROR:
		return "the TLS handshake failed: check the client certificate,"
		       " the CA and whether the server speaks TLS";
	default:
		return "check the network path to the server";
	}
}

static int transfer_failed(struct http_client *c, struct xfer *x,
			   CURLcode rc)
{
	const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
	char *url = strdup(x->req->url);

	c->last_code = rc;
	if (url)
		redact_tokens_inplace(url);
	log_at(LOG_HTTP, "%s %s failed in %lld milliseconds: %s",
	       method_of(x->req), url ? url : "", now_ms() - x->t0, detail);
	err_set(EXIT_FAILED, "%s %s: %s", method_of(x->req),
		url ? url : x->req->url, detail);
	err_hint("%s", hint_for(rc));
	free(url);
	return -1;
}

static int finish(struct http_client *c, CURL *h, struct xfer *x,
		  CURLcode rc)
{
	struct http_response *r = x->resp;

	r->elapsed_ms = (long)(now_ms() - x->t0);
	if (rc != CURLE_OK) {
		r->status = 0;
		return transfer_failed(c, x, rc);
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	c->last_code = CURLE_OK;
	log_response(x);
	return 0;
}

static int start(struct http_client *c, CURL *h, struct xfer *x,
		 const struct http_request *req, struct http_response *resp)
{
	memset(x, 0, sizeof(*x));
	x->req = req;
	x->resp = resp;
	x->t0 = now_ms();
	http_response_free(resp);
	if (http_client_remaining_ms(c) == 0) {
		c->last_code = CURLE_OPERATION_TIMEDOUT;
		err_set(EXIT_FAILED, "%s %s: not sent, the request timeout has "
			"passed", method_of(req), req->url);
		return err_hint("raise --request-timeout");
	}
	if (setup(c, h, x) < 0)
		return -1;
	log_request(x);
	return 0;
}

int http_do(struct http_client *c, const struct http_request *req,
	    struct http_response *resp)
{
	CURL *h = pool_handle(c, 0);
	struct xfer x;
	int rc;

	if (!h)
		return -1;
	if (start(c, h, &x, req, resp) < 0) {
		xfer_release(&x);
		return -1;
	}
	rc = finish(c, h, &x, curl_easy_perform(h));
	xfer_release(&x);
	return rc;
}

/* ---- concurrent transfers ----------------------------------------------- */

struct slot {
	struct xfer x;
	size_t idx;
	bool busy;
};

static int launch(struct http_client *c, struct slot *s, int i,
		  const struct http_request *reqs,
		  struct http_response *resps, size_t idx)
{
	CURL *h = pool_handle(c, i + 1);

	s->idx = idx;
	if (!h || start(c, h, &s->x, &reqs[idx], &resps[idx]) < 0) {
		resps[idx].result = -1;
		err_save(&resps[idx].err);
		xfer_release(&s->x);
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_PRIVATE, s);
	if (curl_multi_add_handle(c->multi, h) != CURLM_OK) {
		oom();
		resps[idx].result = -1;
		err_save(&resps[idx].err);
		xfer_release(&s->x);
		return -1;
	}
	s->busy = true;
	return 0;
}

static void harvest(struct http_client *c, struct http_response *resps)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		struct slot *s = NULL;
		struct http_response *r;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		r = &resps[s->idx];
		r->result = finish(c, m->easy_handle, &s->x, m->data.result);
		if (r->result < 0)
			err_save(&r->err);
		curl_multi_remove_handle(c->multi, m->easy_handle);
		xfer_release(&s->x);
		s->busy = false;
	}
}

int http_perform_many(struct http_client *c, const struct http_request *reqs,
		      struct http_response *resps, size_t n, int parallel)
{
	struct slot slots[POOL - 1];
	size_t next = 0, i;
	int running = 0, j, busy;

	if (parallel < 1)
		parallel = 1;
	if (parallel > POOL - 1)
		parallel = POOL - 1;
	if (!c->multi && !(c->multi = curl_multi_init()))
		return oom();
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	memset(slots, 0, sizeof(slots));
	do {
		for (j = 0; j < parallel && next < n; j++)
			if (!slots[j].busy)
				launch(c, &slots[j], j, reqs, resps, next++);
		curl_multi_perform(c->multi, &running);
		harvest(c, resps);
		for (busy = 0, j = 0; j < parallel; j++)
			busy += slots[j].busy;
		if (busy)
			curl_multi_poll(c->multi, NULL, 0, 1000, NULL);
	} while (busy || next < n);
	for (i = 0; i < n; i++)
		if (resps[i].result < 0) {
			err_restore(&resps[i].err);
			return -1;
		}
	return 0;
}

/* ---- retries ------------------------------------------------------------- */

static bool retryable_status(long s)
{
	return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

bool http_code_is_reset(int code)
{
	CURLcode rc = (CURLcode)code;

	return rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
	       rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE ||
	       rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM;
}

static long backoff_ms(const struct http_retry *p, int attempt)
{
	long base = p->base_delay_ms ? p->base_delay_ms : 500;
	long cap = p->max_delay_ms ? p->max_delay_ms : 30000;
	long d = base;
	int i;

	for (i = 1; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	/* full jitter in [d/2, d] */
	return d / 2 + (long)(arc4random_uniform((uint32_t)(d / 2 + 1)));
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int http_do_retry(struct http_client *c, const struct http_request *req,
		  struct http_response *resp, const struct http_retry *policy)
{
	static const struct http_retry defaults = { 0 };
	const struct http_retry *p = policy ? policy : &defaults;
	int max = p->max_attempts > 0 ? p->max_attempts : 5, attempt;
	long long until = p->budget_ms ? now_ms() + p->budget_ms : 0;

	for (attempt = 1;; attempt++) {
		int rc = http_do(c, req, resp);
		long wait, left = http_client_remaining_ms(c);

		if (rc == 0 && !retryable_status(resp->status))
			return 0;
		if (rc < 0 && (p->no_reset_retry ||
			       !http_code_is_reset(c->last_code)))
			return -1;
		if (rc == 0 && p->need_retry_after && resp->retry_after_s < 0)
			return 0;
		if (attempt >= max)
			return rc;
		wait = (rc == 0 && resp->retry_after_s >= 0)
			       ? resp->retry_after_s * 1000
			       : backoff_ms(p, attempt);
		if ((left >= 0 && wait >= left) ||
		    (until && now_ms() + wait >= until))
			return rc;
		log_at(LOG_HTTP, "retrying %s %s in %ld ms (attempt %d of %d)",
		       method_of(req), req->url, wait, attempt + 1, max);
		sleep_ms(wait);
	}
}

/* ---- URLs ---------------------------------------------------------------- */

char *http_escape(const char *s)
{
	static const char safe[] = "-._~";
	size_t n = strlen(s), i, j = 0;
	char *out = malloc(n * 3 + 1);

	if (!out) {
		oom();
		return NULL;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (isalnum(ch) || strchr(safe, ch))
			out[j++] = (char)ch;
		else
			j += (size_t)sprintf(out + j, "%%%02X", ch);
	}
	out[j] = '\0';
	return out;
}

int http_url_host_port(const char *url, char *host, size_t hostsz,
		       int *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL;
	int rc = 0;

	if (!u)
		return oom();
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) !=
		    CURLUE_OK) {
		rc = err_set(EXIT_USAGE, "invalid URL \"%s\"", url);
	} else {
		size_t hl = strlen(h);

		if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
			snprintf(host, hostsz, "%.*s", (int)hl - 2, h + 1);
		else
			strlcpy(host, h, hostsz);
		*port = atoi(p);
	}
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}
