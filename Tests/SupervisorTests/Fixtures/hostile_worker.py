#!/usr/bin/env python3
"""A worker that attacks the daemon the way a buggy connector would, then records every answer it got.

argv: MODE VERDICT_FILE [ARG]. After the handshake it runs MODE, writes {"answers": {...}} to VERDICT_FILE
(atomically) and then keeps answering heartbeats, so the test can check that the daemon and the other
services are unharmed.

MODE numbers:   out-of-range values in every numeric field of every worker-to-daemon method.
MODE scope:     reaches into another service: a report in its connector's name, a find, an update and a
                delete of the element whose GUID is ARG.
MODE parts:     a 40,000-GUID report sent whole (one 1.6 MB line) and then in parts.
MODE batch:     metadata/writeElements: a batch whose writes fail one by one (a duplicate, another service's
                element, whose GUID is ARG), a follow-up batch on what it created, and malformed batches.
MODE flood:     submits reports forever, retrying each on a retryable error as the real worker does, and
                appends every acknowledged report id to VERDICT_FILE (one per line).
"""
import json
import os
import sys
import threading
import time

mode, verdict_path = sys.argv[1], sys.argv[2]
extra = sys.argv[3] if len(sys.argv) > 3 else None
write_lock = threading.Lock()
answers = {}
answered = threading.Condition()


def send(message):
    line = json.dumps(message) + "\n"
    with write_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def call(call_id, method, params, timeout=30):
    send({"jsonrpc": "2.0", "id": call_id, "method": method, "params": params})
    deadline = time.time() + timeout
    with answered:
        while call_id not in answers:
            left = deadline - time.time()
            if left <= 0:
                return {"timeout": True}
            answered.wait(left)
        # Taken, not read: a retry reuses the id and must wait for its own answer.
        return answers.pop(call_id)


def report(report_id, connector="hostile", created=None, **dates):
    body = {"reportId": report_id, "serverName": "test-daemon", "connectorId": connector + "-id",
            "connectorName": connector, "refreshStartDate": 1795940000000, "refreshCompletionDate": 1795940000100,
            "createdElements": created if created is not None else ["guid-1"], "updatedElements": [],
            "deletedElements": [], "additionalProperties": {"outcome": "completed"}}
    body.update(dates)
    return body


def finish(result):
    with open(verdict_path + ".tmp", "w") as f:
        json.dump({"answers": result}, f)
    os.rename(verdict_path + ".tmp", verdict_path)


def status(connector, **fields):
    params = {"connectorName": connector, "connectorId": connector + "-id", "connectorStatus": "WAITING",
              "lastStatusChange": 1795940000000, "lastRefreshTime": 1795940000000, "refreshCount": 1,
              "lastRefreshDurationSeconds": 0.5}
    params.update(fields)
    send({"jsonrpc": "2.0", "method": "connector/status", "params": params})


def numbers():
    result = {}
    for field in ["refreshStartDate", "refreshCompletionDate"]:
        for value in [1e300, -1e300, 9.3e18]:
            key = "%s=%r" % (field, value)
            result[key] = call(key, "reports/submit", {"report": report("numbers-%s-%r" % (field, value), **{field: value})})
    result["part.count=1e9"] = call("part-count", "reports/submit", {"report": report("numbers-part"), "part": {"index": 0, "count": 1000000000}})
    result["part.index=-1"] = call("part-index", "reports/submit", {"report": report("numbers-part2"), "part": {"index": -1, "count": 2}})
    result["part.count=1e300"] = call("part-count-big", "reports/submit", {"report": report("numbers-part3"), "part": {"index": 0, "count": 1e300}})
    element = {"connectorName": "hostile", "typeName": "DataFile", "qualifiedName": "/numbers",
               "properties": {"size": 1e300, "modifiedTime": -1e300}, "metadataSourceQualifiedName": "hostile"}
    result["createElement properties=1e300"] = call("create", "metadata/createElement", element)
    # Notifications have no answer; the daemon must survive them and keep the last sane status.
    for fields in [{"lastStatusChange": 1e300}, {"lastRefreshTime": -1e300}, {"refreshCount": 1e300},
                   {"refreshCount": -5}, {"lastRefreshDurationSeconds": 1e300}, {"lastRefreshDurationSeconds": -1}]:
        status("hostile", **fields)
    status("hostile", connectorStatus="RUNNING")
    result["after"] = call("after", "reports/submit", {"report": report("numbers-sane")})
    finish(result)


