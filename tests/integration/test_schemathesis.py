"""schemathesis against the app's own OpenAPI, in-process: no generated request gets a 5xx.

The app runs with its lifespan (the desk opened once, on a SQLite file, workspaces ``acme`` and ``globex``),
driven by schemathesis (requests transport) over one in-process ``starlette_testclient`` session. Every case
is sent with the acme admin key, so it gets past authentication; path ids point at real tickets (some pending
review) for a share of the cases, so the submit, read, audit and decision code runs, not only the 404 path.
Bounded and seeded: ``MAX_EXAMPLES`` per operation and generation mode (positive, negative), no deadline,
derandomized, no example database on disk. (Some negative cases drop the Authorization header on purpose, to
probe unauthenticated access: those are the 401s.) The totals (operations, cases, status codes, 5xx) are printed at
the end (``pytest -s``).
"""

from __future__ import annotations

import gc
import itertools
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from api.app import create_app
from tests.integration.conftest import REFUND, Deployment, make_state_dir

pytestmark = [
    pytest.mark.integration,
    # schemathesis's ASGI client (starlette-testclient 0.4) still imports the alias anyio 4.x deprecates
    pytest.mark.filterwarnings("ignore:The anyio.abc.BlockingPortal alias is deprecated:DeprecationWarning"),
]

MAX_EXAMPLES = 15  # per operation and generation mode (positive, negative)
SEED = 20261010
TALLY: dict[str, Any] = {"operations": set(), "cases": 0, "status": Counter(), "server_errors": [], "unsatisfiable": []}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, warm_index: Path) -> Iterator[dict[str, Any]]:
    """The app started (its lifespan run once) on a fresh deployment, with a few real tickets awaiting review."""
    from starlette_testclient import TestClient  # the requests-based client schemathesis's transport speaks

    dep = Deployment("sqlite", make_state_dir(tmp_path_factory, warm_index, "schemathesis"), "")
    app = create_app(dep.settings)
    with TestClient(app) as client:  # runs the lifespan: the desk is opened and recovery done
        headers = {"Authorization": f"Bearer {dep.keys['admin@acme']}"}
        tickets = []
        for n in range(6):
            r = client.post("/v1/tickets", json={**REFUND, "id": f"st-{n}"}, headers=headers)
            assert r.status_code == 201, r.text
            tickets.append((r.json()["thread_id"], r.json()["interrupts"][0]["id"]))
        schema = schemathesis.openapi.from_dict(app.openapi()).exclude(path_regex="^/console")
        schema.config.seed = SEED
        yield {"client": client, "schema": schema, "headers": headers, "tickets": itertools.cycle(tickets)}
    dep.close()
    gc.collect()  # the client's memory streams are collected here, under this module's warning filters
    print(f"\nschemathesis totals: operations {len(TALLY['operations'])}, cases {TALLY['cases']}, "
          f"5xx {len(TALLY['server_errors'])}, no negative case possible: {TALLY['unsatisfiable']}, "
          f"status codes {dict(sorted(TALLY['status'].items()))}")


def send(case: Any, running: dict[str, Any]) -> None:
    """One generated request, authenticated as acme's admin, half of them on a real ticket; no 5xx."""
    ticket_id, interrupt_id = next(running["tickets"])
    if "ticket_id" in (case.path_parameters or {}) and TALLY["cases"] % 2 == 0:
        case.path_parameters["ticket_id"] = ticket_id  # a real ticket: the handler runs past its 404
        if isinstance(case.body, dict) and "interrupt_id" in case.body:
            case.body["interrupt_id"] = interrupt_id  # and a real pending review: the decision is validated
    case.headers = {**(case.headers or {}), **running["headers"]}
    response = case.call(base_url="http://testserver", session=running["client"])
    TALLY["cases"] += 1
    TALLY["status"][response.status_code] += 1
    if response.status_code >= 500:
        TALLY["server_errors"].append(f"{response.status_code}: {case.as_curl_command()}")
    case.validate_response(response, checks=[not_a_server_error])


def test_no_generated_request_gets_a_server_error(running: dict[str, Any]) -> None:
    # schemathesis 4.15's own @schema.parametrize() fails on pytest 9 (Function._nodeid); Hypothesis runs its strategies here.
    failures = []
    for result in running["schema"].get_all_operations():
        operation = result.ok()
        TALLY["operations"].add(operation.label)
        # Negative cases with the path ids pinned: any string is a valid id, so schemathesis 4.15 finds no invalid
        # one and rejects every draw; the body, query and headers are what gets broken (ids are varied in send()).
        pinned = {name: "no-such-ticket" for name in re.findall(r"{(\w+)}", operation.path)}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            extra = {"path_parameters": pinned} if pinned and mode is GenerationMode.NEGATIVE else {}

            @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            @given(case=operation.as_strategy(generation_mode=mode, **extra))
            def run(case: Any) -> None:
                send(case, running)

            try:
                run()
            except Unsatisfiable:  # e.g. no request to /healthz violates its (empty) schema
                TALLY["unsatisfiable"].append(f"{operation.label}")
            except Exception as exc:  # collected: every operation runs, all failures are reported together
                failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}: {str(exc)[:1500]}")
    assert not failures and not TALLY["server_errors"], "\n".join(failures + TALLY["server_errors"])
    assert len(TALLY["operations"]) >= 9 and TALLY["cases"] >= 100
