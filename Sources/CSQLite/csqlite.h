// The system's SQLite (libsqlite3, Debian's libsqlite3-dev headers), plus what Swift cannot import from them.
#ifndef CSQLITE_H
#define CSQLITE_H

#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast of -1 to a function pointer, which Swift does not import: these bind a copy.
static inline int csqlite_bind_text(sqlite3_stmt *statement, int index, const char *text, int bytes) {
    return sqlite3_bind_text(statement, index, text, bytes, SQLITE_TRANSIENT);
}

static inline int csqlite_bind_blob(sqlite3_stmt *statement, int index, const void *data, int bytes) {
    return sqlite3_bind_blob(statement, index, data, bytes, SQLITE_TRANSIENT);
}

// sqlite3_config is variadic, which Swift does not import. With memory statistics on (the default), every
// allocation SQLite makes takes one process-wide mutex; this build has no lookaside (SQLITE_OMIT_LOOKASIDE), so
// that is every small allocation, on every connection's thread. The daemon reads none of those statistics (no
// sqlite3_memory_used, no soft heap limit: its page caches are capped by cache_size). Must run before SQLite
// initializes; SQLITE_MISUSE after that, and nothing changes.
static inline int csqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

// Extended result codes are macros over other macros, which Swift does not import: the one the daemon makes
// itself (a failed sync of the WAL, see WALSync), from the header's own definition.
enum { CSQLITE_IOERR_FSYNC = SQLITE_IOERR_FSYNC };

#endif
