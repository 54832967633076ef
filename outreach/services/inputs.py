"""The validated inputs of what agents, ops and admins may do. The console's forms and the
JSON API both parse into these models, so both accept (and refuse) exactly the same input."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from outreach.auth.users import NAME_MAX
from outreach.db.casework import Call, Payment
from outreach.db.models import Account, CampaignRow
from outreach.db.users import ApiToken
from outreach.services.fields import Blank, Day, Id, Moment, Money, Text, length_of
from outreach.vocabulary import CallOutcome, HoldKind, Role

NOTE_MAX = 10_000  # notes and call notes (text columns: a bound of their own)
REASON_MAX = 2_000  # why a hold, an opt-out or a settled send
PASSWORD_MAX = 1_000
TOKEN_NAME_MAX = length_of(ApiToken.name)

CampaignName = Annotated[Text, Field(max_length=length_of(CampaignRow.name))]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)  # forms carry csrf


class NoteIn(_In):
    body: Text = Field(min_length=1, max_length=NOTE_MAX)
    account_id: Blank[Id] = None


class CallIn(_In):
    outcome: CallOutcome
    at: Blank[Moment] = Field(default=None, description="when the call was made; default now")
    phone: Blank[Annotated[Text, Field(max_length=length_of(Call.phone))]] = None
    note: Text = Field(default="", max_length=NOTE_MAX)
    account_id: Blank[Id] = None


class HoldIn(_In):
    kind: HoldKind
    account_id: Blank[Id] = Field(default=None, description="none: a hold on the debtor")
    reason: Text = Field(default="", max_length=REASON_MAX)


class PaymentIn(_In):
    account_id: Id
    amount: Money
    method: Text = Field(default="other", min_length=1, max_length=length_of(Payment.method))
    reference: Blank[Annotated[Text, Field(max_length=length_of(Payment.reference))]] = None
    paid_at: Blank[Moment] = Field(default=None, description="default now")


class PromiseIn(_In):
    account_id: Id
    amount: Money
    due_on: Day


class OptOutIn(_In):
    contact_point_id: Id
    opted_out: bool
    reason: Text = Field(default="", max_length=REASON_MAX)


class EnrollIn(_In):
    account: Text = Field(
        min_length=1, max_length=length_of(Account.external_id), description="its external id"
    )


class UserIn(_In):
    name: Text = Field(min_length=2, max_length=NAME_MAX)
    role: Role
    password: Text = Field(min_length=10, max_length=PASSWORD_MAX)


class ResolveIn(_In):
    sent: bool = Field(description="true: it went out; false: it did not (it stops counting)")
    note: Text = Field(default="", max_length=REASON_MAX)


class RequeueIn(_In):
    note: Text = Field(default="", max_length=REASON_MAX)
