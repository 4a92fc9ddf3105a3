#include "version.h"

#ifndef FWI_VERSION
#define FWI_VERSION "0.0.0"
#endif
#ifndef FWI_COMMIT
#define FWI_COMMIT "unknown"
#endif
#ifndef FWI_BUILD_DATE
#define FWI_BUILD_DATE "unknown"
#endif

const char *fwi_version(void) { return FWI_VERSION; }
const char *fwi_commit(void) { return FWI_COMMIT; }
const char *fwi_build_date(void) { return FWI_BUILD_DATE; }
