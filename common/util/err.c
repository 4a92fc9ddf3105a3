#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "util/log.h"

static _Thread_local struct err_record cur;

__attribute__((format(printf, 2, 0)))
static void vset(char *dst, const char *fmt, va_list ap)
{
	vsnprintf(dst, ERR_MSG_MAX, fmt, ap);
}

int err_set(int code, const char *fmt, ...)
{
	va_list ap;

	cur.code = code;
	cur.hint[0] = '\0';
	va_start(ap, fmt);
	vset(cur.msg, fmt, ap);
	va_end(ap);
	return -1;
}

int err_prefix(const char *fmt, ...)
{
	char joined[2 * ERR_MSG_MAX + 2];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vset(joined, fmt, ap);
	va_end(ap);
	n = strlen(joined);
	joined[n++] = ':';
	joined[n++] = ' ';
	memcpy(joined + n, cur.msg, strlen(cur.msg) + 1);
	strlcpy(cur.msg, joined, sizeof(cur.msg));
	if (cur.code == 0)
		cur.code = EXIT_FAILED;
	return -1;
}

int err_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(cur.hint, fmt, ap);
	va_end(ap);
	return -1;
}

const char *err_msg(void) { return cur.msg; }
const char *err_remedy(void) { return cur.hint; }
int err_code(void) { return cur.code; }

void err_clear(void)
{
	memset(&cur, 0, sizeof(cur));
}

void err_save(struct err_record *out) { *out = cur; }
void err_restore(const struct err_record *in) { cur = *in; }

int err_report(void)
{
	int code = cur.code ? cur.code : EXIT_FAILED;

	log_error("%s", cur.msg[0] ? cur.msg : "unknown error");
	if (cur.hint[0])
		log_hint("%s", cur.hint);
	return code;
}
