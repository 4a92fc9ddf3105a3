/*
 * test_http_server.h - a tiny HTTP/1.1 server on 127.0.0.1 for the unit
 * tests of util/http and kube/client (header-only, plain HTTP, keep-alive,
 * one thread per connection).  The test supplies a handler that sees each
 * request and fills the answer; the server counts requests and
 * connections so tests can check retries and connection reuse.
 */
#ifndef TEST_HTTP_SERVER_H
#define TEST_HTTP_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct ts_request {
	char method[16];
	char path[2048];
	char headers[8192];
	char *body;
	size_t body_len;
	int n;				/* 1-based request number */
};

struct ts_response {
	int status;
	char headers[1024];		/* extra "Name: value\r\n" lines */
	char body[65536];
	int delay_ms;			/* wait before answering */
	int close;			/* close the connection without answer */
};

typedef void (*ts_handler)(const struct ts_request *req,
			   struct ts_response *resp, void *arg);

struct ts_server {
	int fd;
	int port;
	pthread_t thread;
	ts_handler handler;
	void *arg;
	atomic_int requests;
	atomic_int connections;
	atomic_int in_flight;
	atomic_int max_in_flight;
	pthread_mutex_t lock;		/* serialises the handler */
	pthread_mutex_t conns_lock;
	pthread_t conn_threads[256];
	int conn_fds[256];
	int nconns;
};

struct ts_conn {
	struct ts_server *s;
	int fd;
};

static inline int ts_read_request(int fd, struct ts_request *r)
{
	char buf[16384];
	size_t len = 0;
	char *end = NULL, *cl;
	size_t want;

	while (!end) {
		ssize_t n;

		if (len + 1 >= sizeof(buf))
			return -1;
		n = read(fd, buf + len, sizeof(buf) - len - 1);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	*end = '\0';
	if (sscanf(buf, "%15s %2047s", r->method, r->path) != 2)
		return -1;
	snprintf(r->headers, sizeof(r->headers), "%s", strchr(buf, '\n') + 1);
	cl = strcasestr(r->headers, "content-length:");
	want = cl ? strtoul(cl + 15, NULL, 10) : 0;
	r->body = calloc(1, want + 1);
	r->body_len = len - (size_t)(end + 4 - buf);
	if (r->body_len > want)
		r->body_len = want;
	memcpy(r->body, end + 4, r->body_len);
	while (r->body_len < want) {
		ssize_t n = read(fd, r->body + r->body_len, want - r->body_len);

		if (n <= 0)
			return -1;
		r->body_len += (size_t)n;
	}
	return 0;
}

static inline void *ts_conn_main(void *p)
{
	struct ts_conn *c = p;
	struct ts_server *s = c->s;

	for (;;) {
		struct ts_request req;
		struct ts_response *resp = calloc(1, sizeof(*resp));
		char head[2048];
		int now;

		memset(&req, 0, sizeof(req));
		if (ts_read_request(c->fd, &req) < 0) {
			free(resp);
			free(req.body);
			break;
		}
		req.n = atomic_fetch_add(&s->requests, 1) + 1;
		now = atomic_fetch_add(&s->in_flight, 1) + 1;
		if (now > atomic_load(&s->max_in_flight))
			atomic_store(&s->max_in_flight, now);
		resp->status = 200;
		pthread_mutex_lock(&s->lock);
		s->handler(&req, resp, s->arg);
		pthread_mutex_unlock(&s->lock);
		if (resp->delay_ms)
			usleep((useconds_t)resp->delay_ms * 1000);
		atomic_fetch_sub(&s->in_flight, 1);
		free(req.body);
		if (resp->close) {
			free(resp);
			break;
		}
		snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: "
			 "%zu\r\n%s\r\n", resp->status, strlen(resp->body),
			 resp->headers);
		if (send(c->fd, head, strlen(head), MSG_NOSIGNAL) < 0 ||
		    send(c->fd, resp->body, strlen(resp->body),
			 MSG_NOSIGNAL) < 0) {
			free(resp);
			break;
		}
		free(resp);
	}
	shutdown(c->fd, SHUT_RDWR);
	free(c);
	return NULL;
}

static inline void *ts_accept_main(void *p)
{
	struct ts_server *s = p;

	for (;;) {
		int fd = accept(s->fd, NULL, NULL);
		struct ts_conn *c;
		pthread_t t;

		if (fd < 0)
			return NULL;
		atomic_fetch_add(&s->connections, 1);
		c = malloc(sizeof(*c));
		c->s = s;
		c->fd = fd;
		pthread_mutex_lock(&s->conns_lock);
		if (s->nconns == 256 ||
		    pthread_create(&t, NULL, ts_conn_main, c) != 0) {
			pthread_mutex_unlock(&s->conns_lock);
			close(fd);
			free(c);
			continue;
		}
		s->conn_threads[s->nconns] = t;
		s->conn_fds[s->nconns++] = fd;
		pthread_mutex_unlock(&s->conns_lock);
	}
}

static inline struct ts_server *ts_start(ts_handler h, void *arg)
{
	struct ts_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	s->handler = h;
	s->arg = arg;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->conns_lock, NULL);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(s->fd, 64) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &alen) < 0)
		abort();
	s->port = ntohs(a.sin_port);
	pthread_create(&s->thread, NULL, ts_accept_main, s);
	return s;
}

/* Stops accepting, ends every connection and waits for its thread. */
static inline void ts_stop(struct ts_server *s)
{
	int i;

	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->thread, NULL);
	for (i = 0; i < s->nconns; i++) {
		shutdown(s->conn_fds[i], SHUT_RDWR);
		pthread_join(s->conn_threads[i], NULL);
		close(s->conn_fds[i]);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->conns_lock);
	free(s);
}

static inline void ts_url(const struct ts_server *s, const char *path,
			  char *out, size_t size)
{
	snprintf(out, size, "http://127.0.0.1:%d%s", s->port, path);
}

#endif