def scope():
    result = {"submit-other": call("submit-other", "reports/submit", {"report": report("scope-other", connector="files")}),
              "find": call("find", "metadata/findElements", {}),
              "update": call("update", "metadata/updateElement", {"connectorName": "hostile", "guid": extra, "properties": {"x": 1}}),
              "delete": call("delete", "metadata/deleteElement", {"connectorName": "hostile", "guid": extra}),
              "create-as-other": call("create-other", "metadata/createElement", {
                  "connectorName": "hostile", "typeName": "DataFile", "qualifiedName": "/stolen",
                  "properties": {}, "metadataSourceQualifiedName": "files"}),
              "own-create": call("own-create", "metadata/createElement", {
                  "connectorName": "hostile", "typeName": "DataFile", "qualifiedName": "/mine",
                  "properties": {}, "metadataSourceQualifiedName": "hostile"})}
    finish(result)


def parts():
    guids = ["%08d-0000-4000-8000-%012d" % (i, i) for i in range(40000)]
    result = {"whole": call("whole", "reports/submit", {"report": report("parts-whole", created=guids)}, timeout=10)}
    chunk = 5000
    count = (len(guids) + chunk - 1) // chunk
    for index in range(count):
        result["part-%d" % index] = call("part-%d" % index, "reports/submit", {
            "report": report("parts-report", created=guids[index * chunk:(index + 1) * chunk]),
            "part": {"index": index, "count": count}})
    result["out-of-order"] = call("ooo", "reports/submit", {"report": report("parts-ooo"), "part": {"index": 1, "count": 3}})
    finish(result)


def batch():
    def write(call_id, writes, connector="hostile"):
        return call(call_id, "metadata/writeElements",
                    {"connectorName": connector, "metadataSourceQualifiedName": "hostile", "writes": writes})
    result = {"mixed": write("mixed", [
        {"op": "create", "typeName": "DataFile", "qualifiedName": "/batch-a", "properties": {"size": 1}},
        {"op": "create", "typeName": "DataFile", "qualifiedName": "/batch-b", "properties": {"size": 2, "name": "b\u00e9\n"}},
        {"op": "create", "typeName": "DataFile", "qualifiedName": "/batch-a", "properties": {}},
        {"op": "update", "guid": extra, "properties": {"stolen": True}},
        {"op": "delete", "guid": extra}])}
    outcomes = result["mixed"].get("result", {}).get("outcomes", [])
    if len(outcomes) == 5 and "guid" in outcomes[0] and "guid" in outcomes[1]:
        result["follow-up"] = write("follow-up", [
            {"op": "delete", "guid": outcomes[0]["guid"]},
            {"op": "update", "guid": outcomes[1]["guid"], "properties": {"size": 3}},
            {"op": "create", "typeName": "DataFile", "qualifiedName": "/batch-a", "properties": {"again": True}}])
    result["typeName"] = write("bad-type", [{"op": "create", "typeName": "DataFile", "qualifiedName": "/x"},
                                            {"op": "create", "typeName": 7, "qualifiedName": "/y"}])
    result["op"] = write("bad-op", [{"op": "explode", "guid": "g"}])
    result["writes (count)"] = write("too-many", [{"op": "delete", "guid": "g-%d" % i} for i in range(1001)])
    result["writes (count) empty"] = write("empty", [])
    result["connectorName"] = write("other-connector", [{"op": "create", "typeName": "DataFile", "qualifiedName": "/z"}],
                                    connector="files")
    finish(result)


def flood():
    n = 0
    while True:
        n += 1
        report_id = "flood-%d-%d" % (os.getpid(), n)
        while True:
            answer = call(report_id, "reports/submit", {"report": report(report_id, created=["g-%d" % n] * 20)}, timeout=60)
            if "result" in answer:
                with open(verdict_path, "a") as f:
                    f.write(report_id + "\n")
                break
            time.sleep(0.05)


def reader():
    for line in sys.stdin:
        message = json.loads(line)
        method = message.get("method")
        if method == "initialize":
            send({"jsonrpc": "2.0", "id": message["id"],
                  "result": {"protocolVersion": 1, "workerVersion": "hostile", "pid": os.getpid()}})
            threading.Thread(target={"numbers": numbers, "scope": scope, "parts": parts, "batch": batch, "flood": flood}[mode], daemon=True).start()
        elif method == "heartbeat":
            send({"jsonrpc": "2.0", "id": message["id"], "result": message["params"]})
        elif method == "shutdown":
            send({"jsonrpc": "2.0", "id": message["id"], "result": {}})
            os._exit(0)
        elif "id" in message and method is None:
            with answered:
                answers[message["id"]] = message
                answered.notify_all()
    os._exit(0)


reader()
