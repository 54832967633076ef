"""Who sent an inbound SMS, as far as the portfolio can tell: the contact points with that number,
the debtor (the last one we texted there when several share it), the account, and the zones for
reading "Friday"."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.compliance import DebtorSnapshot, candidate_zones
from outreach.db.models import Account, ContactPoint, Debtor, Message
from outreach.pipeline.snapshot import debtor_zones
from outreach.vocabulary import RESPONSE_KINDS

log = logging.getLogger(__name__)


@dataclass
class Sender:
    """Who the number belongs to, as far as the portfolio can tell."""

    points: list[ContactPoint]
    debtor: Debtor | None
    account: Account | None
    open_accounts: list[Account]
    shared: bool  # the number is on file for several debtors

    @property
    def known(self) -> bool:
        return self.debtor is not None


def identify_sender(session: Session, phone: str) -> Sender:
    points = list(
        session.scalars(
            select(ContactPoint)
            .where(ContactPoint.kind == "phone", ContactPoint.value == phone)
            .order_by(ContactPoint.id)
        )
    )
    debtor_ids = sorted({p.debtor_id for p in points})
    last = _last_sms(session, phone, debtor_ids)
    debtor_id = debtor_ids[0] if len(debtor_ids) == 1 else (last.debtor_id if last else None)
    if debtor_id is None:
        return Sender(points, None, None, [], shared=len(debtor_ids) > 1)
    debtor = session.get(Debtor, debtor_id)
    open_accounts = list(
        session.scalars(
            select(Account)
            .where(Account.debtor_id == debtor_id, Account.status == "open")
            .order_by(Account.id)
        )
    )
    by_id = {a.id: a for a in open_accounts}
    account = (
        by_id.get(last.account_id)
        if last is not None and last.debtor_id == debtor_id and last.account_id in by_id
        else (open_accounts[0] if len(open_accounts) == 1 else None)
    )
    return Sender(points, debtor, account, open_accounts, shared=len(debtor_ids) > 1)


def _last_sms(session: Session, phone: str, debtor_ids: Sequence[int]) -> Message | None:
    """The latest SMS we sent to this number: the message a reply most likely answers."""
    if not debtor_ids:
        return None
    return session.scalars(
        select(Message)
        .where(
            Message.debtor_id.in_(debtor_ids),
            Message.channel == "sms",
            Message.to_address == phone,
            Message.sent_at.is_not(None),
            Message.kind.not_in(RESPONSE_KINDS),
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    ).first()


def sender_zones(session: Session, sender: Sender, phone: str) -> tuple[str, ...]:
    """Where the sender is, for "Friday" and "tomorrow": the evidence the contact window
    uses for the debtor (stated zone, address, phones) with the phone that texted us."""
    if sender.debtor is None:
        return candidate_zones(DebtorSnapshot(), to=phone)
    return debtor_zones(session, sender.debtor.id, to=phone)
