// A SQLite VFS that writes each transaction's WAL frames with one write, not two per frame.
#ifndef WAL_BUFFER_H
#define WAL_BUFFER_H

// Registers the VFS under WAL_BUFFER_VFS_NAME, over the default VFS (not as the default). Call it once, before
// the first connection that names it opens. Returns SQLITE_OK, or SQLite's error.
int wal_buffer_register(void);

#define WAL_BUFFER_VFS_NAME "unix-wal-buffer"

#endif
