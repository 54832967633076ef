"""Writing a chunk of rows: merge with what is stored (only ever add; consent only towards
revoked), then bulk Core inserts and updates (executemany) on the import's connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from outreach.db.bulk import among, insert_rows
from outreach.db.models import Account, ContactPoint, Debtor, Hold, InboundMessage
from outreach.db.types import table_of
from outreach.portfolio.report import RowError
from outreach.portfolio.rows import Row

_CONSENT_RANK = {"unknown": 0, "granted": 1, "revoked": 2}


_DEBTOR_FIELDS = ("first_name", "last_name", "language", "stated_timezone")


_ACCOUNT_FIELDS = (
    "creditor",
    "original_creditor",
    "account_number",
    "balance",
    "itemization",
    "due_date",
    "days_past_due",
    "state",
    "time_barred",
    "tags",
)


_DEBTOR_DEFAULTS: dict[str, Any] = {"language": "en", "stated_timezone": None}


_ACCOUNT_DEFAULTS: dict[str, Any] = {
    "original_creditor": None,
    "due_date": None,
    "time_barred": False,
    "tags": [],
}


_DEBTORS, _ACCOUNTS = table_of(Debtor), table_of(Account)
_CONTACTS, _HOLDS = table_of(ContactPoint), table_of(Hold)


@dataclass(slots=True)
class _Stored:
    """A row's target as stored (id None: to insert), and whether this batch changed it."""

    id: int | None
    values: dict[str, Any]
    dirty: bool = False


@dataclass(slots=True)
class _StoredContact:
    id: int | None
    debtor_ext: str
    kind: str
    value: str
    label: str | None
    consent: str
    opted_out_at: datetime | None
    address: dict[str, str] | None
    source: str
    dirty: bool = False


