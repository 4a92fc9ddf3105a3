#include "sops/shamir.h"

#include <string.h>

#include <openssl/rand.h>

#include "util/err.h"

static unsigned char gf_mul(unsigned char a, unsigned char b)
{
	unsigned char r = 0;

	while (b) {
		if (b & 1)
			r ^= a;
		a = (unsigned char)((a << 1) ^ ((a & 0x80) ? 0x1B : 0));
		b >>= 1;
	}
	return r;
}

static unsigned char gf_inv(unsigned char a)
{
	unsigned char r = 1;
	int i;

	for (i = 0; i < 254; i++)	/* a^254 = a^-1 */
		r = gf_mul(r, a);
	return r;
}

int shamir_split(const unsigned char *secret, size_t len, unsigned n,
		 unsigned threshold, unsigned char **shares)
{
	unsigned char coef[256];
	size_t j;
	unsigned i, d;

	if (threshold < 2 || threshold > n || n > 255)
		return err_set(EXIT_USAGE, "invalid Shamir parameters: threshold "
			       "%u of %u groups", threshold, n);
	for (j = 0; j < len; j++) {
		coef[0] = secret[j];
		if (RAND_bytes(coef + 1, (int)threshold - 1) != 1)
			return err_set(EXIT_FAILED, "no random bytes");
		for (i = 0; i < n; i++) {
			unsigned char x = (unsigned char)(i + 1), y = 0;

			for (d = threshold; d-- > 0;)
				y = (unsigned char)(gf_mul(y, x) ^ coef[d]);
			shares[i][j] = y;
		}
	}
	for (i = 0; i < n; i++)
		shares[i][len] = (unsigned char)(i + 1);
	explicit_bzero(coef, sizeof(coef));
	return 0;
}

int shamir_combine(unsigned char *const *shares, size_t k, size_t share_len,
		   unsigned char *secret)
{
	size_t i, m, j;

	if (k < 2 || share_len < 2)
		return err_set(EXIT_NO_KEY, "need at least two Shamir shares");
	for (i = 0; i < k; i++)
		for (m = i + 1; m < k; m++)
			if (shares[i][share_len - 1] == shares[m][share_len - 1])
				return err_set(EXIT_NO_KEY, "duplicate Shamir share");
	for (j = 0; j + 1 < share_len; j++) {
		unsigned char acc = 0;

		for (i = 0; i < k; i++) {
			unsigned char xi = shares[i][share_len - 1], num = 1,
				      den = 1;

			for (m = 0; m < k; m++) {
				unsigned char xm = shares[m][share_len - 1];

				if (m == i)
					continue;
				num = gf_mul(num, xm);
				den = gf_mul(den, (unsigned char)(xm ^ xi));
			}
			acc ^= gf_mul(shares[i][j], gf_mul(num, gf_inv(den)));
		}
		secret[j] = acc;
	}
	return 0;
}
