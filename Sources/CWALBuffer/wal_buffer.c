// SQLite writes every WAL frame as two writes, its 24-byte header and its page (wal.c, walWriteOneFrame), and a
// commit writes one frame per page it touched: with 100 connectors at their retention cap that is ~300 pwrite
// calls per commit on the writer thread, the store's one busy thread. This VFS keeps a WAL file's writes that
// follow one another in a buffer and hands them to the default VFS, in 64 KiB pieces, when the commit frame is
// complete, before SQLite makes the commit visible in the wal-index, so:
//   - a commit that returned is in the file as before (and WALSync's fdatasync covers it);
//   - a failed write (disk full) fails the commit frame's write, so SQLite rolls the transaction back;
//   - anything else that looks at the file first writes the buffer: a read, a sync, a size, a truncate, a
//     wal-index lock (so nothing stays buffered once the writer lets go of the write lock), a close;
//   - a crash loses only what no commit had completed, as it would without the buffer.
// Files other than WALs pass straight through, as does a WAL whose buffer could not be allocated.
// One sqlite3_file belongs to one connection, used by one thread at a time: no locking here.
#include "wal_buffer.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

// From SQLite's WAL format (https://www.sqlite.org/fileformat2.html#walformat): a frame header is 24 bytes;
// bytes 4-7 hold, big-endian, the database size in pages after a commit, and 0 in every other frame.
enum { FRAME_HEADER_BYTES = 24 };
// A larger commit is written in several pieces, in order, the last when its commit frame is complete.
enum { BUFFER_BYTES = 1024 * 1024 };
// The default VFS writes at most 128 KiB - 1 bytes per pwrite (seekAndWriteFd masks the count with 0x1ffff),
// and a write whose remainder is a multiple of 128 KiB then writes nothing and reports the disk full: it is
// handed at most 64 KiB at a time.
enum { WRITE_BYTES = 64 * 1024 };

typedef struct BufferedFile {
    sqlite3_file base;
    sqlite3_io_methods methods;
    sqlite3_file *real;
    int isWAL;
    // The next write completes a commit frame (its header was the last write).
    int commitPageNext;
    unsigned char *buffer;
    sqlite3_int64 start;
    int length;
} BufferedFile;

static sqlite3_vfs *underlying;
static sqlite3_vfs bufferedVFS;

static sqlite3_file *real(sqlite3_file *file) { return ((BufferedFile *)file)->real; }