class Batch:
    """Plans one chunk against what is stored (five queries), then writes it in bulk."""

    def __init__(self, conn: Connection, rows: list[Row], source: str, now: datetime) -> None:
        self.conn = conn
        self.source = source
        self.now = now
        self.debtors: dict[str, _Stored] = {}
        self.accounts: dict[str, _Stored] = {}
        self.account_owner: dict[str, str] = {}  # account ext -> debtor ext
        self.contacts: dict[tuple[str, str, str], _StoredContact] = {}
        self.holds: set[tuple[str, str | None, str]] = set()  # (debtor ext, account ext, kind)
        self.new_holds: list[tuple[str, str | None, str, int]] = []
        self._load({r.debtor_ext for r in rows}, {r.account_ext for r in rows})
        self.stopped_by_reply = _stopped_by_reply(
            conn, {c.value for r in rows for c in r.contacts if c.kind == "phone"}
        )

    def _load(self, debtor_exts: set[str], account_exts: set[str]) -> None:
        s = self.conn
        debtor_ext_by_id: dict[int, str] = {}
        for d in s.execute(
            select(
                Debtor.id, Debtor.external_id, *(getattr(Debtor, f) for f in _DEBTOR_FIELDS)
            ).where(among(s, Debtor.external_id, debtor_exts))
        ):
            debtor_ext_by_id[d.id] = d.external_id
            values = {f: getattr(d, f) for f in _DEBTOR_FIELDS}
            self.debtors[d.external_id] = _Stored(d.id, values)
        account_ext_by_id: dict[int, str] = {}
        for a in s.execute(
            select(
                Account.id,
                Account.external_id,
                Debtor.external_id.label("owner"),
                *(getattr(Account, f) for f in _ACCOUNT_FIELDS),
            )
            .join(Debtor, Account.debtor_id == Debtor.id)
            .where(among(s, Account.external_id, account_exts))
        ):
            account_ext_by_id[a.id] = a.external_id
            values = {f: getattr(a, f) for f in _ACCOUNT_FIELDS}
            self.accounts[a.external_id] = _Stored(a.id, values)
            self.account_owner[a.external_id] = a.owner
        if not debtor_ext_by_id:
            return
        for c in s.execute(
            select(
                ContactPoint.id,
                ContactPoint.debtor_id,
                ContactPoint.kind,
                ContactPoint.value,
                ContactPoint.label,
                ContactPoint.consent,
                ContactPoint.opted_out_at,
            ).where(among(s, ContactPoint.debtor_id, debtor_ext_by_id))
        ):
            ext = debtor_ext_by_id[c.debtor_id]
            self.contacts[(ext, c.kind, c.value)] = _StoredContact(
                c.id, ext, c.kind, c.value, c.label, c.consent, c.opted_out_at, None, ""
            )
        for debtor_id, account_id, kind in s.execute(
            select(Hold.debtor_id, Hold.account_id, Hold.kind).where(
                among(s, Hold.debtor_id, debtor_ext_by_id), Hold.released_at.is_(None)
            )
        ):
            if account_id is None:
                self.holds.add((debtor_ext_by_id[debtor_id], None, kind))
            elif account_id in account_ext_by_id:
                self.holds.add((debtor_ext_by_id[debtor_id], account_ext_by_id[account_id], kind))

    def apply(self, row: Row) -> str | RowError:
        """Fold one row into the plan: 'created', 'updated', 'unchanged' or why not."""
        owner = self.account_owner.get(row.account_ext)
        if owner is not None and owner != row.debtor_ext:
            reason = f"account {row.account_ext} belongs to debtor {owner}, not {row.debtor_ext}"
            return RowError(row.line, "account_id", reason, row.account_ext)
        changed = False

        debtor = self.debtors.get(row.debtor_ext)
        if debtor is None:
            debtor = _Stored(None, _DEBTOR_DEFAULTS | row.debtor)
            self.debtors[row.debtor_ext] = debtor
        else:
            changed |= _merge(debtor, row.debtor)

        account = self.accounts.get(row.account_ext)
        created = account is None
        if account is None:
            values = _ACCOUNT_DEFAULTS | row.account | {"tags": list(row.tags)}
            self.accounts[row.account_ext] = _Stored(None, values)
            self.account_owner[row.account_ext] = row.debtor_ext
        else:
            tags = account.values["tags"] or []
            merged_tags = tags + [t for t in row.tags if t not in tags]
            changed |= _merge(account, row.account | {"tags": merged_tags})

        source = f"{self.source}:{row.line}"
        for c in row.contacts:
            key = (row.debtor_ext, c.kind, c.value)
            stored = self.contacts.get(key)
            if stored is None:
                stopped_at = self.stopped_by_reply.get(c.value) if c.kind == "phone" else None
                consent = "revoked" if stopped_at is not None else c.consent
                self.contacts[key] = _StoredContact(
                    None,
                    row.debtor_ext,
                    c.kind,
                    c.value,
                    c.label,
                    consent,
                    stopped_at or (self.now if consent == "revoked" else None),
                    c.address,
                    source,
                )
                changed = True
                continue
            if c.label is not None and c.label != stored.label:
                stored.label, stored.dirty, changed = c.label, True, True
            if _CONSENT_RANK[c.consent] > _CONSENT_RANK.get(stored.consent, 0):
                stored.consent, stored.dirty, changed = c.consent, True, True
                if c.consent == "revoked" and stored.opted_out_at is None:
                    stored.opted_out_at = self.now

        if row.hold is not None:
            kind, scope = row.hold
            hold_key = (row.debtor_ext, row.account_ext if scope == "account" else None, kind)
            if hold_key not in self.holds:
                self.holds.add(hold_key)
                self.new_holds.append((*hold_key, row.line))
                changed = True

        if created:
            return "created"
        return "updated" if changed else "unchanged"

    def write(self) -> None:
        # New rows go in at the driver's speed (outreach.db.bulk); the new debtors' ids are
        # read back by external id (one indexed query), as RETURNING would cost a Core insert.
        s, now = self.conn, self.now
        new = [(ext, d) for ext, d in self.debtors.items() if d.id is None]
        if new:
            rows = [{"external_id": ext} | d.values for ext, d in new]
            insert_rows(s, _DEBTORS, rows, {"created_at": now})
            for ext, id_ in s.execute(
                select(_DEBTORS.c.external_id, _DEBTORS.c.id).where(
                    among(s, _DEBTORS.c.external_id, [ext for ext, _ in new])
                )
            ):
                self.debtors[ext].id = id_
        changed = [{"row_id": d.id, **d.values} for d in self.debtors.values() if d.dirty]
        if changed:
            s.execute(_by_id(_DEBTORS), changed)

        new = [(ext, a) for ext, a in self.accounts.items() if a.id is None]
        insert_rows(
            s,
            _ACCOUNTS,
            [
                {"external_id": ext, "debtor_id": self.debtors[self.account_owner[ext]].id}
                | a.values
                for ext, a in new
            ],
            {"created_at": now},
        )
        held = {acc for _, acc, _, _ in self.new_holds if acc and self.accounts[acc].id is None}
        if held:  # an account-scoped hold on a new account: its id
            for ext, id_ in s.execute(
                select(_ACCOUNTS.c.external_id, _ACCOUNTS.c.id).where(
                    among(s, _ACCOUNTS.c.external_id, held)
                )
            ):
                self.accounts[ext].id = id_
        changed = [{"row_id": a.id, **a.values} for a in self.accounts.values() if a.dirty]
        if changed:
            s.execute(_by_id(_ACCOUNTS), changed)

        new_contacts = [
            {
                "debtor_id": self.debtors[c.debtor_ext].id,
                "kind": c.kind,
                "value": c.value,
                "label": c.label,
                "address": c.address,
                "consent": c.consent,
                "opted_out_at": c.opted_out_at,
                "source": c.source,
            }
            for c in self.contacts.values()
            if c.id is None
        ]
        insert_rows(s, _CONTACTS, new_contacts, {"created_at": now})
        changed = [
            {"row_id": c.id, "label": c.label, "consent": c.consent, "opted_out_at": c.opted_out_at}
            for c in self.contacts.values()
            if c.dirty
        ]
        if changed:
            s.execute(_by_id(_CONTACTS), changed)

        if self.new_holds:
            s.execute(
                insert(_HOLDS),
                [
                    {
                        "debtor_id": self.debtors[debtor_ext].id,
                        "account_id": self.accounts[acc_ext].id if acc_ext else None,
                        "kind": kind,
                        "reason": f"stated in the portfolio file, line {line}",
                        "source": f"{self.source}:{line}",
                        "created_at": now,
                    }
                    for debtor_ext, acc_ext, kind, line in self.new_holds
                ],
            )


