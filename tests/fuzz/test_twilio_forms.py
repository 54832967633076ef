"""Fuzz the Twilio form endpoints through the real app (Starlette's TestClient, the test
database): random keys and values (unicode, NUL, very long, repeated keys).

- unsigned or wrongly signed (no header, garbage, another URL, another token, other params):
  403, and nothing stored or changed;
- signed by the account's token, random values in Twilio's shape or not: never a 5xx; an
  accepted SMS is stored (NUL dropped) under its MessageSid.

OUTREACH_FUZZ_EXAMPLES=N runs N examples per test instead of the CI size (a few hundred, about
half a minute in all); OUTREACH_FUZZ_REPORT=path appends the counts as one JSON line. The counts
(requests, 5xx, unsigned accepted) are printed at the end of the module either way.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from outreach.clock import SimulatedClock
from outreach.db.models import ContactPoint, InboundMessage, Message, MessageEvent
from outreach.inbound.twilio_form import SMS_FIELDS, STATUS_FIELDS
from outreach.runtime import Runtime
from outreach.web.app import create_app
from tests.factories import PHONE, add_sent_sms
from tests.fuzz.size import LONG_RUN, examples

PATHS = ("/webhooks/twilio/sms", "/webhooks/twilio/status")
ACCOUNT_SID = "AC" + "0" * 32
KNOWN_SID = "SM" + "5" * 32  # a message we sent, for the status callbacks
CI_EXAMPLES = {"unsigned": 250, "sms": 200, "status": 150}

COUNTS: Counter[str] = Counter()
_fresh = itertools.count(1)


def fuzz(name: str) -> settings:
    """The size of one fuzz test: CI's, or OUTREACH_FUZZ_EXAMPLES for a longer local run."""
    return settings(
        max_examples=examples(CI_EXAMPLES[name]),
        deadline=None,
        database=None,  # the same examples every run, not the ones a past run kept
        derandomize=not LONG_RUN,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # one app and database for all examples
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# --- strategies --------------------------------------------------------------------------------

_chars = st.characters(exclude_categories=["Cs"])  # lone surrogates cannot be sent as UTF-8
_hex = st.text("0123456789abcdefABCDEF", min_size=32, max_size=32)
TRICKY = [
    "",
    "\x00",
    "STOP",
    "START",
    "HELP",
    "not my debt",
    "PROMISE 50 12/15",
    "PAY",
    "ST\x00OP",
    "😀" * 40,
    "\u202e\u200b",
    "\r\n",
    "%00",
    "' OR 1=1 --",
    "{{ 7*7 }}",
    "<Response/>",
    PHONE,
    "whatsapp:" + PHONE,
    ACCOUNT_SID,
    KNOWN_SID,
    "SM" + "0" * 40,
    "MG" + "1" * 32,
]
values = st.one_of(
    st.sampled_from(TRICKY),
    st.text(_chars, max_size=40),
    st.builds(lambda c, n: c * n, st.sampled_from("x\x00é😀 "), st.integers(0, 5000)),
)
keys = st.one_of(
    st.sampled_from(sorted({*SMS_FIELDS, *STATUS_FIELDS, "MediaUrl0", "MediaUrl11"})),
    st.text(_chars, min_size=1, max_size=30),
)
random_pairs = st.lists(st.tuples(keys, values), max_size=12)
sids = st.builds(lambda p, h: p + h, st.sampled_from(["SM", "MM"]), _hex) | st.uuids().map(
    lambda u: "SM" + u.hex
)


def shaped(fields: dict[str, Any], key: str) -> st.SearchStrategy[str]:
    """A value of the field's format (free text: anything, NUL included, cut to its bound)."""
    spec = fields[key]
    if spec.pattern is not None:
        return st.from_regex(spec.pattern, fullmatch=True)
    return values.map(lambda v: v[: spec.max_length])


@st.composite
def twilio_forms(
    draw: st.DrawFn,
    fields: dict[str, Any],
    required: dict[str, st.SearchStrategy[str]],
    *,
    corrupt: bool,
) -> list[tuple[str, str]]:
    """Twilio's shape: the required fields, optional ones of their format (free text with
    NUL and the like). `corrupt`: then one value of any shape, and maybe one more key (an
    unknown or a repeated one)."""
    form = {k: draw(v) for k, v in required.items()}
    optional = draw(st.lists(st.sampled_from(sorted(set(fields) - set(form))), max_size=6))
    form.update({k: draw(shaped(fields, k)) for k in optional if k not in _SAME_AS_SID})
    if corrupt:
        form[draw(st.sampled_from(sorted(form)))] = draw(values)
    pairs = list(form.items())
    return pairs + (draw(st.lists(st.tuples(keys, values), max_size=1)) if corrupt else [])


_SAME_AS_SID = {"SmsSid", "SmsMessageSid"}
_SMS_REQUIRED = {
    "AccountSid": st.sampled_from([ACCOUNT_SID] * 9 + ["AC" + "1" * 32]),
    "MessageSid": sids,
    "From": st.sampled_from([PHONE, "+13125550100", "ACME", "whatsapp:" + PHONE]),
    "Body": values,
}
_STATUS_REQUIRED = {
    "AccountSid": st.just(ACCOUNT_SID),
    "MessageSid": st.sampled_from([KNOWN_SID]) | sids,
    "MessageStatus": st.sampled_from(
        ["queued", "sent", "delivered", "undelivered", "failed", "read", "bogus"]
    ),
}
sms_forms = st.one_of(
    twilio_forms(SMS_FIELDS, _SMS_REQUIRED, corrupt=False),
    twilio_forms(SMS_FIELDS, _SMS_REQUIRED, corrupt=False),
    twilio_forms(SMS_FIELDS, _SMS_REQUIRED, corrupt=True),
)
status_forms = st.one_of(
    twilio_forms(STATUS_FIELDS, _STATUS_REQUIRED, corrupt=False),
    twilio_forms(STATUS_FIELDS, _STATUS_REQUIRED, corrupt=True),
)


# --- the app and what it stored -----------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def report(request: pytest.FixtureRequest) -> Iterator[None]:
    COUNTS.clear()
    COUNTS.update({"5xx": 0, "unsigned accepted": 0})  # printed even when none
    yield
    line = json.dumps(dict(sorted(COUNTS.items())))
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else _nothing():
        print(f"\ntwilio form fuzz: {line}")
    if path := os.environ.get("OUTREACH_FUZZ_REPORT"):
        with open(path, "a") as out:
            out.write(line + "\n")


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


@pytest.fixture
def app(runtime: Runtime, clock: SimulatedClock) -> Iterator[TestClient]:
    add_sent_sms(runtime.factory, clock.now(), KNOWN_SID)
    web = create_app(runtime, self_url="http://127.0.0.1:1", run_worker=False)
    with TestClient(web, base_url="http://testserver", raise_server_exceptions=False) as client:
        yield client


def footprint(runtime: Runtime) -> tuple[int, ...]:
    """What a request could change: inbound rows, messages, their events, opt-outs."""
    with runtime.factory() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model).where(*where)) or 0
            for model, where in (
                (InboundMessage, ()),
                (Message, ()),
                (MessageEvent, ()),
                (ContactPoint, (ContactPoint.opted_out_at.is_not(None),)),
            )
        )


