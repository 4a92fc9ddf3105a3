/* sopsenc.h - kubectl sopsenc: the arguments every subcommand shares. */
#ifndef PLUGINS_SOPSENC_H
#define PLUGINS_SOPSENC_H

#include <stdbool.h>

#include "cli/cli.h"

struct sopsenc_args {
	const char *azure_kv;		/* URL[,URL] */
	const char *age;		/* RECIPIENT[,...] */
	const char *config;
	const char *encrypted_regex;
	const char *unencrypted_regex;
	const char *encrypted_suffix;
	const char *unencrypted_suffix;
	const char *encrypted_comment_regex;
	const char *unencrypted_comment_regex;
	const char *input_type;
	const char *output_type;
	const char *output_path;	/* --output */
	const char *key_wrap;		/* auto, local, remote */
	const char *extract;		/* decrypt --extract '["data"]["x"]' */
	bool mac_only_encrypted;
	bool in_place;
	bool recursive;
	bool ignore_mac;
};

int sopsenc_encrypt(struct cli_ctx *ctx, void *args);
int sopsenc_decrypt(struct cli_ctx *ctx, void *args);
int sopsenc_check(struct cli_ctx *ctx, void *args);
int sopsenc_rotate(struct cli_ctx *ctx, void *args);
int sopsenc_updatekeys(struct cli_ctx *ctx, void *args);

#endif
