#include "cli/term.h"

#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

bool term_is_tty(FILE *f)
{
	return isatty(fileno(f)) == 1;
}

bool term_want_color(FILE *f, bool no_color_flag)
{
	const char *nc = getenv("NO_COLOR");

	if (no_color_flag || (nc && *nc))
		return false;
	return term_is_tty(f);
}

int term_width(FILE *f, int fallback)
{
	struct winsize ws;

	if (term_is_tty(f) && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 20)
		return ws.ws_col;
	return fallback;
}
