/*
 * err.h - one error-reporting path for the whole suite.
 *
 * Library code never prints errors.  A failing function records what failed
 * with err_set() (which also picks the process exit code), may add a remedy
 * with err_hint(), and returns -1 or NULL.  The plugin's main() prints the
 * recorded error once with err_report() and exits with its code.
 *
 * The record is per thread, so concurrent workers do not overwrite each
 * other's errors.  Messages must never contain secret values.
 */
#ifndef COMMON_UTIL_ERR_H
#define COMMON_UTIL_ERR_H

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* the command ran and found a failure */
	EXIT_USAGE = 2,		/* bad usage or unreadable input (sops' 2) */
	EXIT_WRITE = 3,		/* could not write output (sops' 3) */
	EXIT_MAC = 51,		/* MAC mismatch (sops' 51) */
	EXIT_NO_KEY = 128,	/* no master key could open the data key */
	EXIT_ENCRYPTED = 203	/* file already encrypted (sops' 203) */
};

#define ERR_MSG_MAX 1024

/* Records an error; returns -1 so callers can write `return err_set(...)`. */
int err_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with "context: "; returns -1. */
int err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sets the remedy shown under the message; returns -1. */
int err_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

const char *err_msg(void);
const char *err_remedy(void);
int err_code(void);
void err_clear(void);

/* Copies the current thread's error into another thread's record. */
struct err_record {
	int code;
	char msg[ERR_MSG_MAX];
	char hint[ERR_MSG_MAX];
};
void err_save(struct err_record *out);
void err_restore(const struct err_record *in);

/*
 * Prints "PROG: error: MESSAGE" and, when set, "  hint: REMEDY" to stderr.
 * Returns the exit code to use (EXIT_FAILED when none was recorded).
 */
int err_report(void);

#endif
