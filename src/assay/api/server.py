"""Running the API under uvicorn."""

from __future__ import annotations

import uvicorn

from assay.api import logs
from assay.api.app import create_app
from assay.api.settings import Settings
from assay.services.app import Assay


def serve(settings: Settings, assay: Assay | None = None) -> None:
    """Serve until interrupted. Refuses to start outside development with a default secret."""
    settings.check_safe()
    logs.configure()
    app = create_app(settings, assay)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False,
                proxy_headers=False)
