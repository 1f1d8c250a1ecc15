#!/usr/bin/env python3
"""A stand-in Egeria 6 metadata access server for the forwarding tests (standard library only).

It speaks what an Egeria 6 platform does for the daemon, including its awkward parts:
  POST /api/token, /servers/{view}/api/token {"userId", "password"} -> text/plain token (a JWT-shaped string with exp), or HTTP 401
  every other path needs "Authorization: Bearer <token>"; a missing, unknown or expired token gets HTTP 401, no body
  POST /servers/{mas}/open-metadata/access-services/open-metadata-store/users/{user}/
       metadata-elements                         NewOpenMetadataElementRequestBody -> GUIDResponse
       metadata-elements/by-search-conditions    FindRequestBody -> OpenMetadataElementsResponse ("elements" left out
                                                 when nothing matches, as Jackson's NON_NULL does)
       metadata-elements/{guid}/update-properties UpdatePropertiesRequestBody -> BooleanResponse
       metadata-elements/{guid}/delete           OpenMetadataDeleteRequestBody -> VoidResponse (its relationships go too)
       metadata-elements/{guid}/classifications/{name}[/update-properties|/delete]
                                                 NewClassificationRequestBody | UpdatePropertiesRequestBody |
                                                 OpenMetadataDeleteRequestBody -> VoidResponse
       related-elements                          NewRelatedElementsRequestBody -> GUIDResponse
       related-elements/{guid}/delete            OpenMetadataDeleteRequestBody -> VoidResponse
  A create's parentGUID/parentRelationshipTypeName/parentAtEnd1 make a relationship; initialClassifications classify.
Errors are HTTP 200 with relatedHTTPCode. Every reply is sent chunked. Like stock Egeria it does NOT de-duplicate:
a report created twice is stored twice, and counted in "duplicates".

Tests steer it through /control (no token needed):
  POST /control/mode {"mode": "ok" | "500" | "revoke-tokens" | "token-seconds:N"}
       (revoke-tokens forgets every token issued so far; token-seconds:N sets the life of tokens issued from now on)
  GET  /control/reports -> {"reports": [{"reportId", "connectorName", "refreshStartDate", "anchorGUID", "qualifiedName",
                            "properties"}...] in arrival order (duplicates included), "requests", "duplicates", "errors",
                            "tokens", "unauthorized"}
  GET  /control/elements -> {"elements": {guid: {"typeName", "properties", "anchorGUID", "classifications"}},
                            "relationships": {guid: {"typeName", "end1", "end2", "properties"}}}
  POST /control/groups {"groups": {qualifiedName: [registration...]}} replaces every integration group; a registration is
       {"connectorName", "provider", "address"?, "configurationProperties"?, and any RegisteredIntegrationConnector
       property: "refreshTimeInterval", "connectorUserId", "metadataCollectionQualifiedName", "startDate",
       "connectorShutdownDate", "permittedSynchronization", "generateConnectorActivityReports"}
  GET  /control/groups -> {"reads": number of governance-configuration calls answered}
  POST /control/targets {"connectorName", "targets": [{"catalogTargetName", "path", "configurationProperties"?,
       "metadataSourceQualifiedName"?, "deleteMethod"?}]} replaces a registered connector's CatalogTarget
       relationships; each path is a FileFolder asset whose connection's endpoint is the path
  POST /control/assets {"path"} -> {"guid"}: a FileFolder asset with a connection to that path (for pyegeria to target)
It also serves Egeria 6's governance-configuration calls for integration groups, as GovernanceConfigurationResource
and its converters shape them:
  GET /servers/{mas}/open-metadata/access-services/governance-configuration-service/users/{user}/
      integration-groups/by-name/{name}          -> IntegrationGroupElementResponse; an unknown name is HTTP 200 with no
                                                    "element"
      integration-groups/{guid}/integration-connectors?startingFrom=&maximumResults=
                                                 -> RegisteredIntegrationConnectorsResponse, newest registration first
                                                    (CREATION_DATE_RECENT); "elements" left out when the page is empty;
                                                    registrationProperties never carry metadataSourceQualifiedName (the
                                                    converter overwrites it with metadataCollectionQualifiedName)
  POST .../open-metadata-store/users/{user}/related-elements/{guid}/type/CatalogTarget?startingAtEnd=1 ResultsRequestBody
                                                 -> RelatedMetadataElementListResponse (relationship properties as
                                                    typed property values; "relatedElementList" left out when empty)
  GET  /servers/{mas}/open-metadata/access-services/connected-asset/users/{user}/assets/{guid}/connection -> ConnectionResponse
and the view-server calls pyegeria's AutomatedCuration makes for catalog targets (any view server name):
  POST /servers/{view}/api/open-metadata/automated-curation/integration-connectors/{c}/catalog-targets/{e}
       NewRelationshipRequestBody with CatalogTargetProperties -> GUIDResponse
  POST /servers/{view}/api/open-metadata/automated-curation/catalog-targets/{relationship}/remove -> VoidResponse
A ConnectorActivityReport whose connectorName contains "poison" is refused with an FFDC InvalidParameterException.
"""
import argparse
import base64
import json
import os
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--server", default="qs-metadata-store")
parser.add_argument("--user", default="integration-daemon-npa")
parser.add_argument("--password", default="secret")
parser.add_argument("--token-seconds", type=float, default=3600)
parser.add_argument("--state", required=True)
parser.add_argument("--tls-cert")
parser.add_argument("--tls-key")
args = parser.parse_args()

