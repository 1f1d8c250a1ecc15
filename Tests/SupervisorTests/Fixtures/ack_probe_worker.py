#!/usr/bin/env python3
"""A stand-in worker in another language: submits one integration report and, the moment the daemon
acknowledges it, checks whether the report is already committed in the store's SQLite database, through a
connection of its own. Writes the verdict to the file named by argv[2]. Proves the ack-after-durable ordering
with real processes."""
import json
import os
import sqlite3
import sys

database, verdict_path = sys.argv[1], sys.argv[2]
report_id = "ack-probe-%d" % os.getpid()


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    message = json.loads(line)
    method = message.get("method")
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": message["id"],
              "result": {"protocolVersion": 1, "workerVersion": "python-probe", "pid": os.getpid()}})
        send({"jsonrpc": "2.0", "id": "submit-1", "method": "reports/submit", "params": {"report": {
            "reportId": report_id, "serverName": "test-daemon", "connectorId": "probe-id", "connectorName": "probe",
            "refreshStartDate": 1795940000000, "refreshCompletionDate": 1795940000100,
            "createdElements": ["guid-1"], "updatedElements": [], "deletedElements": [],
            "additionalProperties": {"outcome": "completed"}}}})
    elif method == "heartbeat":
        send({"jsonrpc": "2.0", "id": message["id"], "result": message["params"]})
    elif method == "shutdown":
        send({"jsonrpc": "2.0", "id": message["id"], "result": {}})
        sys.exit(0)
    elif message.get("id") == "submit-1":
        connection = sqlite3.connect("file:%s?mode=ro" % database, uri=True)
        on_disk = connection.execute("SELECT COUNT(*) FROM reports WHERE report_id = ?", (report_id,)).fetchone()[0] == 1
        connection.close()
        with open(verdict_path + ".tmp", "w") as f:
            json.dump({"reportId": report_id, "onDiskAtAck": on_disk, "ack": message}, f)
        os.rename(verdict_path + ".tmp", verdict_path)
