/*
 * buf.h - growable byte buffers.
 *
 * A struct buf owns its data.  A buffer marked secret (buf_init_secret) is
 * wiped with explicit_bzero whenever its memory is released or moved, so
 * plaintext and key material never linger in freed heap blocks.  The data is
 * always NUL-terminated (len does not count the NUL), so text can be used as
 * a C string directly.
 */
#ifndef COMMON_UTIL_BUF_H
#define COMMON_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	bool secret;
};

#define BUF_INIT { NULL, 0, 0, false }

void buf_init(struct buf *b);
void buf_init_secret(struct buf *b);

/* Each returns 0, or -1 with err_set() on allocation failure. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Empties the buffer, keeping its memory (wiped first when secret). */
void buf_reset(struct buf *b);

/* Releases the memory (wiped first when secret). */
void buf_free(struct buf *b);

/* Hands the data to the caller, who frees it; the buffer becomes empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