def post(
    client: TestClient, path: str, pairs: list[tuple[str, str]], signature: str | None
) -> httpx.Response:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    response = client.post(path, content=urlencode(pairs), headers=headers)
    COUNTS["requests"] += 1
    COUNTS[f"status {response.status_code}"] += 1
    if response.status_code >= 500:
        COUNTS["5xx"] += 1
    return response


def signature_for(token: str, url: str, pairs: list[tuple[str, str]]) -> str:
    signature: str = RequestValidator(token).compute_signature(url, ImmutableMultiDict(pairs))
    return signature


# --- the fuzz ---------------------------------------------------------------------------------


@fuzz("unsigned")
@given(
    path=st.sampled_from(PATHS),
    pairs=random_pairs | sms_forms | status_forms,
    how=st.sampled_from(["none", "garbage", "other url", "other token", "other params"]),
    garbage=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=60),
)
def test_unsigned_or_wrongly_signed_is_never_accepted(
    app: TestClient,
    runtime: Runtime,
    path: str,
    pairs: list[tuple[str, str]],
    how: str,
    garbage: str,
) -> None:
    assume(len(urlencode(pairs)) < 60_000)  # under the body limit: the signature decides
    url = runtime.config.public_url + path
    token = runtime.config.twilio_credentials[1]
    right = signature_for(token, url, pairs)
    signature = {
        "none": None,
        "garbage": garbage,
        "other url": signature_for(token, "http://testserver" + path, pairs),
        "other token": signature_for(token + "x", url, pairs),
        "other params": signature_for(token, url, [*pairs, ("Body", "START")]),
    }[how]
    assume(signature != right)
    before = footprint(runtime)
    response = post(app, path, pairs, signature)
    if response.status_code != 403:
        COUNTS["unsigned accepted"] += 1
    assert response.status_code == 403, response.text
    assert footprint(runtime) == before


@fuzz("sms")
@given(pairs=st.one_of(sms_forms, random_pairs), fresh=st.booleans())
def test_a_signed_sms_form_never_gets_a_5xx(
    app: TestClient, runtime: Runtime, pairs: list[tuple[str, str]], fresh: bool
) -> None:
    """`fresh`: a MessageSid no example sent before (examples repeat SIDs: replays)."""
    path = "/webhooks/twilio/sms"
    url = runtime.config.public_url + path
    if fresh:
        sid = f"SM{next(_fresh):032x}"
        pairs = [(k, sid if k in ("MessageSid", *_SAME_AS_SID) else v) for k, v in pairs]
    form = dict(pairs)
    seen = stored_body(runtime, form.get("MessageSid", ""))
    signature = signature_for(runtime.config.twilio_credentials[1], url, pairs)
    response = post(app, path, pairs, signature)
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        body = stored_body(runtime, form["MessageSid"])
        assert body is not None and "\x00" not in body
        if seen is None:  # not a replay of an SID an earlier example sent
            assert body == form["Body"].replace("\x00", "")
            COUNTS["sms stored"] += 1
        else:
            COUNTS["sms replayed"] += 1


def stored_body(runtime: Runtime, sid: str) -> str | None:
    with runtime.factory() as session:
        return session.scalar(select(InboundMessage.body).where(InboundMessage.provider_id == sid))


@fuzz("status")
@given(pairs=st.one_of(status_forms, random_pairs))
def test_a_signed_status_form_never_gets_a_5xx(
    app: TestClient, runtime: Runtime, pairs: list[tuple[str, str]]
) -> None:
    path = "/webhooks/twilio/status"
    url = runtime.config.public_url + path
    response = post(
        app, path, pairs, signature_for(runtime.config.twilio_credentials[1], url, pairs)
    )
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        COUNTS["status accepted"] += 1
