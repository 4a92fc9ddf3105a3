/* test_http_client.c - util/http against a local HTTP server: answers and
 * headers, retries (Retry-After, backoff, budget), concurrency, timeouts,
 * connection reuse, errors with remedies, URL helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "test_http_server.h"
#include "util/err.h"
#include "util/http.h"

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* /echo: method, path, content type and body back; /status/N: N;
 * /flaky/K/CODE: CODE with Retry-After: 0 for the first K requests;
 * /slow: 400 ms delay; /drop: connection closed without an answer. */
static int flaky_seen;

static void handler(const struct ts_request *req, struct ts_response *r,
		    void *arg)
{
	int k, code;

	(void)arg;
	if (strncmp(req->path, "/echo", 5) == 0) {
		const char *ct = strcasestr(req->headers, "content-type:");
		const char *auth = strcasestr(req->headers, "authorization:");
		char ctv[128] = "", authv[128] = "";

		if (ct)
			sscanf(ct + 13, " %127[^\r]", ctv);
		if (auth)
			sscanf(auth + 14, " %127[^\r]", authv);
		snprintf(r->body, sizeof(r->body), "%s %s [%s] [%s] %.*s",
			 req->method, req->path, ctv, authv,
			 (int)req->body_len, req->body ? req->body : "");
		snprintf(r->headers, sizeof(r->headers),
			 "Content-Type: text/plain\r\nWWW-Authenticate: "
			 "Bearer realm=\"x\"\r\nX-Multi: a\r\n");
	} else if (sscanf(req->path, "/status/%d", &code) == 1) {
		r->status = code;
		if (code == 429)
			snprintf(r->headers, sizeof(r->headers),
				 "Retry-After: 7\r\n");
	} else if (strcmp(req->path, "/reset") == 0) {
		flaky_seen = 0;
	} else if (sscanf(req->path, "/flaky/%d/%d", &k, &code) == 2) {
		if (flaky_seen++ < k) {
			r->status = code;
			snprintf(r->headers, sizeof(r->headers),
				 "Retry-After: 0\r\n");
		} else {
			snprintf(r->body, sizeof(r->body), "ok after %d",
				 flaky_seen);
		}
	} else if (strcmp(req->path, "/slow") == 0) {
		r->delay_ms = 400;
		strcpy(r->body, "slow");
	} else if (strcmp(req->path, "/drop") == 0) {
		r->close = 1;
	} else {
		r->status = 404;
	}
}

