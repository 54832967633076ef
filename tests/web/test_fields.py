"""Every field of every route is bounded, as its schema says: text has a maximum length and
refuses NUL, an integer has a maximum. The console's routes are out of the published OpenAPI
document, so the check builds one with them in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from outreach.runtime import Runtime
from outreach.services.fields import NO_NUL
from tests.route_schema import every_route_schema

# Strings whose values the schema already closes: a choice, a calendar format.
_CLOSED = ("enum", "const")
_FORMATS = ("date", "date-time")


def _leaves(schema: dict[str, Any], defs: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    """Each scalar schema in `schema` with where it is, through $ref, anyOf and properties."""
    if "$ref" in schema:
        yield from _leaves(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, where)
    elif "anyOf" in schema:
        choices = schema["anyOf"]
        if any(c.get("type") == "number" for c in choices):  # a Decimal: number or its string
            yield where, {"type": "money", **schema}
            return
        for n, choice in enumerate(choices):
            yield from _leaves(choice, defs, f"{where}|{n}")
    elif schema.get("type") == "object" and "properties" in schema:
        for name, prop in schema["properties"].items():
            yield from _leaves(prop, defs, f"{where}.{name}")
    else:
        yield where, schema


def _route_leaves(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    defs = document.get("components", {}).get("schemas", {})
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            here = f"{method.upper()} {path}"
            for param in operation.get("parameters", []):
                yield from _leaves(param["schema"], defs, f"{here} {param['name']}")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                yield from _leaves(media["schema"], defs, f"{here} body")


def _unbounded(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if any(k in schema for k in _CLOSED) or schema.get("format") in _FORMATS:
        return None
    if kind == "string":
        if "maxLength" not in schema and "pattern" not in schema:
            return "no maxLength"
        if "maxLength" in schema and schema.get("pattern") != NO_NUL:
            return "NUL not refused"
    if kind == "integer" and "maximum" not in schema:
        return "no maximum"
    return None


def test_every_text_and_integer_of_every_route_has_its_bound(runtime: Runtime) -> None:
    document = every_route_schema(runtime)
    leaves = list(_route_leaves(document))
    assert any("/console/debtors/{debtor_id}/notes body.body" in w for w, _ in leaves)
    unbounded = [f"{where}: {why}" for where, s in leaves if (why := _unbounded(s))]
    assert not unbounded, "\n".join(unbounded)
