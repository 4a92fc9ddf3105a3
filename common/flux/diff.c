/*
 * diff.c - a unified diff of two texts for `--dry-run`.
 *
 * The edits this suite makes are one contiguous change per file (lines
 * spliced in, a file created or a value replaced), so the diff is the
 * common prefix and suffix of lines with the rest as one hunk: exact for
 * such changes, and still a correct (if not minimal) diff for any other.
 */
#include "flux/kustomize.h"

#include <string.h>

#include "util/err.h"

struct span {
	const char *p;
	size_t len;	/* including the '\n' when there is one */
};

static size_t count_lines(const char *t, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (t[i] == '\n')
			n++;
	return n + (len > 0 && t[len - 1] != '\n');
}

/* The i-th line (0-based) given the start of line 0. */
static struct span nth_line(const char *t, size_t len, size_t i)
{
	size_t off = 0;
	struct span s;
	const char *nl;

	while (i-- > 0) {
		nl = memchr(t + off, '\n', len - off);
		off = nl ? (size_t)(nl - t) + 1 : len;
	}
	nl = memchr(t + off, '\n', len - off);
	s.p = t + off;
	s.len = nl ? (size_t)(nl - t) + 1 - off : len - off;
	return s;
}

static bool same(struct span a, struct span b)
{
	return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

static int put_line(struct buf *out, char tag, struct span s)
{
	if (buf_putc(out, tag) < 0 || buf_append(out, s.p, s.len) < 0)
		return -1;
	if (s.len == 0 || s.p[s.len - 1] != '\n')
		return buf_puts(out, "\n\\ No newline at end of file\n");
	return 0;
}

/* "l,n" as diff writes it (the line before the hunk when n is 0). */
static int put_range(struct buf *out, char sign, size_t start, size_t n)
{
	if (n == 0)
		return buf_printf(out, "%c%zu,0", sign, start);
	if (n == 1)
		return buf_printf(out, "%c%zu", sign, start + 1);
	return buf_printf(out, "%c%zu,%zu", sign, start + 1, n);
}

int flux_unified_diff(const char *label_a, const char *a, size_t alen,
		      const char *label_b, const char *b, size_t blen,
		      struct buf *out)
{
	size_t na = count_lines(a, alen), nb = count_lines(b, blen);
	size_t pre = 0, suf = 0, ctx = 3, s, ea, eb;

	if (alen == blen && memcmp(a, b, alen) == 0)
		return 0;
	while (pre < na && pre < nb &&
	       same(nth_line(a, alen, pre), nth_line(b, blen, pre)))
		pre++;
	while (suf < na - pre && suf < nb - pre &&
	       same(nth_line(a, alen, na - 1 - suf),
		    nth_line(b, blen, nb - 1 - suf)))
		suf++;
	s = pre > ctx ? pre - ctx : 0;
	ea = na - suf + (suf > ctx ? ctx : suf);
	eb = nb - suf + (suf > ctx ? ctx : suf);
	if (buf_printf(out, "--- %s\n+++ %s\n@@ ", label_a, label_b) < 0 ||
	    put_range(out, '-', s, ea - s) < 0 || buf_putc(out, ' ') < 0 ||
	    put_range(out, '+', s, eb - s) < 0 || buf_puts(out, " @@\n") < 0)
		return -1;
	for (size_t i = s; i < pre; i++)
		if (put_line(out, ' ', nth_line(a, alen, i)) < 0)
			return -1;
	for (size_t i = pre; i < na - suf; i++)
		if (put_line(out, '-', nth_line(a, alen, i)) < 0)
			return -1;
	for (size_t i = pre; i < nb - suf; i++)
		if (put_line(out, '+', nth_line(b, blen, i)) < 0)
			return -1;
	for (size_t i = na - suf; i < ea; i++)
		if (put_line(out, ' ', nth_line(a, alen, i)) < 0)
			return -1;
	return 0;
}
