#!/usr/bin/env python3
"""A stand-in Egeria metadata access server for the forwarding tests (standard library only).

It serves the Open Integration service's integration-report path and checks the path and the JSON shape of
IntegrationReportProperties. Reports are de-duplicated by additionalProperties.reportId (the daemon's idempotency
key) and remembered in a state file, so a restarted stand-in still knows them. Tests steer it through /control:

  POST /control/mode {"mode": "ok" | "500" | "400" | "ffdc-500" | "stall" | "drop"}
  GET  /control/reports -> {"reports": [{"reportId", "connectorName", "refreshStartDate"}...] in first-arrival order,
                            "requests": n, "duplicates": n, "errors": [...]}

A report whose connectorName contains "poison" is always refused with an FFDC InvalidParameterException
(HTTP 200, relatedHTTPCode 400), as Egeria does.
"""
import argparse
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--server", default="cocoMDS1")
parser.add_argument("--user", default="integration-daemon-npa")
parser.add_argument("--marker", default="asset-manager")
parser.add_argument("--token")
parser.add_argument("--state", required=True)
parser.add_argument("--tls-cert")
parser.add_argument("--tls-key")
args = parser.parse_args()

PATH = re.compile(r"^/servers/([^/]+)/open-metadata/framework-services/([^/]+)/open-integration/users/([^/]+)"
                  r"/integration-reports/([^/]+)/IntegrationConnector/new$")
ELEMENTS = re.compile(r"^/servers/([^/]+)/open-metadata/framework-services/([^/]+)/open-metadata-store/users/([^/]+)"
                      r"/metadata-elements/(new|([^/]+)/(update-properties|delete))$")
FIELDS = {"class": str, "serverName": str, "connectorId": str, "connectorName": str, "refreshStartDate": int,
          "createdElements": list, "updatedElements": list, "deletedElements": list, "additionalProperties": dict}

lock = threading.Lock()
state = {"mode": "ok", "requests": 0, "duplicates": 0, "errors": [], "reports": [], "ids": set(), "elements": {}}
if os.path.exists(args.state):
    with open(args.state) as f:
        for line in f:
            entry = json.loads(line)
            state["reports"].append(entry)
            state["ids"].add(entry["reportId"])


def ffdc(code, exception=None, message=None):
    body = {"class": "VoidResponse", "relatedHTTPCode": code}
    if exception:
        body.update({"exceptionClassName": exception, "exceptionErrorMessage": message or exception})
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle plus delayed ACK adds 40 ms to each.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # The client died mid-request (the tests kill -9 the daemon): a broken connection, not a bad body.
            raise ConnectionResetError("request body cut short")
        return body

    def do_GET(self):
        if self.path == "/control/reports":
            with lock:
                body = {k: v for k, v in state.items() if k not in ("ids", "elements")}
            return self.reply(200, body)
        if self.path == "/control/elements":
            with lock:
                return self.reply(200, {"elements": dict(state["elements"])})
        self.reply(404, ffdc(404, "NotFound", self.path))

    def do_POST(self):
        try:
            raw = self.read_body()
        except ConnectionResetError:
            self.close_connection = True
            return
        if self.path == "/control/mode":
            with lock:
                state["mode"] = json.loads(raw)["mode"]
            return self.reply(200, {"mode": state["mode"]})
        with lock:
            state["requests"] += 1
            mode = state["mode"]
        if mode == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "stall":
            time.sleep(30)
        if mode == "500":
            return self.reply(500, ffdc(500, "PropertyServerException", "stand-in told to fail"))
        if mode == "ffdc-500":
            return self.reply(200, ffdc(500, "PropertyServerException", "repository unavailable"))
        if mode == "echo-auth":
            # A careless server that quotes the request's credentials back in its error text.
            return self.reply(400, ffdc(400, "InvalidParameterException",
                                        "bad request; headers were Authorization: " + str(self.headers.get("Authorization"))))
        if mode == "400":
            return self.reply(400, ffdc(400, "InvalidParameterException", "stand-in told to refuse"))
        element = ELEMENTS.match(self.path)
        if element:
            return self.element_call(element, raw)
        match = PATH.match(self.path)
        if not match or match.group(1) != args.server or match.group(2) != args.marker or match.group(3) != args.user:
            with lock:
                state["errors"].append("bad path " + self.path)
            return self.reply(404, ffdc(404, "InvalidParameterException", "unknown path " + self.path))
        if args.token and self.headers.get("Authorization") != "Bearer " + args.token:
            with lock:
                state["errors"].append("bad or missing bearer token")
            return self.reply(401, ffdc(401, "UserNotAuthorizedException", "missing or wrong token"))
        try:
            body = json.loads(raw)
            problems = [k for k, t in FIELDS.items() if not isinstance(body.get(k), t)]
            if body.get("class") != "IntegrationReportProperties":
                problems.append("class")
            report_id = body["additionalProperties"]["reportId"]
            if match.group(4) != body["connectorId"]:
                problems.append("anchor GUID is not the connectorId")
        except Exception as error:  # noqa: BLE001 - any malformed body is a 400 here
            problems, report_id = ["unreadable body: %s" % error], None
        if problems:
            with lock:
                state["errors"].append("bad body: %s" % problems)
            return self.reply(200, ffdc(400, "InvalidParameterException", "bad IntegrationReportProperties: %s" % problems))
        if "poison" in body["connectorName"]:
            return self.reply(200, ffdc(400, "InvalidParameterException", "connector %s is not registered" % body["connectorName"]))
        with lock:
            if report_id in state["ids"]:
                state["duplicates"] += 1
            else:
                entry = {"reportId": report_id, "connectorName": body["connectorName"],
                         "refreshStartDate": body["refreshStartDate"], "outcome": body["additionalProperties"].get("outcome")}
                state["ids"].add(report_id)
                state["reports"].append(entry)
                with open(args.state, "a") as f:
                    f.write(json.dumps(entry) + "\n")
        self.reply(200, ffdc(200))


