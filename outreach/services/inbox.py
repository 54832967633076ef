"""Working the inbox: a reply dealt with (it leaves the inbox with its open tasks), a task
done. Each is one transaction; doing it twice changes nothing the second time."""

from __future__ import annotations

from sqlalchemy.orm import Session

from outreach.actions.casework import close_task, mark_inbound_handled
from outreach.db.casework import Task
from outreach.db.models import InboundMessage
from outreach.services.contract import Acting, Outcome, found


def reply_handled(session: Session, by: Acting, inbound_id: int) -> Outcome:
    with session.begin():
        inbound = found(session, InboundMessage, inbound_id, "reply")
        changed = mark_inbound_handled(session, by.now, by.actor, inbound)
    return Outcome(id=inbound_id, changed=changed)


def task_done(session: Session, by: Acting, task_id: int) -> Outcome:
    with session.begin():
        task = found(session, Task, task_id, "task")
        changed = close_task(session, by.now, by.actor, task)
    return Outcome(id=task_id, changed=changed)
