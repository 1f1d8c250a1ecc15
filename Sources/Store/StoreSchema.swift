/// The embedded store's SQLite schema and connection settings, in one place so docs/operations.md can quote it.
package enum StoreSchema {
    package static let fileName = "store.sqlite"
    /// 2 added relationships and classifications (new tables only: a version 1 store is opened as is).
    /// 3 dropped `reports_by_connector (connector, seq)`: `reports_by_connector_time`, whose entries end in the
    /// rowid (`seq`), serves a connector's reports newest first and retention's oldest first, and each index
    /// less is a B-tree less to write for every report.
    /// 4 added `lineage_events` and `lineage_cursors` (new tables only: a version 3 store is opened as is).
    package static let version = 4

    /// Settings of the writer connection.
    ///
    /// `synchronous = FULL` in WAL mode syncs the WAL at every commit, so a commit that returned is on disk and
    /// survives power loss. That holds while the store is opened and a journal imported; the writer thread then
    /// turns to NORMAL, because ``WALSync`` syncs the WAL after each commit, off the writer thread, before
    /// anything is acknowledged (NORMAL alone could lose the last acknowledged reports).
    /// `auto_vacuum = INCREMENTAL` (only effective before the first table exists) lets retention hand freed
    /// pages back to the file system. While the store opens and imports a journal, SQLite checkpoints the WAL
    /// after the commit that takes it past 8,192 frames (32 MiB); the writer thread then hands checkpoints to
    /// ``WALCheckpointer``. The WAL is truncated to 64 MiB when it starts over, so it stays within that.
    /// `secure_delete = FAST`: Debian builds SQLite with secure delete on, which also writes every page retention
    /// frees, zeroed, through the WAL; FAST still zeroes deleted reports inside the pages a delete writes anyway,
    /// at no extra I/O.
    package static func writerPragmas(cacheKiB: Int) -> String {
        """
        PRAGMA auto_vacuum = INCREMENTAL;
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = FULL;
        PRAGMA journal_size_limit = 67108864;
        PRAGMA wal_autocheckpoint = 8192;
        PRAGMA cache_size = -\(cacheKiB);
        PRAGMA mmap_size = 0;
        PRAGMA temp_store = MEMORY;
        PRAGMA secure_delete = FAST;
        """
    }

    /// Settings of a reading connection (the daemon's own, and the CLI's while the daemon runs).
    package static func readerPragmas(cacheKiB: Int) -> String {
        "PRAGMA query_only = 1; PRAGMA cache_size = -\(cacheKiB); PRAGMA mmap_size = 0;"
    }

    /// Report states (`reports.state`).
    package enum ReportState: Int {
        /// Waiting for the forwarder (Egeria mode).
        case pending = 0
        /// At the access server: forwarded to Egeria, or stored by the embedded one.
        case delivered = 1
        case deadLettered = 2
    }

    package static let tables = """
        CREATE TABLE IF NOT EXISTS elements (
            guid TEXT PRIMARY KEY,
            qualified_name TEXT NOT NULL UNIQUE,
            type_name TEXT NOT NULL,
            metadata_source TEXT,
            integration_service TEXT,
            create_ms INTEGER NOT NULL,
            update_ms INTEGER NOT NULL,
            version INTEGER NOT NULL,
            properties TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS elements_by_type ON elements(type_name, qualified_name);
        CREATE INDEX IF NOT EXISTS elements_by_source ON elements(metadata_source, qualified_name);
        CREATE TABLE IF NOT EXISTS relationships (
            guid TEXT PRIMARY KEY,
            type_name TEXT NOT NULL,
            end1_guid TEXT NOT NULL,
            end2_guid TEXT NOT NULL,
            create_ms INTEGER NOT NULL,
            properties TEXT NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS relationships_by_end1 ON relationships(end1_guid, type_name, end2_guid);
        CREATE INDEX IF NOT EXISTS relationships_by_end2 ON relationships(end2_guid);
        CREATE TABLE IF NOT EXISTS classifications (
            element_guid TEXT NOT NULL,
            name TEXT NOT NULL,
            properties TEXT NOT NULL,
            PRIMARY KEY (element_guid, name)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS reports (
            seq INTEGER PRIMARY KEY,
            report_id TEXT NOT NULL UNIQUE,
            connector TEXT NOT NULL,
            time_ms INTEGER NOT NULL,
            stored_ms INTEGER NOT NULL,
            state INTEGER NOT NULL,
            forwarded_ms INTEGER,
            bytes INTEGER NOT NULL,
            body TEXT NOT NULL
        );
        DROP INDEX IF EXISTS reports_by_connector;
        CREATE INDEX IF NOT EXISTS reports_by_connector_time ON reports(connector, time_ms);
        CREATE INDEX IF NOT EXISTS reports_by_time ON reports(time_ms);
        CREATE INDEX IF NOT EXISTS reports_pending ON reports(connector, seq) WHERE state = 0;
        CREATE TABLE IF NOT EXISTS dead_letters (
            report_id TEXT PRIMARY KEY,
            connector TEXT NOT NULL,
            reason TEXT NOT NULL,
            time_ms INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS connector_totals (
            connector TEXT PRIMARY KEY,
            reports INTEGER NOT NULL DEFAULT 0,
            kept INTEGER NOT NULL DEFAULT 0,
            created INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            deleted INTEGER NOT NULL DEFAULT 0,
            last_report_id TEXT,
            forwarded INTEGER NOT NULL DEFAULT 0,
            dead_lettered INTEGER NOT NULL DEFAULT 0,
            last_forward_ms INTEGER
        );
        CREATE TABLE IF NOT EXISTS lineage_events (
            seq INTEGER PRIMARY KEY,
            event_key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            event_type TEXT,
            run_id TEXT,
            job_namespace TEXT,
            job_name TEXT,
            event_ms INTEGER NOT NULL,
            stored_ms INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            body TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS lineage_cursors (
            connector TEXT PRIMARY KEY,
            seq INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS store_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """
}