BASE = r"^/servers/([^/]+)/open-metadata/access-services/open-metadata-store/users/([^/]+)/metadata-elements"
CREATE = re.compile(BASE + r"$")
FIND = re.compile(BASE + r"/by-search-conditions$")
CHANGE = re.compile(BASE + r"/([^/]+)/(update-properties|delete)$")
CLASSIFY = re.compile(BASE + r"/([^/]+)/classifications/([^/]+)(/update-properties|/delete)?$")
RELATED = r"^/servers/([^/]+)/open-metadata/access-services/open-metadata-store/users/([^/]+)/related-elements"
RELATE = re.compile(RELATED + r"$")
GOVERNANCE = r"^/servers/([^/]+)/open-metadata/access-services/governance-configuration-service/users/([^/]+)/integration-groups/"
GROUP_BY_NAME = re.compile(GOVERNANCE + r"by-name/([^/?]+)$")
RELATED_BY_TYPE = re.compile(RELATED + r"/([^/]+)/type/CatalogTarget(\?startingAtEnd=1)?$")
CONNECTION = re.compile(r"^/servers/([^/]+)/open-metadata/access-services/connected-asset/users/([^/]+)/assets/([^/]+)/connection$")
CURATION = r"^/servers/[^/]+/api/open-metadata/automated-curation/"
ADD_TARGET = re.compile(CURATION + r"integration-connectors/([^/]+)/catalog-targets/([^/]+)$")
REMOVE_TARGET = re.compile(CURATION + r"catalog-targets/([^/]+)/remove$")
GROUP_CONNECTORS = re.compile(GOVERNANCE + r"([^/?]+)/integration-connectors\?startingFrom=(\d+)&maximumResults=(\d+)$")
UNRELATE = re.compile(RELATED + r"/([^/]+)/delete$")
REPORT_PROPERTIES = {"qualifiedName": "string", "serverName": "string", "connectorId": "string", "connectorName": "string",
                     "startTime": "date", "createdElements": "array<string>", "updatedElements": "array<string>",
                     "deletedElements": "array<string>", "additionalProperties": "map<string,string>"}

lock = threading.Lock()
state = {"mode": "ok", "requests": 0, "duplicates": 0, "errors": [], "reports": [], "elements": {}, "tokens": {},
         "issued": 0, "unauthorized": 0, "relationships": {}, "groups": {}, "group_reads": 0, "targets": {}, "assets": {}}
