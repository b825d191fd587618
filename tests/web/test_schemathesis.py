"""Schemathesis: every operation in the app's OpenAPI schema, fuzzed in-process (ASGI).

The property: no input makes the server fail (no 5xx), with data that fits the schema
(positive) and data that does not (negative). A bounded, derandomised number of examples
per operation keeps the run under a minute and makes any failure reproducible. Editorial
operations are called with an admin token, so fuzzing reaches the workflow and not only
the authentication check.

(schemathesis's pytest plugin, `from_fixture(...).parametrize()`, fails on pytest 9 — it
reads the removed `Node._nodeid` — so the operations are looped over here with the
library's own strategies and its `not_a_server_error` check.)
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from web_support import add_users, make_settings

from allguide.web.app import create_app

MAX_EXAMPLES = 10


@pytest.fixture(scope="module")
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, dict[str, str]]:
    directory: Path = tmp_path_factory.mktemp("fuzz")
    seed: Path = request.getfixturevalue("_sqlite_seed")
    shutil.copyfile(seed, directory / "allguide.db")
    app = create_app(make_settings(f"sqlite:///{directory / 'allguide.db'}", directory / "var"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the lifespan
    headers = {"Authorization": f"Bearer {add_users(app)['carol']}"}
    return schema, headers


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(fuzzed: tuple[Any, dict[str, str]], mode: GenerationMode) -> None:
    schema, headers = fuzzed
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15  # the REST API is in the schema, not just a few routes

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=dict(headers), checks=[not_a_server_error])

        try:
            run()
        except Unsatisfiable:  # nothing to vary (e.g. no parameters to make invalid)
            continue
        except Exception as exc:  # collect all, then report together
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
