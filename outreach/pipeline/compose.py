"""Compose: the channel's OutboundMessage for one message, rendered from its template.

The template context comes from the batch's rows (debtor, account, the postal address on file,
the validation notice date) plus the signed pay / dispute / unsubscribe links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from outreach.channels.base import OutboundMessage, PostalAddress
from outreach.compliance.local_dates import local_today
from outreach.config.campaigns import Step
from outreach.config.settings import AgencySettings
from outreach.db.rows import MessageRow, PointRow
from outreach.links import LinkBuilder
from outreach.masking import mask
from outreach.pipeline.snapshot import BatchContext
from outreach.render.context import Links
from outreach.render.environment import Renderer
from outreach.render.message_context import build_context


@dataclass(frozen=True)
class Composer:
    """Composes one batch's messages (the dispatcher makes one per batch): an account's pay
    and dispute links are signed once for all its messages."""

    renderer: Renderer
    links: LinkBuilder
    agency: AgencySettings
    status_callbacks: bool = True
    _account_links: dict[int, tuple[str, str]] = field(default_factory=dict)

    def account_links(self, account_id: int) -> tuple[str, str]:
        """(pay, dispute) links of an account."""
        found = self._account_links.get(account_id)
        if found is None:
            found = self._account_links[account_id] = (
                self.links.pay(account_id),
                self.links.dispute(account_id),
            )
        return found

    def compose(
        self,
        batch: BatchContext,
        message: MessageRow,
        step: Step,
        point: PointRow,
        now: datetime,
        zones: tuple[str, ...],
        first_contact: bool,
    ) -> OutboundMessage:
        """Render `step`'s template for `message` to `point`; raises TemplateError."""
        debtor = batch.debtors[message.debtor_id]
        account = batch.accounts.get(message.account_id) if message.account_id else None
        points = batch.contact_points.get(message.debtor_id, [])
        address = (
            point
            if point.kind == "address"
            else next((p for p in points if p.kind == "address"), None)
        )
        unsubscribe = (
            self.links.unsubscribe(point.id, message.id) if step.channel == "email" else None
        )
        pay, dispute = (
            self.account_links(account.id)
            if account
            else (self.links.base_url, self.links.base_url)
        )
        links = Links(pay=pay, dispute=dispute, unsubscribe=unsubscribe)
        sent = batch.validation_sent.get(account.id) if account else None
        context = build_context(
            debtor=debtor,
            account=account,
            agency=self.agency,
            address=address,
            links=links,
            today=local_today(now, zones),
            validation_sent_on=local_today(sent, zones) if sent else None,
            campaign=message.campaign or "",
            step=step.id,
            first_contact=first_contact,
        )
        rendered = self.renderer.render(step.template, context)
        postal = None
        if point.kind == "address" and point.address:
            postal = PostalAddress.from_dict(debtor.full_name, point.address)
        return OutboundMessage(
            message_id=message.id,
            channel=step.channel,
            to=point.value if point.kind != "address" else debtor.full_name,
            text=rendered.text,
            subject=rendered.subject,
            html=rendered.html,
            template=step.template,
            account_ref=mask(account.account_number) if account else "",
            postal=postal,
            unsubscribe_url=unsubscribe,
            status_callback=(
                self.links.status_callback()
                if step.channel == "sms" and self.status_callbacks
                else None
            ),
        )
