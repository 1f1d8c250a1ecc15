#!/usr/bin/env python3
"""An OpenLineage HTTP receiver standing in for Marquez (not on Debian or PyPI): it takes POST /api/v1/lineage
over keep-alive HTTP/1.1, as Marquez does, and prints one JSON line per request it answered, flushed before the
answer goes out, so a test sees every event a receiver acknowledged.

    lineage_receiver.py [--refuse-job NAME] [--delay-ms N] [--fail-first N]

--refuse-job answers 422 (Marquez's answer to an event it cannot take) for events of that job; --delay-ms waits
before each answer; --fail-first answers 503 to the first N requests. The first line is {"port": N}.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--refuse-job")
parser.add_argument("--delay-ms", type=int, default=0)
parser.add_argument("--fail-first", type=int, default=0)
options = parser.parse_args()
lock = threading.Lock()
seen = {"requests": 0}


def emit(record):
    with lock:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with lock:
            seen["requests"] += 1
            number = seen["requests"]
        if options.delay_ms:
            time.sleep(options.delay_ms / 1000)
        try:
            event = json.loads(body)
        except ValueError:
            emit({"status": 400, "error": "not JSON"})
            return self.answer(400, b'{"error":"not JSON"}')
        record = {"path": self.path, "authorization": self.headers.get("Authorization"),
                  "runId": event.get("run", {}).get("runId"), "eventType": event.get("eventType"),
                  "job": event.get("job", {}).get("name")}
        if number <= options.fail_first:
            emit(dict(record, status=503))
            return self.answer(503, b'{"error":"starting"}')
        if options.refuse_job and record["job"] == options.refuse_job:
            emit(dict(record, status=422))
            return self.answer(422, b'{"code":422,"message":"unprocessable"}')
        emit(dict(record, status=201))
        self.answer(201)


server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
emit({"port": server.server_address[1]})
server.serve_forever()