def _by_id(table: Table) -> Any:
    """UPDATE table SET (the parameters' other keys) WHERE id = :row_id, for executemany."""
    return update(table).where(table.c.id == bindparam("row_id"))


def _stopped_by_reply(conn: Connection, phones: set[str]) -> dict[str, datetime]:
    """Numbers whose last word to us was an opt-out (maybe before they were in the
    portfolio, answered then as an unknown number): a new contact point for one of them
    starts opted out (T1), so an import can never undo a STOP."""
    if not phones:
        return {}
    last: dict[str, tuple[str | None, datetime]] = {}
    for number, intent, at in conn.execute(
        select(InboundMessage.from_address, InboundMessage.intent, InboundMessage.received_at)
        .where(
            InboundMessage.channel == "sms",
            among(conn, InboundMessage.from_address, phones),
            InboundMessage.intent.in_(("opt_out", "opt_in")),
        )
        .order_by(InboundMessage.received_at, InboundMessage.id)
    ):
        last[number] = (intent, at)
    return {number: at for number, (intent, at) in last.items() if intent == "opt_out"}


def _merge(stored: _Stored, incoming: dict[str, Any]) -> bool:
    """Copy the given values over the stored ones; True when something differed."""
    changed = False
    for key, value in incoming.items():
        if stored.values.get(key) != value:
            stored.values[key] = value
            changed = True
    stored.dirty |= changed
    return changed
