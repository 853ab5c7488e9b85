"""Fixtures for the HTTP API: the application over the `app` (Assay) fixture of each backend,
a client, and people with accounts and bearer tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.api.people import SECRET
from tests.api.seed import Seed, seed_world
from tests.conftest import BACKENDS, T0, Backend, empty_database

from assay.api.app import create_app
from assay.api.settings import Settings
from assay.services import accounts
from assay.services.app import Assay
from assay.services.clock import ManualClock

PLENTY = 1_000_000  # requests a minute: rate limits stay out of the way unless a test is about them


def api_settings(**overrides: object) -> Settings:
    values: dict[str, object] = dict(environment="test", secret_key=SECRET, background_workers=False,
                                     rate_limit_per_token=PLENTY, rate_limit_per_address=PLENTY)
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashing() -> Iterator[None]:
    """Argon2 with production costs takes a tenth of a second a password; tests create many accounts."""
    kept = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts._hasher = kept


@pytest.fixture
def server(app: Assay) -> FastAPI:
    return create_app(api_settings(), app)


@pytest.fixture
def client(server: FastAPI) -> Iterator[TestClient]:
    with TestClient(server) as client:
        yield client


@pytest.fixture(scope="module", params=BACKENDS)
def module_backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """An empty database kept for a whole module, for read-mostly tests over one seeded world.

    PostgreSQL reuses the worker's schema: tests run one at a time per worker, and a module's
    tests run together, so nothing else truncates it while the module runs."""
    return empty_database(request, tmp_path_factory.mktemp("world"))


@dataclass
class World:
    client: TestClient
    seed: Seed


@pytest.fixture(scope="module")
def world(module_backend: Backend) -> Iterator[World]:
    """The seeded world of tests/api/seed.py behind a client, once per module and backend."""
    engine = module_backend.engine()
    app = Assay(engine, clock=ManualClock(T0))
    seed = seed_world(app)
    with TestClient(create_app(api_settings(), app)) as client:
        yield World(client, seed)
    engine.dispose()
