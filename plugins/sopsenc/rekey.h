/*
 * rekey.h - what rotate, updatekeys and encrypt -r share: encrypted files
 * loaded into trees, their data keys recovered in one batch, and results
 * written all or nothing.
 *
 * Writing in place is two-phase: every result first goes to a temporary
 * file beside its target (mode of the target); when all of them exist they
 * are synced to disk (one syncfs() per file system instead of one fsync per
 * file) and only then renamed over their targets, and each directory is
 * fsynced.  When any step before the renames fails, every temporary file is
 * removed and every input is left byte-identical.
 */
#ifndef PLUGINS_SOPSENC_REKEY_H
#define PLUGINS_SOPSENC_REKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sopsenc.h"
#include "sops/metadata.h"
#include "sops/store.h"
#include "util/buf.h"

/* One encrypted file, parsed, its metadata removed from the tree. */
struct rk_file {
	const char *path;
	enum sops_format in_fmt;	/* the plaintext format (binary...) */
	enum sops_format out_fmt;
	enum sops_format store;		/* the encrypted file's store */
	struct buf src;			/* the file as read */
	struct sops_docs docs;
	struct sops_metadata md;
	struct buf out;			/* the new file */
	bool changed;			/* updatekeys: the keys differ */
};

/* Reads and parses path (metadata required).  -1 with err naming path. */
int rk_load(struct rk_file *f, const char *path, const struct sopsenc_args *a);
void rk_file_free(struct rk_file *f);

/* Recovers the data keys of the files whose `use` flag is set (all when
 * use is NULL), in one batch.  keys[i] is wiped by the caller.  -1 with
 * the first failing file's error, prefixed by its name. */
int rk_recover(struct rk_file *files, size_t n, const bool *use,
	       unsigned char (*keys)[32]);

/* Inserts md into the tree and emits the encrypted file into f->out. */
int rk_emit(struct rk_file *f, int indent);

/* The indentation .sops.yaml's stores asks for in format f (0: default). */
int rk_indent(const char *config, enum sops_format f, int *indent);

/* Registers the azure_kv key type for this run (--key-wrap, --azure-auth,
 * --request-timeout) and makes a write beyond the file size limit fail
 * with EFBIG instead of killing the process. */
int rk_begin(const struct cli_ctx *ctx, const char *key_wrap);
void rk_end(void);

/* ---- all-or-nothing writes ---------------------------------------------- */

struct rk_stage {
	char **target;		/* the file to replace (links resolved) */
	char **tmp;		/* its staged content */
	size_t n, cap;
	unsigned seq;
};

/* A temporary path beside target for the next staged file (caller
 * frees *tmp). The path has no manifest extension. */
int rk_stage_name(struct rk_stage *s, const char *target, char **tmp,
		  char **real_target, mode_t *mode);
/* Records a temporary file already written (takes both strings). */
int rk_stage_take(struct rk_stage *s, char *real_target, char *tmp);
/* Writes data to a temporary file beside target and records it. */
int rk_stage_write(struct rk_stage *s, const char *target, const void *data,
		   size_t len);
/* Renames every staged file over its target. */
int rk_stage_commit(struct rk_stage *s);
/* Removes every staged file that was not renamed; frees s. */
void rk_stage_free(struct rk_stage *s);

/*
 * Where results go: -i stages each file over itself; --output (one file)
 * or standard output otherwise, only after every file succeeded.
 */
int rk_write_results(struct rk_file *files, size_t n,
		     const struct sopsenc_args *a);

/* Checks the operands and the -i/--output combination for rotate and
 * updatekeys.  Returns 0 or a usage error from the cli layer. */
int rk_check_args(struct cli_ctx *ctx, const struct sopsenc_args *a);

#endif