struct fixture {
	struct ts_server *srv;
	struct http_client *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->srv = ts_start(handler, NULL);
	f->c = http_client_new("fluxwi-test/1", 5000);
	assert_non_null(f->c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_client_free(f->c);
	ts_stop(f->srv);
	free(f);
	return 0;
}

static void get_and_headers(void **state)
{
	struct fixture *f = *state;
	struct http_request req;
	struct http_response r;
	char url[128], v[64];

	ts_url(f->srv, "/echo?a=1", url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.bearer = "sekrit-token";
	http_response_init(&r);
	assert_int_equal(http_do(f->c, &req, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data,
			    "GET /echo?a=1 [] [Bearer sekrit-token] ");
	assert_string_equal(r.content_type, "text/plain");
	assert_string_equal(r.www_authenticate, "Bearer realm=\"x\"");
	assert_int_equal(r.retry_after_s, -1);
	assert_true(http_response_header(&r, "x-multi", v, sizeof(v)));
	assert_string_equal(v, "a");
	assert_false(http_response_header(&r, "x-absent", v, sizeof(v)));
	http_response_free(&r);
}

static void post_patch_delete(void **state)
{
	struct fixture *f = *state;
	struct http_request req;
	struct http_response r;
	char url[128];

	ts_url(f->srv, "/echo", url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.body = "{\"a\":1}";
	req.body_len = 7;
	req.content_type = "application/json";
	http_response_init(&r);
	assert_int_equal(http_do(f->c, &req, &r), 0);
	assert_string_equal(r.body.data,
			    "POST /echo [application/json] [] {\"a\":1}");
	req.method = "PATCH";
	req.content_type = "application/merge-patch+json";
	assert_int_equal(http_do(f->c, &req, &r), 0);
	assert_string_equal(r.body.data, "PATCH /echo [application/merge-"
			    "patch+json] [] {\"a\":1}");
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.method = "DELETE";
	req.basic_user = "u";
	req.basic_pass = "p";
	assert_int_equal(http_do(f->c, &req, &r), 0);
	assert_string_equal(r.body.data, "DELETE /echo [] [Basic dTpw] ");
	http_response_free(&r);
}

static void connection_reused(void **state)
{
	struct fixture *f = *state;
	struct http_request req;
	struct http_response r;
	char url[128];
	int i;

	ts_url(f->srv, "/echo", url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.url = url;
	http_response_init(&r);
	for (i = 0; i < 5; i++)
		assert_int_equal(http_do(f->c, &req, &r), 0);
	assert_int_equal(atomic_load(&f->srv->connections), 1);
	req.fresh_connection = true;
	assert_int_equal(http_do(f->c, &req, &r), 0);
	assert_int_equal(atomic_load(&f->srv->connections), 2);
	http_response_free(&r);
}

static void status_is_not_an_error(void **state)
{
	struct fixture *f = *state;
	struct http_request req;
	struct http_response r;
	char url[128];

	ts_url(f->srv, "/status/429", url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.url = url;
	http_response_init(&r);
	assert_int_equal(http_do(f->c, &req, &r), 0);
	assert_int_equal(r.status, 429);
	assert_int_equal(r.retry_after_s, 7);
	http_response_free(&r);
}

static void retry_honours_retry_after(void **state)
{
	struct fixture *f = *state;
	struct http_request req;
	struct http_response r;
	struct http_retry pol = { 5, 0, 0, 0, true };
	char url[128];
	int before = atomic_load(&f->srv->requests);

	flaky_seen = 0;
	ts_url(f->srv, "/flaky/2/503", url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.url = url;
	http_response_init(&r);
	assert_int_equal(http_do_retry(f->c, &req, &r, &pol), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "ok after 3");
	assert_int_equal(atomic_load(&f->srv->requests) - before, 3);
	http_response_free(&r);
}

static void retry_gives_up(void **state)
{
	struct fixture *f = *state;
	struct http_request req;
	struct http_response r;
	struct http_retry pol = { 3, 0, 10, 20, false };
	char url[128];
	int before = atomic_load(&f->srv->requests);

	/* 500 without Retry-After is not retried when Retry-After is
	 * required, and retried with backoff when it is not */
	ts_url(f->srv, "/status/500", url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.url = url;
	http_response_init(&r);
	assert_int_equal(http_do_retry(f->c, &req, &r, &pol), 0);
	assert_int_equal(r.status, 500);
	assert_int_equal(atomic_load(&f->srv->requests) - before, 3);
	pol.need_retry_after = true;
	before = atomic_load(&f->srv->requests);
	assert_int_equal(http_do_retry(f->c, &req, &r, &pol), 0);
	assert_int_equal(atomic_load(&f->srv->requests) - before, 1);
	/* a 404 is never retried */
	ts_url(f->srv, "/nothing", url, sizeof(url));
	pol.need_retry_after = false;
	before = atomic_load(&f->srv->requests);
	assert_int_equal(http_do_retry(f->c, &req, &r, &pol), 0);
	assert_int_equal(r.status, 404);
	assert_int_equal(atomic_load(&f->srv->requests) - before, 1);
	http_response_free(&r);
}

static void retry_within_budget(void **state)
{
	struct fixture *f = *state;
	struct http_request req;
	struct http_response r;
	struct http_retry pol = { 10, 500, 0, 0, false };
	char url[128];
	long long t0 = mono_ms();

	/* Retry-After: 7 s does not fit into a 500 ms budget */
	ts_url(f->srv, "/status/429", url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.url = url;
	http_response_init(&r);
	assert_int_equal(http_do_retry(f->c, &req, &r, &pol), 0);
	assert_int_equal(r.status, 429);
	assert_true(mono_ms() - t0 < 2000);
	http_response_free(&r);
}

static void dropped_connection_retried(void **state)
{
	struct fixture *f = *state;
	struct http_request req;
	struct http_response r;
	struct http_retry pol = { 3, 0, 10, 20, false };
	char url[128];
	int before = atomic_load(&f->srv->requests);

	ts_url(f->srv, "/drop", url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.url = url;
	http_response_init(&r);
	assert_int_equal(http_do_retry(f->c, &req, &r, &pol), -1);
	assert_int_equal(atomic_load(&f->srv->requests) - before, 3);
	assert_non_null(strstr(err_msg(), "/drop"));
	assert_true(http_code_is_reset(http_client_last_code(f->c)));
	assert_false(http_code_is_timeout(http_client_last_code(f->c)));
	/* a write that may have been processed is not sent again */
	pol.no_reset_retry = true;
	before = atomic_load(&f->srv->requests);
	assert_int_equal(http_do_retry(f->c, &req, &r, &pol), -1);
	assert_int_equal(atomic_load(&f->srv->requests) - before, 1);
	http_response_free(&r);
}

static void timeout_and_deadline(void **state)
{
	struct fixture *f = *state;
	struct http_request req;
	struct http_response r;
	char url[128];

	ts_url(f->srv, "/slow", url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.timeout_ms = 100;
	http_response_init(&r);
	assert_int_equal(http_do(f->c, &req, &r), -1);
	assert_non_null(strstr(err_remedy(), "--request-timeout"));
	assert_true(http_code_is_timeout(http_client_last_code(f->c)));
	req.timeout_ms = 0;
	assert_int_equal(http_do(f->c, &req, &r), 0);
	http_client_set_deadline(f->c, 150);
	assert_int_equal(http_do(f->c, &req, &r), -1);
	usleep(200000);
	assert_int_equal(http_client_remaining_ms(f->c), 0);
	assert_int_equal(http_do(f->c, &req, &r), -1);
	assert_non_null(strstr(err_msg(), "not sent"));
	http_client_set_deadline(f->c, 0);
	assert_int_equal(http_client_remaining_ms(f->c), -1);
	http_response_free(&r);
}

static void many_in_parallel(void **state)
{
	struct fixture *f = *state;
	struct http_request reqs[12];
	struct http_response resps[12];
	char urls[12][128];
	long long t0;
	int i;

	for (i = 0; i < 12; i++) {
		ts_url(f->srv, i == 5 ? "/nothing" : "/slow", urls[i],
		       sizeof(urls[i]));
		memset(&reqs[i], 0, sizeof(reqs[i]));
		reqs[i].url = urls[i];
		http_response_init(&resps[i]);
	}
	atomic_store(&f->srv->max_in_flight, 0);
	t0 = mono_ms();
	assert_int_equal(http_perform_many(f->c, reqs, resps, 12, 8), 0);
	/* 11 slow answers of 400 ms with 8 in flight: two rounds, not 11 */
	assert_true(mono_ms() - t0 < 3000);	/* one at a time: 4.4 s */
	assert_true(atomic_load(&f->srv->max_in_flight) > 1);
	for (i = 0; i < 12; i++) {
		assert_int_equal(resps[i].result, 0);
		assert_int_equal(resps[i].status, i == 5 ? 404 : 200);
		http_response_free(&resps[i]);
	}
}

static void many_reports_failures(void **state)
{
	struct fixture *f = *state;
	struct http_request reqs[2];
	struct http_response resps[2];
	char ok[128];

	ts_url(f->srv, "/echo", ok, sizeof(ok));
	memset(reqs, 0, sizeof(reqs));
	reqs[0].url = ok;
	reqs[1].url = "http://127.0.0.1:1/refused";
	http_response_init(&resps[0]);
	http_response_init(&resps[1]);
	assert_int_equal(http_perform_many(f->c, reqs, resps, 2, 2), -1);
	assert_int_equal(resps[0].result, 0);
	assert_int_equal(resps[1].result, -1);
	assert_non_null(strstr(resps[1].err.msg, "127.0.0.1:1/refused"));
	assert_non_null(strstr(err_msg(), "refused"));
	http_response_free(&resps[0]);
	http_response_free(&resps[1]);
}

static void refused_has_remedy(void **state)
{
	struct fixture *f = *state;
	struct http_request req;
	struct http_response r;

	memset(&req, 0, sizeof(req));
	req.url = "http://127.0.0.1:1/x";
	http_response_init(&r);
	assert_int_equal(http_do(f->c, &req, &r), -1);
	assert_int_equal(err_code(), EXIT_FAILED);
	assert_non_null(strstr(err_msg(), "GET http://127.0.0.1:1/x"));
	assert_non_null(strstr(err_remedy(), "reachable"));
	http_response_free(&r);
}

static void escape_and_split(void **state)
{
	char *e = http_escape("app in (a,b),!x=y z/~");
	char host[64];
	int port;

	(void)state;
	assert_string_equal(e, "app%20in%20%28a%2Cb%29%2C%21x%3Dy%20z%2F~");
	free(e);
	assert_int_equal(http_url_host_port("https://[::1]:6443/p", host,
					    sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 6443);
	assert_int_equal(http_url_host_port("https://example.com/x", host,
					    sizeof(host), &port), 0);
	assert_string_equal(host, "example.com");
	assert_int_equal(port, 443);
	assert_int_equal(http_url_host_port("::not a url", host, sizeof(host),
					    &port), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(get_and_headers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(post_patch_delete, setup,
						teardown),
		cmocka_unit_test_setup_teardown(connection_reused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(status_is_not_an_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(retry_honours_retry_after,
						setup, teardown),
		cmocka_unit_test_setup_teardown(retry_gives_up, setup,
						teardown),
		cmocka_unit_test_setup_teardown(retry_within_budget, setup,
						teardown),
		cmocka_unit_test_setup_teardown(dropped_connection_retried,
						setup, teardown),
		cmocka_unit_test_setup_teardown(timeout_and_deadline, setup,
						teardown),
		cmocka_unit_test_setup_teardown(many_in_parallel, setup,
						teardown),
		cmocka_unit_test_setup_teardown(many_reports_failures, setup,
						teardown),
		cmocka_unit_test_setup_teardown(refused_has_remedy, setup,
						teardown),
		cmocka_unit_test(escape_and_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