if os.path.exists(args.state):
    with open(args.state) as f:
        for line in f:
            entry = json.loads(line)
            state["elements"][entry["guid"]] = entry["element"]
            if entry.get("report"):
                state["reports"].append(entry["report"])


def ffdc(code, response_class="VoidResponse", exception=None, message=None):
    body = {"class": response_class, "relatedHTTPCode": code}
    if exception:
        body.update({"exceptionClassName": exception, "exceptionErrorMessage": message or exception})
    return body


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def plain(value, problems, name):
    """One PropertyValue -> a plain value, checking its class and typeName."""
    kind = value.get("class")
    if kind == "PrimitiveTypePropertyValue":
        if "typeName" not in value or "primitiveTypeCategory" not in value:
            problems.append("%s: primitive without typeName/primitiveTypeCategory" % name)
        return value.get("typeName"), value.get("primitiveValue")
    if kind == "ArrayTypePropertyValue":
        values = value.get("arrayValues", {}).get("propertyValueMap", {})
        if value.get("arrayCount") != len(values):
            problems.append("%s: arrayCount %s but %d values" % (name, value.get("arrayCount"), len(values)))
        return value.get("typeName"), [plain(values[str(i)], problems, name)[1] for i in range(len(values))]
    if kind == "MapTypePropertyValue":
        values = value.get("mapValues", {}).get("propertyValueMap", {})
        return value.get("typeName"), {k: plain(v, problems, name)[1] for k, v in values.items()}
    problems.append("%s: unknown PropertyValue class %s" % (name, kind))
    return None, None


def values_of(properties, problems):
    if properties.get("class") not in ("ElementProperties", "NewElementProperties"):
        problems.append("properties.class is %s" % properties.get("class"))
    return {name: plain(value, problems, name) for name, value in properties.get("propertyValueMap", {}).items()}


def stable_guid(kind, name):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "standin:%s:%s" % (kind, name)))


def typed(value):
    """A plain value as one of Egeria's typed property values."""
    if isinstance(value, dict):
        return {"class": "MapTypePropertyValue", "typeName": "map<string,object>",
                "mapValues": {"class": "ElementProperties", "propertyValueMap": {k: typed(v) for k, v in value.items()}}}
    kind = "boolean" if isinstance(value, bool) else "long" if isinstance(value, int) else "string"
    return {"class": "PrimitiveTypePropertyValue", "typeName": kind, "primitiveValue": value}


def folder_asset(path):
    """A FileFolder asset with a connection to `path` (caller holds the lock)."""
    guid = stable_guid("asset", path)
    state["assets"][guid] = path
    state["elements"][guid] = {"typeName": "FileFolder", "properties": {"qualifiedName": path, "pathName": path},
                               "anchorGUID": None, "classifications": {}}
    return guid


def catalog_target(connector, name, element, properties):
    """A RelatedMetadataElement for a CatalogTarget relationship, as Egeria's OMF answers it."""
    values = {"catalogTargetName": typed(name)}
    for key in ("configurationProperties", "metadataSourceQualifiedName"):
        if properties.get(key) is not None:
            values[key] = typed(properties[key])
    for key, enum in (("deleteMethod", "DeleteMethod"), ("permittedSynchronization", "PermittedSynchronization")):
        if properties.get(key):
            values[key] = {"class": "EnumTypePropertyValue", "typeName": enum, "ordinal": 0, "symbolicName": properties[key]}
    with_path = state["assets"].get(element, "")
    return {"class": "RelatedMetadataElement", "relationshipGUID": stable_guid("target", connector + "/" + name),
            "relationshipProperties": {"class": "ElementProperties", "propertyValueMap": values},
            "element": {"class": "OpenMetadataElement", "elementGUID": element, "type": {"typeName": "FileFolder"},
                        "elementProperties": {"class": "ElementProperties", "propertyValueMap": {"qualifiedName": typed(with_path)}}}}


