"""Adds or removes a catalog target with the real pyegeria client (AutomatedCuration), as an Egeria 6 user does.

Usage: pyegeria_catalog_target.py URL VIEW_SERVER USER PASSWORD add CONNECTOR_GUID ELEMENT_GUID NAME [SOURCE]
       pyegeria_catalog_target.py URL VIEW_SERVER USER PASSWORD remove RELATIONSHIP_GUID
Prints one JSON line: {"ok": true, "result": GUID-or-null} or {"ok": false, "exception": NAME, "message": TEXT}.
"""
import json
import sys

from pyegeria import AutomatedCuration

url, view, user, password, action = sys.argv[1:6]
rest = sys.argv[6:]

try:
    client = AutomatedCuration(view, url, user, password)
    client.create_egeria_bearer_token(user, password)
    if action == "add":
        connector, element, name = rest[:3]
        source = rest[3] if len(rest) > 3 else None
        result = client.add_catalog_target(connector, element, name, metadata_src_qual_name=source, delete_method="ARCHIVE")
    elif action == "remove":
        result = client.remove_catalog_target(rest[0])
    else:
        raise SystemExit(f"unknown action {action}")
    print(json.dumps({"ok": True, "result": result}))
except Exception as error:  # pyegeria raises its own exception classes; say which
    print(json.dumps({"ok": False, "exception": type(error).__name__, "message": str(error)[:2000]}))
