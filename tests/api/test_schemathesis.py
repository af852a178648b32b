"""The API against its own OpenAPI document, with generated requests (Schemathesis): no answer is a server error,
and every answer — refusals included — is one the document describes (status, content type, body schema).

Each operation of ``/openapi.json`` gets a bounded number of requests generated from its parameters' schemas
(seeded: the same requests each run), sent in process to an app built as the tests' fixtures build it (the
synthetic store, read only; its own accounts, registries and audit log, so that what the requests write stays
out of the other tests' app), once as a staff member with an API token (a supervisor, with a declared purpose)
and once anonymously. ``EXAMPLES`` bounds the run: about 40 s for both callers on two shared cores, hence the
``slow`` mark (``make test`` runs it, ``make check`` does not); ``test_a_quick_pass_over_every_operation`` sends
one request per operation and caller, for the inner loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from conftest import add_role_accounts, governance_settings

from observatoire.api.app import create_app

EXAMPLES = 12          # generated requests per operation and caller (plus the documented examples)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLERS = ("supervisor", "anonymous")


@pytest.fixture(scope="module")
def conformance_app(store_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    app = create_app(governance_settings(tmp_path_factory.mktemp("conformance"), store_dir=store_dir))
    add_role_accounts(app)
    return app


def _headers(app: FastAPI, caller: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    _, secret = app.state.auth.tokens.issue(f"schemathesis-{caller}", caller, issued_by="test", days=1)
    return {"Authorization": f"Bearer {secret}", "X-Purpose": "operational_analysis"}


def _operations(app: FastAPI) -> Iterator[object]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for result in schema.get_all_operations():
        yield result.ok()


def run(app: FastAPI, caller: str, examples: int) -> tuple[int, list[str]]:
    """Send up to ``examples`` generated requests to every operation; (requests sent, failures found)."""
    headers = _headers(app, caller)
    sent = 0
    failures: list[str] = []
    for operation in _operations(app):

        @settings(max_examples=examples, deadline=None, derandomize=True, database=None, print_blob=False,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(headers=headers))
        def probe(case: schemathesis.Case) -> None:
            nonlocal sent
            sent += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            probe()
        except (Exception, BaseExceptionGroup) as exc:     # one entry per failing operation, then carry on
            failures.append(f"{caller} {operation.label}: {str(exc).strip()[:1500]}")
    return sent, failures


@pytest.mark.slow
@pytest.mark.parametrize("caller", CALLERS)
def test_generated_requests_get_documented_answers_and_no_server_error(conformance_app: FastAPI, caller: str) -> None:
    sent, failures = run(conformance_app, caller, EXAMPLES)
    assert sent > 100
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("caller", CALLERS)
def test_a_quick_pass_over_every_operation(conformance_app: FastAPI, caller: str) -> None:
    sent, failures = run(conformance_app, caller, 1)
    assert sent >= 30
    assert not failures, "\n\n".join(failures)
