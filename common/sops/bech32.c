#include "sops/bech32.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char CHARSET[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t c, unsigned v)
{
	static const uint32_t G[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
				       0x3d4233dd, 0x2a1462b3 };
	uint32_t b = c >> 25;
	int i;

	c = ((c & 0x1ffffff) << 5) ^ v;
	for (i = 0; i < 5; i++)
		if ((b >> i) & 1)
			c ^= G[i];
	return c;
}

static uint32_t hrp_polymod(const char *hrp)
{
	uint32_t c = 1;
	size_t i, n = strlen(hrp);

	for (i = 0; i < n; i++)
		c = polymod_step(c, (unsigned)tolower((unsigned char)hrp[i]) >> 5);
	c = polymod_step(c, 0);
	for (i = 0; i < n; i++)
		c = polymod_step(c, (unsigned)tolower((unsigned char)hrp[i]) & 31);
	return c;
}

int bech32_encode(const char *hrp, const unsigned char *data, size_t n,
		  char *out, size_t cap)
{
	size_t hl = strlen(hrp), o, i;
	uint32_t c = hrp_polymod(hrp), acc = 0;
	int bits = 0;

	if (cap < hl + 1 + (n * 8 + 4) / 5 + 6 + 1)
		return -1;
	for (o = 0; o < hl; o++)
		out[o] = (char)tolower((unsigned char)hrp[o]);
	out[o++] = '1';
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			unsigned v = (acc >> (bits - 5)) & 31;

			bits -= 5;
			c = polymod_step(c, v);
			out[o++] = CHARSET[v];
		}
	}
	if (bits) {
		unsigned v = (acc << (5 - bits)) & 31;

		c = polymod_step(c, v);
		out[o++] = CHARSET[v];
	}
	for (i = 0; i < 6; i++)
		c = polymod_step(c, 0);
	c ^= 1;
	for (i = 0; i < 6; i++)
		out[o++] = CHARSET[(c >> (5 * (5 - i))) & 31];
	out[o] = '\0';
	return 0;
}

static int check_case(const char *s)
{
	bool lo = false, up = false;

	for (; *s; s++) {
		if (*s < 33 || *s > 126)
			return -1;
		lo |= islower((unsigned char)*s) != 0;
		up |= isupper((unsigned char)*s) != 0;
	}
	return lo && up ? -1 : 0;
}

int bech32_decode(const char *s, char *hrp, size_t hrp_cap,
		  unsigned char *data, size_t data_cap, size_t *n)
{
	const char *sep = strrchr(s, '1');
	size_t hl, dl, i;
	uint32_t c, acc = 0;
	int bits = 0;

	if (check_case(s) < 0 || !sep || sep == s)
		return -1;
	hl = (size_t)(sep - s);
	dl = strlen(sep + 1);
	if (hl >= hrp_cap || dl < 6)
		return -1;
	for (i = 0; i < hl; i++)
		hrp[i] = (char)tolower((unsigned char)s[i]);
	hrp[hl] = '\0';
	c = hrp_polymod(hrp);
	*n = 0;
	for (i = 0; i < dl; i++) {
		const char *p = strchr(CHARSET, tolower((unsigned char)sep[1 + i]));
		unsigned v;

		if (!p || !*p)
			return -1;
		v = (unsigned)(p - CHARSET);
		c = polymod_step(c, v);
		if (i >= dl - 6)
			continue;
		acc = (acc << 5) | v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (*n >= data_cap)
				return -1;
			data[(*n)++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (c != 1 || bits >= 5 || acc != 0)
		return -1;
	return 0;
}