def registered(group, entry):
    """A RegisteredIntegrationConnectorElement as Egeria's converters write it."""
    name = entry["connectorName"]
    connection = {"class": "Connection", "headerVersion": 0, "qualifiedName": name + " connection",
                  "connectorType": {"class": "ConnectorType", "headerVersion": 0, "connectorProviderClassName": entry["provider"]}}
    if "address" in entry:
        connection["endpoint"] = {"class": "Endpoint", "headerVersion": 0, "networkAddress": entry["address"]}
    if "configurationProperties" in entry:
        connection["configurationProperties"] = entry["configurationProperties"]
    registration = {"class": "RegisteredIntegrationConnectorProperties", "connectorName": name,
                    "refreshTimeInterval": entry.get("refreshTimeInterval", 0),
                    "generateConnectorActivityReports": entry.get("generateConnectorActivityReports", True)}
    for key in ("connectorUserId", "metadataCollectionQualifiedName", "startDate", "connectorShutdownDate", "permittedSynchronization"):
        if key in entry:
            registration[key] = entry[key]
    return {"elementHeader": {"class": "ElementHeader", "guid": stable_guid("connector", name), "type": {"typeName": "IntegrationConnector"}},
            "properties": {"class": "IntegrationConnector", "qualifiedName": "IntegrationConnector::" + name, "displayName": name,
                           "usesBlockingCalls": False, "connection": connection},
            "connectorId": stable_guid("registration", group + "/" + name),
            "registrationProperties": registration}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def reply(self, status, body, content_type="application/json"):
        """Every reply chunked, in two chunks, as a Spring Boot server streams larger bodies."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if not data:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        half = len(data) // 2
        out = b""
        for chunk in (data[:half], data[half:]):
            if chunk:
                out += b"%x;note=1\r\n%s\r\n" % (len(chunk), chunk)
        self.wfile.write(out + b"0\r\n\r\n")

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise ConnectionResetError("request body cut short")
        return body

    def do_GET(self):
        if self.path == "/control/groups":
            with lock:
                return self.reply(200, {"reads": state["group_reads"]})
        if CONNECTION.match(self.path):
            return self.asset_connection(CONNECTION.match(self.path))
        if self.path.startswith("/servers/"):
            return self.governance()
        if self.path == "/control/reports":
            with lock:
                body = {k: state[k] for k in ("reports", "requests", "duplicates", "errors", "unauthorized")}
                body["tokens"] = state["issued"]
            return self.reply(200, body)
        if self.path == "/control/elements":
            with lock:
                return self.reply(200, {"elements": dict(state["elements"]), "relationships": dict(state["relationships"])})
        self.reply(404, b"")

    def authorized(self):
        header = self.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
        with lock:
            expiry = state["tokens"].get(token)
            if expiry is None or expiry < time.time():
                state["unauthorized"] += 1
                return False
        return True

    def do_POST(self):
        try:
            raw = self.read_body()
        except ConnectionResetError:
            self.close_connection = True
            return
        if self.path == "/control/mode":
            mode = json.loads(raw)["mode"]
            with lock:
                if mode == "revoke-tokens":
                    state["tokens"].clear()
                elif mode.startswith("token-seconds:"):
                    args.token_seconds = float(mode.split(":", 1)[1])
                else:
                    state["mode"] = mode
            return self.reply(200, {"mode": mode})
        if self.path == "/control/groups":
            groups = json.loads(raw)["groups"]
            with lock:
                state["groups"] = {name: {"guid": stable_guid("group", name), "registrations": [registered(name, entry) for entry in entries]}
                                   for name, entries in groups.items()}
                # Each registered connector is an IntegrationConnector element of the store, as in Egeria.
                for group in state["groups"].values():
                    for element in group["registrations"]:
                        state["elements"][element["elementHeader"]["guid"]] = {
                            "typeName": "IntegrationConnector", "properties": {"qualifiedName": element["properties"]["qualifiedName"]},
                            "anchorGUID": None, "classifications": {}}
            return self.reply(200, {"groups": sorted(groups)})
        if self.path == "/control/targets":
            body = json.loads(raw)
            connector = stable_guid("connector", body["connectorName"])
            with lock:
                state["targets"][connector] = [catalog_target(connector, entry["catalogTargetName"], folder_asset(entry["path"]), entry)
                                               for entry in body["targets"]]
            return self.reply(200, {"targets": len(body["targets"])})
        if self.path == "/control/assets":
            with lock:
                return self.reply(200, {"guid": folder_asset(json.loads(raw)["path"])})
        # The platform's token API, and a view server's (/servers/{view}/api/token), which pyegeria's view clients call.
        if re.match(r"^(/servers/[^/]+)?/api/token$", self.path):
            body = json.loads(raw or b"{}")
            if body.get("userId") != args.user or body.get("password") != args.password:
                return self.reply(401, b"")
            expiry = time.time() + args.token_seconds
            token = "%s.%s.%s" % (b64(b'{"alg":"RS256"}'), b64(json.dumps({"sub": args.user, "exp": int(expiry)}).encode()),
                                  b64(uuid.uuid4().bytes))
            with lock:
                state["tokens"][token] = expiry
                state["issued"] += 1
            return self.reply(200, token.encode(), "text/plain")
        if not self.admitted():
            return
        for pattern, handler in ((ADD_TARGET, self.add_target), (REMOVE_TARGET, self.remove_target)):
            match = pattern.match(self.path)
            if match:
                return handler(match, json.loads(raw or b"{}"))
        match = RELATED_BY_TYPE.match(self.path)
        if match and match.group(1) == args.server and match.group(2) == args.user:
            return self.related_targets(match, json.loads(raw or b"{}"))
        for pattern, handler in ((FIND, self.find), (CHANGE, self.change), (CLASSIFY, self.classify), (CREATE, self.create),
                                 (RELATE, self.relate), (UNRELATE, self.unrelate)):
            match = pattern.match(self.path)
            if match:
                if match.group(1) != args.server or match.group(2) != args.user:
                    break
                try:
                    return handler(match, json.loads(raw))
                except (BrokenPipeError, ConnectionResetError):
                    # The daemon was killed while the answer went out; what was stored stays stored, as in Egeria.
                    self.close_connection = True
                    return
                except Exception as error:  # noqa: BLE001 - any malformed body is a 400 here
                    with lock:
                        state["errors"].append("bad body for %s: %s" % (self.path, error))
                    return self.reply(200, ffdc(400, exception="InvalidParameterException", message=str(error)))
        with lock:
            state["errors"].append("bad path " + self.path)
        self.reply(404, b"")

    def related_targets(self, match, body):
        start, size = int(body.get("startFrom", 0)), int(body.get("pageSize", 0) or 100)
        with lock:
            state["group_reads"] += 1
            chosen = state["targets"].get(match.group(3), [])[start:start + size]
        answer = {"class": "RelatedMetadataElementListResponse", "relatedHTTPCode": 200}
        if chosen:
            answer["relatedElementList"] = {"class": "RelatedMetadataElementList", "elementList": chosen}
        self.reply(200, answer)

    def asset_connection(self, match):
        if not self.admitted():
            return
        with lock:
            path = state["assets"].get(match.group(3))
        answer = {"class": "ConnectionResponse", "relatedHTTPCode": 200}
        if path is not None:
            answer["connection"] = {"class": "Connection", "headerVersion": 0, "qualifiedName": "FileFolder connection::" + path,
                                    "connectorType": {"class": "ConnectorType",
                                                      "connectorProviderClassName": "org.odpi.openmetadata.adapters.connectors.datastore.basicfile.BasicFolderProvider"},
                                    "endpoint": {"class": "Endpoint", "headerVersion": 0, "networkAddress": path}}
        self.reply(200, answer)

    def add_target(self, match, body):
        properties = body.get("properties") or {}
        if body.get("class") != "NewRelationshipRequestBody" or properties.get("class") != "CatalogTargetProperties":
            return self.reply(200, ffdc(400, "GUIDResponse", "InvalidParameterException", "invalid properties object"))
        connector, element = match.group(1), match.group(2)
        with lock:
            if element not in state["assets"]:
                return self.reply(200, ffdc(404, "GUIDResponse", "InvalidParameterException", "unknown element " + element))
            target = catalog_target(connector, properties["catalogTargetName"], element, properties)
            state["targets"].setdefault(connector, []).append(target)
        self.reply(200, {"class": "GUIDResponse", "relatedHTTPCode": 200, "guid": target["relationshipGUID"]})

    def remove_target(self, match, _body):
        with lock:
            for connector, targets in state["targets"].items():
                state["targets"][connector] = [t for t in targets if t["relationshipGUID"] != match.group(1)]
        self.reply(200, {"class": "VoidResponse", "relatedHTTPCode": 200})

    def admitted(self):
        """Counts a store request and answers it here unless it may go on: no valid token is a bare 401, and mode
        "500" an FFDC PropertyServerException."""
        with lock:
            state["requests"] += 1
            mode = state["mode"]
        if not self.authorized():
            self.reply(401, b"")
            return False
        if mode == "500":
            self.reply(200, ffdc(500, exception="PropertyServerException", message="repository unavailable"))
            return False
        return True

    def governance(self):
        if not self.admitted():
            return
        by_name = GROUP_BY_NAME.match(self.path)
        page = GROUP_CONNECTORS.match(self.path)
        match = by_name or page
        if not match or match.group(1) != args.server or match.group(2) != args.user:
            with lock:
                state["errors"].append("bad path " + self.path)
            return self.reply(404, b"")
        with lock:
            state["group_reads"] += 1
            if by_name:
                group = state["groups"].get(unquote(by_name.group(3)))
                body = {"class": "IntegrationGroupElementResponse", "relatedHTTPCode": 200}
                if group:
                    body["element"] = {"elementHeader": {"class": "ElementHeader", "guid": group["guid"],
                                                         "type": {"typeName": "IntegrationGroup"}},
                                       "properties": {"class": "IntegrationGroupProperties", "qualifiedName": unquote(by_name.group(3))}}
                return self.reply(200, body)
            guid, start, size = unquote(page.group(3)), int(page.group(4)), int(page.group(5))
            group = next((g for g in state["groups"].values() if g["guid"] == guid), None)
            newest_first = list(reversed(group["registrations"])) if group else []
            chosen = newest_first[start:start + size]
        body = {"class": "RegisteredIntegrationConnectorsResponse", "relatedHTTPCode": 200}
        if chosen:
            body["elements"] = chosen
        self.reply(200, body)

    def create(self, _match, body):
        problems = []
        type_name = body.get("typeName")
        if not isinstance(type_name, str):
            problems.append("typeName")
        values = values_of(body.get("properties", {}), problems)
        anchor = body.get("anchorGUID")
        report = None
        if type_name == "ConnectorActivityReport":
            for name, kind in REPORT_PROPERTIES.items():
                if values.get(name, (None,))[0] != kind:
                    problems.append("property %s is not a %s" % (name, kind))
            with lock:
                anchor_element = state["elements"].get(anchor)
            if not anchor_element or anchor_element["typeName"] != "IntegrationConnector":
                problems.append("anchorGUID %s is not an IntegrationConnector element" % anchor)
            if body.get("parentGUID") != anchor or body.get("parentRelationshipTypeName") != "ReportSubject" \
                    or body.get("parentAtEnd1") is not True or body.get("isOwnAnchor") is not False:
                problems.append("not a ReportSubject child of its anchor")
            if not problems and "poison" in values["connectorName"][1]:
                return self.reply(200, ffdc(400, "GUIDResponse", "InvalidParameterException", "connector is not registered"))
            if not problems:
                extra = values["additionalProperties"][1]
                report = {"reportId": extra.get("reportId"), "connectorName": values["connectorName"][1],
                          "refreshStartDate": values["startTime"][1], "outcome": extra.get("outcome"), "anchorGUID": anchor,
                          "qualifiedName": values["qualifiedName"][1],
                          "properties": {k: v[1] for k, v in values.items()}}
        if problems:
            with lock:
                state["errors"].append("bad %s: %s" % (type_name, problems))
            return self.reply(200, ffdc(400, "GUIDResponse", "InvalidParameterException", "; ".join(problems)))
        guid = str(uuid.uuid4())
        element = {"typeName": type_name, "properties": {k: v[1] for k, v in values.items()}, "anchorGUID": anchor,
                   "classifications": {name: {k: v[1] for k, v in values_of(props, problems).items()}
                                       for name, props in (body.get("initialClassifications") or {}).items()}}
        parent = body.get("parentGUID")
        if parent is not None and type_name != "ConnectorActivityReport":
            with lock:
                known = parent in state["elements"]
            if not known or not isinstance(body.get("parentRelationshipTypeName"), str) or not isinstance(body.get("parentAtEnd1"), bool):
                return self.reply(200, ffdc(400, "GUIDResponse", "InvalidParameterException", "bad parent %s" % parent))
        if problems:
            return self.reply(200, ffdc(400, "GUIDResponse", "InvalidParameterException", "; ".join(problems)))
        with lock:
            if parent is not None and type_name != "ConnectorActivityReport":
                at_end1 = body["parentAtEnd1"]
                state["relationships"][str(uuid.uuid4())] = {
                    "typeName": body["parentRelationshipTypeName"], "end1": parent if at_end1 else guid,
                    "end2": guid if at_end1 else parent,
                    "properties": {k: v[1] for k, v in values_of(body.get("parentRelationshipProperties") or {"class": "ElementProperties"}, []).items()}}
            name = element["properties"].get("qualifiedName")
            if any(e["properties"].get("qualifiedName") == name for e in state["elements"].values()):
                state["duplicates"] += 1
            state["elements"][guid] = element
            if report:
                state["reports"].append(report)
            with open(args.state, "a") as f:
                f.write(json.dumps({"guid": guid, "element": element, "report": report}) + "\n")
        self.reply(200, {"class": "GUIDResponse", "relatedHTTPCode": 200, "guid": guid})

    def find(self, _match, body):
        conditions = body["searchProperties"]["conditions"]
        if len(conditions) != 1 or conditions[0]["property"] != "qualifiedName" or conditions[0]["operator"] != "EQ":
            raise ValueError("expected one condition qualifiedName EQ")
        problems = []
        wanted = plain(conditions[0]["value"], problems, "value")[1]
        type_name = body.get("metadataElementTypeName")
        with lock:
            found = [{"class": "OpenMetadataElement", "elementGUID": guid, "type": {"typeName": e["typeName"]},
                      "elementProperties": {"class": "ElementProperties", "propertyValueMap": {
                          "qualifiedName": {"class": "PrimitiveTypePropertyValue", "typeName": "string",
                                            "primitiveTypeCategory": "OM_PRIMITIVE_TYPE_STRING",
                                            "primitiveValue": e["properties"].get("qualifiedName")}}}}
                     for guid, e in state["elements"].items()
                     if e["properties"].get("qualifiedName") == wanted and (type_name is None or e["typeName"] == type_name)]
        body = {"class": "OpenMetadataElementsResponse", "relatedHTTPCode": 200}
        if found:
            body["elements"] = found
        self.reply(200, body)

    def change(self, match, body):
        guid, operation = match.group(3), match.group(4)
        with lock:
            if guid not in state["elements"]:
                return self.reply(200, ffdc(400, exception="InvalidParameterException", message="unknown guid " + guid))
            if operation == "delete":
                if body.get("class") != "OpenMetadataDeleteRequestBody":
                    raise ValueError("not an OpenMetadataDeleteRequestBody")
                del state["elements"][guid]
                for key in [k for k, r in state["relationships"].items() if guid in (r["end1"], r["end2"])]:
                    del state["relationships"][key]
                return self.reply(200, ffdc(200))
        if body.get("class") != "UpdatePropertiesRequestBody" or not isinstance(body.get("mergeUpdate"), bool):
            raise ValueError("not an UpdatePropertiesRequestBody with mergeUpdate")
        problems = []
        values = {k: v[1] for k, v in values_of(body["properties"], problems).items()}
        if problems:
            raise ValueError("; ".join(problems))
        with lock:
            if body["mergeUpdate"]:
                state["elements"][guid]["properties"].update(values)
            else:
                state["elements"][guid]["properties"] = values
        self.reply(200, {"class": "BooleanResponse", "relatedHTTPCode": 200, "flag": True})

    def classify(self, match, body):
        guid, name, operation = match.group(3), match.group(4), match.group(5)
        expected = {None: "NewClassificationRequestBody", "/update-properties": "UpdatePropertiesRequestBody",
                    "/delete": "OpenMetadataDeleteRequestBody"}[operation]
        if body.get("class") != expected:
            raise ValueError("not a " + expected)
        with lock:
            element = state["elements"].get(guid)
            if element is None:
                return self.reply(200, ffdc(400, exception="InvalidParameterException", message="unknown guid " + guid))
            classifications = element.setdefault("classifications", {})
            if operation == "/delete" or operation == "/update-properties":
                if name not in classifications:
                    return self.reply(200, ffdc(400, exception="InvalidParameterException", message="%s is not classified %s" % (guid, name)))
            elif name in classifications:
                return self.reply(200, ffdc(400, exception="InvalidParameterException", message="%s is already classified %s" % (guid, name)))
            if operation == "/delete":
                del classifications[name]
            else:
                problems = []
                classifications[name] = {k: v[1] for k, v in values_of(body.get("properties") or {"class": "ElementProperties"}, problems).items()}
                if problems:
                    raise ValueError("; ".join(problems))
        self.reply(200, ffdc(200))

    def relate(self, _match, body):
        if body.get("class") != "NewRelatedElementsRequestBody" or not isinstance(body.get("typeName"), str):
            raise ValueError("not a NewRelatedElementsRequestBody with a typeName")
        end1, end2 = body.get("metadataElement1GUID"), body.get("metadataElement2GUID")
        problems = []
        properties = {k: v[1] for k, v in values_of(body.get("properties") or {"class": "ElementProperties"}, problems).items()}
        with lock:
            if end1 not in state["elements"] or end2 not in state["elements"] or problems:
                return self.reply(200, ffdc(400, "GUIDResponse", "InvalidParameterException", "bad ends or properties %s" % problems))
            guid = str(uuid.uuid4())
            state["relationships"][guid] = {"typeName": body["typeName"], "end1": end1, "end2": end2, "properties": properties}
        self.reply(200, {"class": "GUIDResponse", "relatedHTTPCode": 200, "guid": guid})

    def unrelate(self, match, body):
        if body.get("class") != "OpenMetadataDeleteRequestBody":
            raise ValueError("not an OpenMetadataDeleteRequestBody")
        with lock:
            if state["relationships"].pop(match.group(3), None) is None:
                return self.reply(200, ffdc(400, exception="InvalidParameterException", message="unknown relationship " + match.group(3)))
        self.reply(200, ffdc(200))


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
server.daemon_threads = True
if args.tls_cert:
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
