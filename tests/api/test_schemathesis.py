"""The API against its own OpenAPI document, with data Schemathesis generates: valid and
invalid, as an admin and as a rights holder. No answer is a server error, every answer is
one the document declares, in the declared shape, and invalid input is refused.

Run on SQLite only: what it finds lives in the API layer, which is the same on both backends,
and the access matrix and the behaviour tests cover PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine
from tests.api.conftest import api_settings
from tests.api.seed import Seed, seed_world
from tests.conftest import T0, Backend

from assay.api.app import create_app
from assay.services.app import Assay
from assay.services.clock import ManualClock

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
CALLERS = ("admin", "holder_a")


@dataclass
class Served:
    app: FastAPI
    seed: Seed


@pytest.fixture(scope="module")
def served(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    target = tmp_path_factory.mktemp("schemathesis") / "assay.db"
    shutil.copy(sqlite_template, target)
    engine = Backend("sqlite", f"sqlite:///{target}", {}).engine()
    assay = Assay(engine, clock=ManualClock(T0))
    seed = seed_world(assay)
    yield Served(create_app(api_settings(), assay), seed)
    engine.dispose()


def _document_only() -> FastAPI:
    """The application as far as its OpenAPI document goes: no database is reached to serve it."""
    return create_app(api_settings(), Assay(create_engine("sqlite://")))


# Loaded when the module is, as Schemathesis wants; the tests call the seeded application.
schema = schemathesis.openapi.from_asgi("/openapi.json", _document_only())
# A few examples of each operation, valid and invalid. The coverage phase (every boundary of
# every field) finds more but takes minutes; its findings are kept as tests in test_errors.py.
schema.config.phases.coverage.enabled = False


@schema.parametrize()
@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_documented_promises(case: schemathesis.Case, served: Served) -> None:
    in_use = {served.seed.people[who].token_id for who in CALLERS}
    if case.path_parameters and case.path_parameters.get("token_id") in in_use:
        return  # revoking the token a caller signs in with would end the run early
    for who in CALLERS:
        case.call_and_validate(app=served.app, headers=served.seed.people[who].headers, checks=CHECKS)
