"""install_console: the access log never shows the log's filters (they travel in the query
string)."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from outreach.clock import SimulatedClock
from outreach.config.loader import Config
from tests.console_helpers import make_app


def test_the_access_log_never_shows_the_log_filters(
    config: Config, engine: Engine, clock: SimulatedClock
) -> None:
    make_app(config, engine, clock)  # installs the filter on uvicorn's access logger
    access = logging.getLogger("uvicorn.access")
    record = access.makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/console/log?address=maria%40example.com", "1.1", 200),
        None,
    )
    assert all(f.filter(record) for f in access.filters)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /console/log?… HTTP/1.1" 200'
