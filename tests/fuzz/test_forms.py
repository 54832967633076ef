"""Hypothesis on what no schema describes, because the routes read it themselves: the
console log's query string (page and CSV export), and the public pages a debtor reaches from
a link (unsubscribe, dispute), with real signed links and any form. No answer is a server
error; a dispute through a good link is always recorded."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from outreach.db.models import ContactPoint, InboundMessage
from outreach.web.logparams import LogParams
from tests.fuzz.conftest import FUZZ, Seeded

pytestmark = pytest.mark.db  # CI runs it again on PostgreSQL

# Any text a form or a query string can carry (surrogates cannot be encoded), NUL included.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=400)
VALUES = st.one_of(
    TEXT,
    st.integers().map(str),
    st.dates().map(str),
    st.sampled_from(["", "sms", "email", "sent", "blocked", "F7", "9999-12-31", "+12125550143"]),
)
LOG_KEYS = st.sampled_from([*LogParams.model_fields, "page", ""]) | TEXT


@given(query=st.dictionaries(LOG_KEYS, VALUES, max_size=6), csv=st.booleans())
@FUZZ
def test_the_log_answers_any_query_string_with_a_page_or_a_reason(
    console: tuple[TestClient, str], query: dict[str, str], csv: bool
) -> None:
    client, _ = console
    response = client.get("/console/log.csv" if csv else "/console/log", params=query)
    assert response.status_code in (200, 422), response.text[:500]


def _links(seeded: Seeded, page: str) -> list[tuple[str, bool]]:
    """Signed links of `page` (path, whether it names a row that exists)."""
    with seeded.runtime.factory() as session:
        emails = session.scalars(select(ContactPoint.id).where(ContactPoint.kind == "email"))
        ids = [*emails] if page == "unsubscribe" else list(seeded.accounts)
    links = seeded.runtime.links
    sign = links.unsubscribe if page == "unsubscribe" else links.dispute
    cut = len(links.base_url)
    return [
        (sign(n, 1)[cut:] if page == "unsubscribe" else sign(n)[cut:], n in ids)
        for n in [*ids, 999_999]
    ]


def _disputes(seeded: Seeded) -> int:
    with seeded.runtime.factory() as session:
        where = InboundMessage.intent == "dispute"
        return session.scalar(select(func.count()).select_from(InboundMessage).where(where)) or 0


FORM_KEYS = st.sampled_from(["reason", "List-Unsubscribe", "confirm", "csrf_token"]) | TEXT
FORMS = st.dictionaries(FORM_KEYS, st.one_of(VALUES, st.just("One-Click")), max_size=5)


@given(
    page=st.sampled_from(["unsubscribe", "dispute"]),
    pick=st.integers(min_value=0),
    tamper=st.one_of(st.none(), TEXT),
    form=FORMS,
    as_file=st.booleans(),
    method=st.sampled_from(["GET", "POST"]),
)
@FUZZ
def test_the_public_pages_answer_any_form_and_record_every_dispute(
    seeded: Seeded,
    page: str,
    pick: int,
    tamper: str | None,
    form: dict[str, str],
    as_file: bool,
    method: str,
) -> None:
    links = _links(seeded, page)
    path, exists = links[pick % len(links)]
    if tamper is not None:  # a link cut short and changed: not one this server signed
        path, exists = path[: len(path) // 2] + quote(tamper), False
    before = _disputes(seeded)
    with TestClient(seeded.app) as client:
        if method == "GET":
            response = client.get(path)
        elif as_file:
            files = {k: ("f.txt", v.encode()) for k, v in form.items()}
            response = client.post(path, files=files or {"reason": ("f.txt", b"")})
        else:
            response = client.post(path, data=form)
    assert response.status_code < 500, response.text[:500]
    posted_dispute = page == "dispute" and method == "POST"
    if posted_dispute and exists:
        assert response.status_code == 200, response.text[:500]
    recorded = posted_dispute and response.status_code == 200
    assert _disputes(seeded) == before + recorded
