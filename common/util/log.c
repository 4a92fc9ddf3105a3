#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/term.h"

static const char *prog = "kubectl-plugin";
static int verbosity;
static bool color;

void log_init(const char *name) { prog = name; }
void log_set_verbosity(int v) { verbosity = v; }
int log_verbosity(void) { return verbosity; }
void log_set_color(bool enabled) { color = enabled; }
bool log_color(void) { return color; }
const char *log_prog(void) { return prog; }
bool log_enabled(int level) { return level <= verbosity; }

__attribute__((format(printf, 3, 0)))
static void emit(const char *tag, const char *tint, const char *fmt,
		 va_list ap)
{
	char line[8192];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (tag)
		fprintf(stderr, "%s: %s%s%s%s\n", prog, color ? tint : "", tag,
			color ? TERM_RESET : "", line);
	else
		fprintf(stderr, "%s\n", line);
}

void log_at(int level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	emit(NULL, NULL, fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("error: ", TERM_RED, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("warning: ", TERM_YELLOW, fmt, ap);
	va_end(ap);
}

void log_hint(const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "  %shint:%s %s\n", color ? TERM_CYAN : "",
		color ? TERM_RESET : "", line);
}
