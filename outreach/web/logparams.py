"""The message log's filters as the console's query string and the API's query parameters:
one model, so both accept (and refuse) exactly the same input."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from outreach.db.models import Message
from outreach.queries.log import RULE_ID, LogFilter, LogPage, log_page
from outreach.services.fields import Blank, Day, Id, Text, length_of
from outreach.vocabulary import Channel, MessageState

Search = Blank[Annotated[Text, Field(max_length=length_of(Message.to_address))]]
RuleId = Blank[Annotated[str, Field(pattern=RULE_ID.pattern)]]


class LogParams(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    debtor: Search = Field(default=None, description="debtor external id")
    account: Search = Field(default=None, description="account external id")
    address: Search = Field(default=None, description="a phone number (any format) or an email")
    channel: Blank[Channel] = None
    state: Blank[MessageState] = None
    rule: RuleId = Field(default=None, description="a compliance rule id, e.g. F1")
    campaign: Search = None
    since: Blank[Day] = Field(default=None, description="due on or after this day (UTC)")
    until: Blank[Day] = Field(default=None, description="due on or before this day (UTC)")
    before: Blank[Id] = Field(default=None, description="cursor: messages older than this id")

    def log_filter(self) -> LogFilter:
        return LogFilter(
            debtor=self.debtor,
            account=self.account,
            channel=self.channel,
            state=self.state,
            campaign=self.campaign,
            rule=self.rule,
            since=datetime.combine(self.since, time(0), tzinfo=UTC) if self.since else None,
            until=(
                datetime.combine(self.until + timedelta(days=1), time(0), tzinfo=UTC)
                if self.until
                else None
            ),
        )

    def to_address(self, region: str) -> str | None:
        """The address as stored (E.164 or lower-case email); ValueError names the field."""
        if not self.address:
            return None
        if "@" in self.address:
            return self.address.lower()
        try:
            number = phonenumbers.parse(self.address, region)
        except phonenumbers.NumberParseException:
            raise ValueError(f"address: {self.address!r} is not a phone number or email") from None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def page(self, session: Session, *, region: str, size: int) -> LogPage:
        """The page of the log these filters ask for; ValueError names a bad address."""
        address = self.to_address(region)
        return log_page(
            session, self.log_filter(), address=address, before_id=self.before, size=size
        )

    def query(self, **override: Any) -> dict[str, str]:
        """The filters as query-string values (for links to other pages of the same list)."""
        values = {**self.model_dump(exclude_none=True), **override}
        return {k: str(v) for k, v in values.items() if v is not None}
