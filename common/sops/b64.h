/* b64.h - moved to util/b64.h; kept so existing includes still build. */
#ifndef COMMON_SOPS_B64_H
#define COMMON_SOPS_B64_H
#include "util/b64.h"
#endif
