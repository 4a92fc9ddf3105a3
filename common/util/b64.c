#include "util/b64.h"

#include <stdbool.h>
#include <string.h>

static const char STD[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64_encoded_len(size_t n, enum b64_variant v)
{
	if (v == B64_STD)
		return (n + 2) / 3 * 4;
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void b64_encode(const unsigned char *in, size_t n, enum b64_variant v,
		char *out)
{
	const char *a = v == B64_URL_RAW ? URL : STD;
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned x = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
			     in[i + 2];
		out[o++] = a[x >> 18];
		out[o++] = a[(x >> 12) & 63];
		out[o++] = a[(x >> 6) & 63];
		out[o++] = a[x & 63];
	}
	if (n - i == 1) {
		unsigned x = (unsigned)in[i] << 16;
		out[o++] = a[x >> 18];
		out[o++] = a[(x >> 12) & 63];
		if (v == B64_STD) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		unsigned x = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = a[x >> 18];
		out[o++] = a[(x >> 12) & 63];
		out[o++] = a[(x >> 6) & 63];
		if (v == B64_STD)
			out[o++] = '=';
	}
	out[o] = '\0';
}

static int val(char c, enum b64_variant v)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (v == B64_URL_RAW)
		return c == '-' ? 62 : c == '_' ? 63 : -1;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decoding table for one alphabet: 0..63, or 0xFF for other bytes. */
static const unsigned char *table(enum b64_variant v)
{
	static unsigned char std[256], url[256];
	static bool ready;
	int c;

	if (!ready) {
		for (c = 0; c < 256; c++) {
			std[c] = (unsigned char)(val((char)c, B64_STD) & 0xFF);
			url[c] = (unsigned char)(val((char)c, B64_URL_RAW) & 0xFF);
		}
		ready = true;
	}
	return v == B64_URL_RAW ? url : std;
}

int b64_decode(const char *in, size_t n, enum b64_variant v,
	       unsigned char *out, size_t *outlen)
{
	const unsigned char *t = table(v), *s = (const unsigned char *)in;
	size_t i, o = 0, pad = 0;
	unsigned acc = 0;
	int bits = 0;

	if (v == B64_STD) {
		if (n % 4)
			return -1;
		while (pad < 2 && n > 0 && in[n - 1] == '=') {
			n--;
			pad++;
		}
	} else if (n % 4 == 1) {
		return -1;
	}
	for (i = 0; i + 4 <= n; i += 4) {
		unsigned a = t[s[i]], b = t[s[i + 1]], c = t[s[i + 2]],
			 d = t[s[i + 3]];

		if ((a | b | c | d) & 0xC0)
			return -1;
		acc = a << 18 | b << 12 | c << 6 | d;
		out[o++] = (unsigned char)(acc >> 16);
		out[o++] = (unsigned char)(acc >> 8);
		out[o++] = (unsigned char)acc;
	}
	for (acc = 0; i < n; i++) {
		unsigned d = t[s[i]];

		if (d & 0xC0)
			return -1;
		acc = (acc << 6) | d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;	/* non-zero unused bits: not canonical */
	*outlen = o;
	return 0;
}

int b64_decode_loose(const char *in, size_t n, unsigned char *out,
		     size_t *outlen)
{
	size_t i, o = 0;
	unsigned acc = 0;
	int bits = 0, d;

	for (i = 0; i < n; i++) {
		char c = in[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '=')
			continue;
		d = val(c, c == '-' || c == '_' ? B64_URL_RAW : B64_STD);
		if (d < 0)
			return -1;
		acc = (acc << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (bits >= 6)
		return -1;
	*outlen = o;
	return 0;
}
