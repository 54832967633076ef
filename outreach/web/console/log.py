"""The message log: filtered and paged by a keyset cursor, exported as CSV (streamed,
masked), and one message's page with the events of its life."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.responses import Response

from outreach.csv_export import SafeWriter
from outreach.queries.log import EXPORT_COLUMNS, iter_export
from outreach.queries.message import message_record
from outreach.services.fields import Id
from outreach.web.console.paths import console_router
from outreach.web.console.templating import page
from outreach.web.deps import ConsoleAgent, DbSession, RuntimeDep
from outreach.web.logparams import LogParams

router = console_router()


def _log_params(request: Request) -> tuple[LogParams | None, str | None]:
    try:
        return LogParams.model_validate(dict(request.query_params)), None
    except ValidationError as exc:
        return None, _validation_text(exc)


def _validation_text(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
    )


@router.get("/log")
def log_view(
    request: Request, principal: ConsoleAgent, session: DbSession, runtime: RuntimeDep
) -> Response:
    params, error = _log_params(request)
    rows: list[dict[str, Any]] = []
    next_url = None
    if params is not None:
        settings = runtime.config.file
        try:
            result = params.page(
                session, region=settings.default_region, size=settings.console.page_size
            )
        except ValueError as exc:
            error = str(exc)
        else:
            rows = result.rows
            if result.next_before is not None:
                next_url = "?" + urlencode(params.query(before=result.next_before))
    shown = params or LogParams()
    return page(
        request,
        principal,
        "log.html",
        title="Message log",
        status=422 if error else 200,
        error=error,
        params=shown,
        rows=rows,
        next_url=next_url,
        first_url="?" + urlencode(shown.query(before=None)) if shown.before else None,
        csv_url="log.csv?" + urlencode(shown.query(before=None)),
    )


@router.get("/log.csv")
def log_csv(request: Request, principal: ConsoleAgent, runtime: RuntimeDep) -> Response:
    params, error = _log_params(request)
    if params is None:
        raise HTTPException(422, error)
    try:
        address = params.to_address(runtime.config.file.default_region)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = SafeWriter(buffer)  # cells a spreadsheet reads as text, never as formulas
        writer.writerow(EXPORT_COLUMNS)
        for n, row in enumerate(iter_export(runtime.factory, params.log_filter(), address=address)):
            row["rules"] = " ".join(row["rules"])
            row["reasons"] = " | ".join(row["reasons"])
            writer.writerow(row[column] for column in EXPORT_COLUMNS)
            if n % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="message-log.csv"'},
    )


@router.get("/messages/{message_id}")
def message_view(
    request: Request, message_id: Id, principal: ConsoleAgent, session: DbSession
) -> Response:
    record = message_record(session, message_id)
    if record is None:
        raise HTTPException(404, f"no message {message_id}")
    return page(
        request,
        principal,
        "message.html",
        title=f"Message {message_id}",
        message=record.message,
        events=record.events,
    )
