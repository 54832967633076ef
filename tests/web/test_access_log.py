"""uvicorn's access log as create_app filters it: no query strings (the log's filters travel
there), the link tokens of the public pages and other random-looking segments masked to
their last 4 characters, ordinary paths left as they are."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest

from outreach.runtime import Runtime
from outreach.web.access_log import ACCESS_LOGGER
from outreach.web.app import create_app


def access_line(target: str) -> str:
    """What the access logger's filters make of uvicorn's line for `target`."""
    access = logging.getLogger(ACCESS_LOGGER)
    record = access.makeRecord(
        ACCESS_LOGGER,
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", target, "1.1", 200),
        None,
    )
    assert all(f.filter(record) for f in access.filters)
    return record.getMessage()


@pytest.fixture
def app_created(runtime: Runtime) -> Runtime:
    create_app(runtime, self_url="http://127.0.0.1:9", run_worker=False)
    return runtime


def test_link_tokens_keep_only_their_last_four(app_created: Runtime) -> None:
    links = app_created.links
    for url in (links.pay(7), links.dispute(7), links.unsubscribe(3, 12)):
        path = urlsplit(url).path
        prefix, token = path.rsplit("/", 1)
        line = access_line(f"{path}?utm_source=sms")
        assert line == (
            f'127.0.0.1:5000 - "GET {prefix}/{"*" * (len(token) - 4)}{token[-4:]}?… HTTP/1.1" 200'
        )


@pytest.mark.parametrize("prefix", ["/pay", "/dispute", "/u"])
def test_a_token_segment_is_masked_whatever_it_looks_like(
    app_created: Runtime, prefix: str
) -> None:
    """The routes' `{token}` segment, not only what looks random (a tampered or old link)."""
    line = access_line(f"{prefix}/not-a-token")
    assert line == f'127.0.0.1:5000 - "GET {prefix}/*******oken HTTP/1.1" 200'


def test_the_query_string_is_dropped(app_created: Runtime) -> None:
    line = access_line("/console/log?address=maria%40example.com&phone=%2B12125550143")
    assert line == '127.0.0.1:5000 - "GET /console/log?… HTTP/1.1" 200'


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("/api/things/Zx81QmT0a9Lp2sWv7Yc3", "/api/things/****************7Yc3"),
        ("/x/0123456789abcdef0123456789abcdef", "/x/****************************cdef"),
        ("/console/debtors/42/edit", "/console/debtors/42/edit"),
        ("/console/static/console.css", "/console/static/console.css"),
        ("/webhooks/twilio/sms", "/webhooks/twilio/sms"),
    ],
)
def test_random_looking_segments_are_masked_and_ordinary_ones_kept(
    app_created: Runtime, target: str, shown: str
) -> None:
    assert access_line(target) == f'127.0.0.1:5000 - "GET {shown} HTTP/1.1" 200'


def test_a_long_path_is_cut_and_the_status_still_shown(app_created: Runtime) -> None:
    line = access_line("/" + "1a" * 32_000 + "?q=1")
    assert len(line) < 1100
    assert line.endswith(f'…[{64_001 - 984} characters dropped]?… HTTP/1.1" 200')
