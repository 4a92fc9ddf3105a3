/*
 * log.h - diagnostics on stderr.
 *
 * Verbosity follows kubectl: 0 quiet, 2 steps, 6 every HTTP request
 * (method, URL, status, time), 8 request and response bodies.  Whatever is
 * logged at any level passes through the redaction rules of redact.h first;
 * callers never hand secrets to these functions.
 */
#ifndef COMMON_UTIL_LOG_H
#define COMMON_UTIL_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_STEPS = 2,
	LOG_HTTP = 6,
	LOG_HEADERS = 7,
	LOG_BODIES = 8
};

/* Set once by the command-line layer. */
void log_init(const char *prog);
void log_set_verbosity(int v);
int log_verbosity(void);
void log_set_color(bool enabled);
bool log_color(void);
const char *log_prog(void);

/* True when level <= the configured verbosity. */
bool log_enabled(int level);

void log_at(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