static int flush(BufferedFile *file) {
    int length = file->length;
    file->length = 0;
    file->commitPageNext = 0;
    for (int done = 0; done < length; done += WRITE_BYTES) {
        int amount = length - done < WRITE_BYTES ? length - done : WRITE_BYTES;
        int rc = file->real->pMethods->xWrite(file->real, file->buffer + done, amount, file->start + done);
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

static int bufferedWrite(sqlite3_file *base, const void *data, int amount, sqlite3_int64 offset) {
    BufferedFile *file = (BufferedFile *)base;
    if (!file->isWAL || file->buffer == NULL) return file->real->pMethods->xWrite(file->real, data, amount, offset);
    int commitHeader = amount == FRAME_HEADER_BYTES && memcmp((const unsigned char *)data + 4, "\0\0\0\0", 4) != 0;
    int completesCommit = file->commitPageNext && file->length > 0 && offset == file->start + file->length;
    if (file->length > 0 && (offset != file->start + file->length || file->length + amount > BUFFER_BYTES)) {
        int rc = flush(file);
        if (rc != SQLITE_OK) return rc;
    }
    if (amount > BUFFER_BYTES) return file->real->pMethods->xWrite(file->real, data, amount, offset);
    if (file->length == 0) file->start = offset;
    memcpy(file->buffer + file->length, data, (size_t)amount);
    file->length += amount;
    file->commitPageNext = commitHeader;
    return completesCommit ? flush(file) : SQLITE_OK;
}

static int bufferedRead(sqlite3_file *base, void *data, int amount, sqlite3_int64 offset) {
    int rc = flush((BufferedFile *)base);
    return rc != SQLITE_OK ? rc : real(base)->pMethods->xRead(real(base), data, amount, offset);
}

static int bufferedTruncate(sqlite3_file *base, sqlite3_int64 size) {
    int rc = flush((BufferedFile *)base);
    return rc != SQLITE_OK ? rc : real(base)->pMethods->xTruncate(real(base), size);
}

static int bufferedSync(sqlite3_file *base, int flags) {
    int rc = flush((BufferedFile *)base);
    return rc != SQLITE_OK ? rc : real(base)->pMethods->xSync(real(base), flags);
}

static int bufferedFileSize(sqlite3_file *base, sqlite3_int64 *size) {
    int rc = flush((BufferedFile *)base);
    return rc != SQLITE_OK ? rc : real(base)->pMethods->xFileSize(real(base), size);
}

static int bufferedClose(sqlite3_file *base) {
    BufferedFile *file = (BufferedFile *)base;
    int rc = flush(file);
    int closed = file->real->pMethods->xClose(file->real);
    free(file->buffer);
    file->buffer = NULL;
    return rc != SQLITE_OK ? rc : closed;
}

static int bufferedLock(sqlite3_file *base, int lock) { return real(base)->pMethods->xLock(real(base), lock); }
static int bufferedUnlock(sqlite3_file *base, int lock) { return real(base)->pMethods->xUnlock(real(base), lock); }
static int bufferedCheckReservedLock(sqlite3_file *base, int *out) {
    return real(base)->pMethods->xCheckReservedLock(real(base), out);
}
static int bufferedFileControl(sqlite3_file *base, int op, void *arg) {
    return real(base)->pMethods->xFileControl(real(base), op, arg);
}
static int bufferedSectorSize(sqlite3_file *base) { return real(base)->pMethods->xSectorSize(real(base)); }
static int bufferedDeviceCharacteristics(sqlite3_file *base) {
    return real(base)->pMethods->xDeviceCharacteristics(real(base));
}
static int bufferedShmMap(sqlite3_file *base, int region, int size, int extend, void volatile **out) {
    return real(base)->pMethods->xShmMap(real(base), region, size, extend, out);
}
static int bufferedShmLock(sqlite3_file *base, int offset, int n, int flags) {
    int rc = flush((BufferedFile *)base);
    if (rc != SQLITE_OK && (flags & SQLITE_SHM_LOCK)) return rc;
    return real(base)->pMethods->xShmLock(real(base), offset, n, flags);
}
static void bufferedShmBarrier(sqlite3_file *base) { real(base)->pMethods->xShmBarrier(real(base)); }
static int bufferedShmUnmap(sqlite3_file *base, int deleteFlag) {
    return real(base)->pMethods->xShmUnmap(real(base), deleteFlag);
}
static int bufferedFetch(sqlite3_file *base, sqlite3_int64 offset, int amount, void **out) {
    int rc = flush((BufferedFile *)base);
    return rc != SQLITE_OK ? rc : real(base)->pMethods->xFetch(real(base), offset, amount, out);
}
static int bufferedUnfetch(sqlite3_file *base, sqlite3_int64 offset, void *page) {
    return real(base)->pMethods->xUnfetch(real(base), offset, page);
}

static int bufferedOpen(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *base, int flags, int *outFlags) {
    (void)vfs;
    BufferedFile *file = (BufferedFile *)base;
    memset(file, 0, sizeof(*file));
    file->real = (sqlite3_file *)((char *)base + ((sizeof(BufferedFile) + 15) & ~(size_t)15));
    int rc = underlying->xOpen(underlying, name, file->real, flags, outFlags);
    if (rc != SQLITE_OK || file->real->pMethods == NULL) {
        base->pMethods = NULL;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    file->isWAL = (flags & SQLITE_OPEN_WAL) != 0;
    // Without a buffer (out of memory) the file is written through, as by the default VFS.
    if (file->isWAL) file->buffer = malloc(BUFFER_BYTES);
    const sqlite3_io_methods *methods = file->real->pMethods;
    file->methods = (sqlite3_io_methods){
        .iVersion = methods->iVersion < 3 ? methods->iVersion : 3,
        .xClose = bufferedClose, .xRead = bufferedRead, .xWrite = bufferedWrite, .xTruncate = bufferedTruncate,
        .xSync = bufferedSync, .xFileSize = bufferedFileSize, .xLock = bufferedLock, .xUnlock = bufferedUnlock,
        .xCheckReservedLock = bufferedCheckReservedLock, .xFileControl = bufferedFileControl,
        .xSectorSize = bufferedSectorSize, .xDeviceCharacteristics = bufferedDeviceCharacteristics,
        .xShmMap = methods->iVersion >= 2 ? bufferedShmMap : NULL,
        .xShmLock = methods->iVersion >= 2 ? bufferedShmLock : NULL,
        .xShmBarrier = methods->iVersion >= 2 ? bufferedShmBarrier : NULL,
        .xShmUnmap = methods->iVersion >= 2 ? bufferedShmUnmap : NULL,
        .xFetch = methods->iVersion >= 3 ? bufferedFetch : NULL,
        .xUnfetch = methods->iVersion >= 3 ? bufferedUnfetch : NULL,
    };
    base->pMethods = &file->methods;
    return SQLITE_OK;
}

static int forwardDelete(sqlite3_vfs *vfs, const char *name, int syncDirectory) {
    (void)vfs;
    return underlying->xDelete(underlying, name, syncDirectory);
}
static int forwardAccess(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return underlying->xAccess(underlying, name, flags, out);
}
static int forwardFullPathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return underlying->xFullPathname(underlying, name, size, out);
}
static void *forwardDlOpen(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return underlying->xDlOpen(underlying, name);
}
static void forwardDlError(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    underlying->xDlError(underlying, size, out);
}
static void (*forwardDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return underlying->xDlSym(underlying, handle, symbol);
}
static void forwardDlClose(sqlite3_vfs *vfs, void *handle) {
    (void)vfs;
    underlying->xDlClose(underlying, handle);
}
static int forwardRandomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return underlying->xRandomness(underlying, size, out);
}
static int forwardSleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return underlying->xSleep(underlying, microseconds);
}
static int forwardCurrentTime(sqlite3_vfs *vfs, double *out) {
    (void)vfs;
    return underlying->xCurrentTime(underlying, out);
}
static int forwardGetLastError(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return underlying->xGetLastError ? underlying->xGetLastError(underlying, size, out) : 0;
}
static int forwardCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return underlying->xCurrentTimeInt64(underlying, out);
}

int wal_buffer_register(void) {
    underlying = sqlite3_vfs_find(NULL);
    if (underlying == NULL || underlying->iVersion < 2) return SQLITE_ERROR;
    bufferedVFS = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)(((sizeof(BufferedFile) + 15) & ~(size_t)15) + (size_t)underlying->szOsFile),
        .mxPathname = underlying->mxPathname,
        .zName = WAL_BUFFER_VFS_NAME,
        .xOpen = bufferedOpen, .xDelete = forwardDelete, .xAccess = forwardAccess,
        .xFullPathname = forwardFullPathname, .xDlOpen = forwardDlOpen, .xDlError = forwardDlError,
        .xDlSym = forwardDlSym, .xDlClose = forwardDlClose, .xRandomness = forwardRandomness,
        .xSleep = forwardSleep, .xCurrentTime = forwardCurrentTime, .xGetLastError = forwardGetLastError,
        .xCurrentTimeInt64 = forwardCurrentTimeInt64,
    };
    return sqlite3_vfs_register(&bufferedVFS, 0);
}