def values_of(properties):
    """ElementProperties -> plain values, checking the PrimitiveTypePropertyValue shape."""
    if properties.get("class") != "ElementProperties":
        raise ValueError("properties.class is not ElementProperties")
    values = {}
    for name, value in properties["propertyValueMap"].items():
        if value.get("class") != "PrimitiveTypePropertyValue" or "primitiveTypeCategory" not in value:
            raise ValueError("%s is not a PrimitiveTypePropertyValue" % name)
        values[name] = value["primitiveValue"]
    return values


def element_call(self, match, raw):
    if match.group(1) != args.server or match.group(2) != args.marker or match.group(3) != args.user:
        with lock:
            state["errors"].append("bad path " + self.path)
        return self.reply(404, ffdc(404, "InvalidParameterException", "unknown path " + self.path))
    try:
        body = json.loads(raw)
        if match.group(4) == "new":
            if body.get("class") != "NewMetadataElementRequestBody" or not isinstance(body.get("typeName"), str):
                raise ValueError("not a NewMetadataElementRequestBody")
            values = values_of(body["properties"])
            guid = str(uuid.uuid4())
            with lock:
                state["elements"][guid] = {"typeName": body["typeName"], "properties": values}
            return self.reply(200, {"class": "GUIDResponse", "relatedHTTPCode": 200, "guid": guid})
        guid, operation = match.group(5), match.group(6)
        with lock:
            if guid not in state["elements"]:
                return self.reply(200, ffdc(400, "InvalidParameterException", "unknown guid " + guid))
            if operation == "delete":
                del state["elements"][guid]
            else:
                if body.get("class") != "UpdatePropertiesRequestBody":
                    raise ValueError("not an UpdatePropertiesRequestBody")
                values = values_of(body["properties"])
                if body.get("replaceProperties"):
                    state["elements"][guid]["properties"] = values
                else:
                    state["elements"][guid]["properties"].update(values)
        return self.reply(200, ffdc(200))
    except Exception as error:  # noqa: BLE001
        with lock:
            state["errors"].append("bad element call %s: %s" % (self.path, error))
        return self.reply(200, ffdc(400, "InvalidParameterException", str(error)))


Handler.element_call = element_call
server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
server.daemon_threads = True
if args.tls_cert:
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
