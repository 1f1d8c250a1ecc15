"""An OpenLineage producer as users run one: openlineage-python's OpenLineageClient with its stock HTTP transport
and an API key, pointed at the daemon's door. Prints one JSON line per event sent, with the outcome the client saw.

usage: openlineage_producer.py URL KEY MODE [ENDPOINT]
MODE flow:  a parent run (START, COMPLETE) and a child run with a parent facet (START, RUNNING, COMPLETE), each
            with inputs and outputs, and a second job that FAILs.
MODE twice: the same START event sent twice.
MODE one:   one START event (for a wrong key, or a store that refuses until it has space again).
ENDPOINT defaults to the client's own, api/v1/lineage.
"""
import datetime
import json
import logging
import sys
import uuid

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import parent_run
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

url, key, mode = sys.argv[1], sys.argv[2], sys.argv[3]
endpoint = sys.argv[4] if len(sys.argv) > 4 else "api/v1/lineage"
config = HttpConfig(url=url, endpoint=endpoint, timeout=20, auth=ApiKeyTokenProvider({"apiKey": key}),
                    # Retries as shipped, but quick: the test's full disk frees within seconds.
                    retry={"total": 8, "read": 8, "connect": 8, "backoff_factor": 0.2, "status_forcelist": [500, 502, 503, 504],
                           "allowed_methods": ["HEAD", "POST"]})
client = OpenLineageClient(transport=HttpTransport(config))
# urllib3 says on stderr when it retries ("Incremented Retry"), so a test can tell a retry happened.
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
logging.getLogger("urllib3.util.retry").setLevel(logging.DEBUG)
producer = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
orders = InputDataset(namespace="postgres://db.example.com:5432", name="sales.public.orders")
summary = OutputDataset(namespace="s3://warehouse", name="daily/order_summary")


def event(state, run_id, job_name, parent=None, inputs=(orders,), outputs=(summary,)):
    facets = {"parent": parent_run.ParentRunFacet.create(parent[0], "airflow", parent[1])} if parent else {}
    return RunEvent(eventType=state, eventTime=datetime.datetime.now(datetime.timezone.utc).isoformat(),
                    run=Run(runId=run_id, facets=facets), job=Job(namespace="airflow", name=job_name),
                    inputs=list(inputs), outputs=list(outputs), producer=producer)


def send(name, value):
    try:
        client.emit(value)
        outcome = {"event": name, "outcome": "ok"}
    except Exception as error:  # the client raises requests' HTTPError (or RetryError) for what the door refused
        response = getattr(error, "response", None)
        outcome = {"event": name, "outcome": "error", "status": getattr(response, "status_code", None), "error": str(error)[:300]}
    outcome["runId"] = value.run.runId
    print(json.dumps(outcome), flush=True)


if mode == "flow":
    parent, child, failing = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    send("parent START", event(RunState.START, parent, "daily_orders"))
    send("child START", event(RunState.START, child, "daily_orders.summarise", parent=(parent, "daily_orders")))
    send("child RUNNING", event(RunState.RUNNING, child, "daily_orders.summarise", parent=(parent, "daily_orders")))
    send("child COMPLETE", event(RunState.COMPLETE, child, "daily_orders.summarise", parent=(parent, "daily_orders")))
    send("parent COMPLETE", event(RunState.COMPLETE, parent, "daily_orders"))
    send("other FAIL", event(RunState.FAIL, failing, "weekly_rollup", inputs=(), outputs=()))
elif mode == "twice":
    start = event(RunState.START, str(uuid.uuid4()), "daily_orders")
    send("first", start)
    send("again", start)
elif mode == "one":
    send("one", event(RunState.START, str(uuid.uuid4()), "daily_orders"))
else:
    sys.exit("unknown mode " + mode)
