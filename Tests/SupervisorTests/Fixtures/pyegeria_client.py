"""Drives a running integration-daemon's platform door with the real pyegeria client (ServerOps).

Usage: pyegeria_client.py URL SERVER USER PASSWORD ACTION [CONNECTOR]
Prints one JSON line: {"ok": true, "result": ...} or {"ok": false, "exception": NAME, "relatedHTTPCode": N,
"messageId": ID, "httpStatus": N}. Exit code 0 either way; a crash of this script is a test failure.
"""
import json
import sys

from pyegeria import ServerOps

url, server, user, password, action = sys.argv[1:6]
connector = sys.argv[6] if len(sys.argv) > 6 else None


def run():
    if action == "no-token":
        import httpx
        return httpx.get(f"{url}/servers/{server}/open-metadata/integration-daemon/status", verify=False).status_code
    ops = ServerOps(server, url, user, password)
    ops.create_egeria_bearer_token(user, password)
    if action == "status":
        return ops.get_integration_daemon_status()
    if action == "refresh":
        ops.refresh_integration_connectors(connector)
        return None
    if action == "restart":
        response = ops.restart_integration_connector(connector)
        return response.json()
    if action == "config":
        return ops.get_connector_config(connector)
    raise SystemExit(f"unknown action {action}")


try:
    print(json.dumps({"ok": True, "result": run()}))
except Exception as error:  # pyegeria raises its own exception classes; report which, with Egeria's fields
    response = getattr(error, "response", None)
    related = None
    try:
        related = response.json().get("relatedHTTPCode") if response is not None and response.content else None
    except Exception:
        pass
    print(json.dumps({"ok": False, "exception": type(error).__name__, "relatedHTTPCode": related,
                      "messageId": getattr(error, "response_egeria_msg_id", ""),
                      "httpStatus": getattr(error, "http_status_code", None), "text": str(error)[:500]}))
