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

// Extended result codes are macros over other macros, which Swift does not import: the one the daemon makes
// itself (a failed sync of the WAL, see WALSync), from the header's own definition.
enum { CSQLITE_IOERR_FSYNC = SQLITE_IOERR_FSYNC };

#endif
