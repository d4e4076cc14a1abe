#ifndef REFEX_CSQLITE_SHIM_H
#define REFEX_CSQLITE_SHIM_H
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast macro Swift cannot import: bind every Swift buffer through it.
static inline sqlite3_destructor_type refex_sqlite_transient(void) { return SQLITE_TRANSIENT; }

#endif
