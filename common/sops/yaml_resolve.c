/* Resolution of plain YAML scalars to typed values, as go-yaml v3 does. */
#include "sops/store.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sops/cipher.h"
#include "util/err.h"

static bool is_one_of(const char *s, size_t len, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == len && !memcmp(*list, s, len))
			return true;
	return false;
}

static const char *const NULLS[] = { "", "~", "null", "Null", "NULL", NULL };
static const char *const TRUES[] = { "true", "True", "TRUE", NULL };
static const char *const FALSES[] = { "false", "False", "FALSE", NULL };
static const char *const PINF[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf",
				    "+.INF", NULL };
static const char *const NINF[] = { "-.inf", "-.Inf", "-.INF", NULL };
static const char *const NANS[] = { ".nan", ".NaN", ".NAN", NULL };

/* Go strconv.ParseInt(s, 0, 64) on s with '_' removed. */
static int parse_go_int(const char *s, long long *out, bool *overflow)
{
	unsigned long long v = 0, lim;
	bool neg = false;
	int base = 10;

	*overflow = false;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		base = 8, s += 2;
	else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, s += 2;
	else if (s[0] == '0' && s[1])
		base = 8, s += 1;
	if (!*s)
		return -1;
	lim = neg ? (unsigned long long)INT64_MAX + 1 : INT64_MAX;
	for (; *s; s++) {
		int d = isdigit((unsigned char)*s) ? *s - '0' :
			isxdigit((unsigned char)*s) ?
				tolower((unsigned char)*s) - 'a' + 10 : 99;
		if (d >= base)
			return -1;
		if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
			*overflow = true;
		else
			v = v * (unsigned)base + (unsigned)d;
	}
	if (v > lim)
		*overflow = true;
	if (*overflow)
		return -1;
	*out = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_float_syntax(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	} else {
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
		if (*s == '.')
			for (s++; isdigit((unsigned char)*s);)
				s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return *s == '\0';
}

static int digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n && isdigit((unsigned char)**p); i++, (*p)++)
		v = v * 10 + (**p - '0');
	if (i == 0)
		return -1;
	*out = v;
	return i;
}

/* Time part "15:4:5[.frac]" and zone; appends canonical text to out. */
static int parse_clock(const char *p, bool need_zone_ok, struct buf *out)
{
	int h, mi, se, zh, zm, nfr = 0;
	char frac[16];

	if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0 ||
	    *p++ != ':' || digits(&p, 2, &se) < 0 || h > 23 || mi > 59 ||
	    se > 60)
		return -1;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++)
			if (nfr < 9)
				frac[nfr++] = *p;
		if (nfr == 0)
			return -1;
	}
	while (nfr > 0 && frac[nfr - 1] == '0')
		nfr--;
	frac[nfr] = '\0';
	if (buf_printf(out, "T%02d:%02d:%02d%s%s", h, mi, se, nfr ? "." : "",
		       frac) < 0)
		return -1;
	if (*p == '\0' || *p == 'Z')
		return (*p == 'Z' && p[1]) ? -1 : buf_putc(out, 'Z');
	if (!need_zone_ok || (*p != '+' && *p != '-'))
		return -1;
	{
		char sign = *p++;

		if (digits(&p, 2, &zh) < 0 || *p++ != ':' ||
		    digits(&p, 2, &zm) < 0 || *p)
			return -1;
		if (zh == 0 && zm == 0)
			return buf_putc(out, 'Z');
		return buf_printf(out, "%c%02d:%02d", sign, zh, zm);
	}
}

/* go-yaml's timestamp forms; canonical RFC 3339 (nanoseconds trimmed). */
static bool parse_timestamp(const char *s, struct buf *out)
{
	const char *p = s;
	int y, mo, d;

	if (digits(&p, 4, &y) != 4 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || digits(&p, 2, &d) < 0 || mo < 1 || mo > 12 ||
	    d < 1 || d > 31)
		return false;
	buf_reset(out);
	if (buf_printf(out, "%04d-%02d-%02d", y, mo, d) < 0)
		return false;
	if (*p == '\0')
		return buf_puts(out, "T00:00:00Z") == 0;
	if (*p == 'T' || *p == 't')
		return parse_clock(p + 1, true, out) == 0;
	if (*p == ' ')
		return parse_clock(p + 1, false, out) == 0;
	return false;
}

static int resolve_number(const char *s, enum sops_type *type,
			  struct buf *canon)
{
	char plain[128], tmp[512];
	size_t o = 0;
	long long iv;
	bool overflow;

	for (; *s && o + 1 < sizeof(plain); s++)
		if (*s != '_')
			plain[o++] = *s;
	if (*s)
		return 1;
	plain[o] = '\0';
	if (parse_go_int(plain, &iv, &overflow) == 0) {
		*type = SOPS_INT;
		return buf_printf(canon, "%lld", iv) < 0 ? -1 : 0;
	}
	if (overflow && !yaml_float_syntax(plain))
		return err_set(EXIT_USAGE, "an integer value is out of range "
			       "(quote it to keep it as a string)");
	if (overflow && strspn(plain, "+-0123456789") == strlen(plain) &&
	    strlen(plain) <= 21)
		return err_set(EXIT_USAGE, "an integer value is out of range: "
			       "sops cannot encrypt unsigned 64-bit values "
			       "(quote it to keep it as a string)");
	if (yaml_float_syntax(plain)) {
		sops_format_float(strtod(plain, NULL), tmp, sizeof(tmp));
		*type = SOPS_FLOAT;
		return buf_puts(canon, tmp);
	}
	return 1;
}

static int resolve_special(const char *s, size_t len, enum sops_type *type,
			   struct buf *canon)
{
	if (is_one_of(s, len, NULLS)) {
		*type = SOPS_NULL;
		return 0;
	}
	if (is_one_of(s, len, TRUES) || is_one_of(s, len, FALSES)) {
		*type = SOPS_BOOL;
		return buf_puts(canon, is_one_of(s, len, TRUES) ? "True" :
				"False");
	}
	if (is_one_of(s, len, PINF) || is_one_of(s, len, NINF) ||
	    is_one_of(s, len, NANS)) {
		*type = SOPS_FLOAT;
		return buf_puts(canon, is_one_of(s, len, NANS) ? "NaN" :
				is_one_of(s, len, PINF) ? "+Inf" : "-Inf");
	}
	return 1;
}

int sops_yaml_resolve(const char *s, size_t len, enum sops_type *type,
		      struct buf *canon)
{
	char tmp[128];
	int rc;

	buf_reset(canon);
	rc = resolve_special(s, len, type, canon);
	if (rc <= 0)
		return rc;
	if (len > 0 && len < sizeof(tmp) && memchr("+-.0123456789", s[0], 13) &&
	    !memchr(s, '\0', len)) {
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if (parse_timestamp(tmp, canon)) {
			*type = SOPS_TIME;
			return 0;
		}
		buf_reset(canon);
		rc = resolve_number(tmp, type, canon);
		if (rc <= 0)
			return rc;
		buf_reset(canon);
	}
	*type = SOPS_STR;
	return buf_append(canon, s, len);
}
