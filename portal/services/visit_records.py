"""探访记录: the visit record under the headings of the national guidance for visiting
special-hardship elders — health and mood; daily living and money; family support (赡养); home
safety; needs. One tap per heading, not an essay. A risky answer opens a follow-up task for the
community worker with a deadline; the elder's record shows the answers month by month."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.i18n import _l
from portal.models import FollowUp, Visit, VisitRecord
from portal.services import DomainError
from portal.services.compliance.periods import local_date


@dataclass(frozen=True)
class Heading:
    key: str
    group: object          # the guidance's heading this question sits under
    question: object
    choices: tuple         # (value, label); the first is the good answer
    risky: dict            # value → (what the worker should do, days to do it in)


HEALTH, LIVING, FAMILY, SAFETY, NEEDS = (_l("Health and mood"), _l("Daily living and money"),
                                         _l("Family support"), _l("Home safety"), _l("Needs"))
HEADINGS = (
    Heading("health", HEALTH, _l("How is her health?"),
            (("good", _l("Well")), ("unwell", _l("Unwell")), ("poor", _l("Seriously ill"))),
            {"poor": (_l("See that she gets medical care"), 1)}),
    Heading("mood", HEALTH, _l("How is her mood?"),
            (("good", _l("Cheerful")), ("low", _l("Low")), ("very_low", _l("Very low, withdrawn"))),
            {"very_low": (_l("Visit again and talk with her"), 3)}),
    Heading("food", LIVING, _l("Does she have enough food?"),
            (("yes", _l("Enough")), ("no", _l("Not enough"))), {"no": (_l("Arrange meals"), 1)}),
    Heading("medicine", LIVING, _l("Does she have her medicine?"),
            (("yes", _l("Has it")), ("no", _l("Missing"))), {"no": (_l("Get her medicine"), 2)}),
    Heading("benefits", LIVING, _l("Does she receive her benefits?"),
            (("yes", _l("Received them")), ("no", _l("Not received")), ("unsure", _l("Not sure"))),
            {"no": (_l("Check her benefits with the civil affairs office"), 7)}),
    Heading("family", FAMILY, _l("Does her family keep up their support?"),
            (("yes", _l("Supportive")), ("partly", _l("Partly")), ("no", _l("Not supporting"))),
            {"no": (_l("Talk to the family"), 7)}),
    Heading("utilities", SAFETY, _l("Water and electricity"),
            (("ok", _l("Fine")), ("problem", _l("A problem"))), {"problem": (_l("Arrange a repair"), 2)}),
    Heading("gas", SAFETY, _l("Gas"),
            (("ok", _l("Fine")), ("none", _l("No gas at home")), ("hazard", _l("A hazard (smell, old hose, left on)"))),
            {"hazard": (_l("Arrange a gas repair"), 1)}),
    Heading("heating", SAFETY, _l("Heating"),
            (("ok", _l("Warm enough")), ("cold", _l("Too cold"))), {"cold": (_l("Arrange heating"), 2)}),
    Heading("falls", SAFETY, _l("Falls"),
            (("none", _l("No fall, no danger seen")), ("risk", _l("Risk of a fall (slippery, clutter, no rail)")),
             ("fell", _l("She has fallen"))),
            {"risk": (_l("Arrange home adaptation against falls"), 14), "fell": (_l("Check on her after the fall"), 1)}),
    Heading("needs", NEEDS, _l("What does she need most?"),
            (("none", _l("Nothing more")), ("care", _l("Daily care")), ("rehabilitation", _l("Rehabilitation")),
             ("company", _l("Company")), ("adaptation", _l("Home adaptation"))),
            {"care": (_l("Arrange daily care"), 7), "rehabilitation": (_l("Arrange rehabilitation"), 14),
             "adaptation": (_l("Arrange home adaptation"), 14)}),
)
BY_KEY = {h.key: h for h in HEADINGS}


def label(key: str, value: str | None) -> str:
    heading = BY_KEY.get(key)
    return str(dict(heading.choices).get(value, "")) if heading and value else ""


def is_risky(key: str, value: str | None) -> bool:
    return value in BY_KEY[key].risky if key in BY_KEY else False


def record_visit(session: Session, visit: Visit, answers: dict[str, str], recorded_by_id: int | None,
                 channel: str, now: datetime) -> VisitRecord:
    """Save the record of a checked-out visit (once) and open a follow-up for each risky answer."""
    if visit.status not in ("done", "verified"):
        raise DomainError(_l("A visit is recorded after checking out."))
    if session.scalar(select(VisitRecord.id).where(VisitRecord.visit_id == visit.id)) is not None:
        raise DomainError(_l("This visit has already been recorded."))
    missing = [h.key for h in HEADINGS if answers.get(h.key) not in dict(h.choices)]
    if missing:
        raise DomainError(_l("Please answer every question."), field=missing[0])
    record = VisitRecord(visit_id=visit.id, elder_id=visit.elder_id, recorded_by_id=recorded_by_id,
                         channel=channel, answers={h.key: answers[h.key] for h in HEADINGS}, created_at=now)
    session.add(record)
    for heading in HEADINGS:
        task = heading.risky.get(answers[heading.key])
        if task:
            what, days = task
            session.add(FollowUp(community_id=visit.community_id, elder_id=visit.elder_id, visit_id=visit.id,
                                 reason=f"record:{heading.key}", flags=[answers[heading.key]],
                                 note=str(what), created_at=now, due_at=now + timedelta(days=days)))
    session.flush()
    return record


def trend(session: Session, elder_id: int, months: int = 6) -> list[tuple[str, dict]]:
    """The last record of each month, newest first: ("2026-11", answers)."""
    by_month: dict[str, dict] = {}
    for record in session.scalars(select(VisitRecord).where(VisitRecord.elder_id == elder_id)
                                  .order_by(VisitRecord.created_at.desc()).limit(months * 8)):
        by_month.setdefault(local_date(record.created_at).strftime("%Y-%m"), record.answers)
    return list(by_month.items())[:months]
