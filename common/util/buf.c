#include "util/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "util/err.h"

void buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void buf_init_secret(struct buf *b)
{
	buf_init(b);
	b->secret = true;
}

/* Moves to a larger block by hand so a secret buffer never leaves a copy
 * behind in memory that realloc() would free without wiping. */
static int grow(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 64;
	char *p;

	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return err_set(EXIT_FAILED, "out of memory");
		cap *= 2;
	}
	p = malloc(cap);
	if (!p)
		return err_set(EXIT_FAILED, "out of memory");
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		if (b->secret)
			explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_reserve(struct buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		return err_set(EXIT_FAILED, "out of memory");
	if (b->len + extra + 1 <= b->cap)
		return 0;
	if (grow(b, b->len + extra + 1) < 0)
		return -1;
	if (b->len == 0)
		b->data[0] = '\0';
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err_set(EXIT_FAILED, "cannot format text");
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void buf_reset(struct buf *b)
{
	if (b->data && b->secret)
		explicit_bzero(b->data, b->cap);
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	bool secret = b->secret;

	buf_reset(b);
	free(b->data);
	memset(b, 0, sizeof(*b));
	b->secret = secret;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	if (len)
		*len = b->len;
	memset(b, 0, sizeof(*b));
	return p;
}
