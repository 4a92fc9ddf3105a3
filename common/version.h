/* version.h - the version, commit and build date baked in at build time. */
#ifndef COMMON_VERSION_H
#define COMMON_VERSION_H

const char *fwi_version(void);
const char *fwi_commit(void);
const char *fwi_build_date(void);

#endif
