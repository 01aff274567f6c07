"""The 探访 visit record by text or by call: the web's headings as short numbered questions, one per
text or prompt, after check-out. The pending question (services/questions.py, kind "visit_record",
subject: the visit) says which visit is being recorded and holds the answers so far; a digit answers
the question asked last and brings the next one. The last answer saves the record through
services/visit_records.record_visit, which opens a follow-up for each risky answer, as on the web.

A heading with more than four choices (what she needs most) is asked in two parts — "nothing more,
or something?" then the four needs — so no prompt offers more than four keys (the voice rule).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.i18n import _l, force_locale, gettext, supported_locale
from portal.models import Person, Visit, VisitRecord
from portal.services import DomainError, questions
from portal.services.visit_records import BY_KEY, HEADINGS, is_risky, record_visit

KIND = "visit_record"
OPEN_HOURS = 24          # the record can be given by text or call for a day after check-out
MORE = "_more"           # "something" to the first part of a split heading: the rest is asked next
MAX_KEYS = 4
SOMETHING = _l("Something")


@dataclass(frozen=True)
class Question:
    key: str              # the heading
    number: int           # 1 … len(HEADINGS)
    options: tuple        # ((value, label), …), answered by 1 … len(options)

    @property
    def code(self) -> str:
        """Names the question asked (the second part of a split heading has its own)."""
        return f"{self.key}-first" if self.options[-1][0] == MORE else self.key


def next_question(answers: dict[str, str]) -> Question | None:
    """The first heading not answered yet (or the second part of a split one); None when all are."""
    for number, heading in enumerate(HEADINGS, start=1):
        value = answers.get(heading.key)
        if value is None:
            if len(heading.choices) > MAX_KEYS:
                return Question(heading.key, number, (heading.choices[0], (MORE, SOMETHING)))
            return Question(heading.key, number, heading.choices)
        if value == MORE:
            return Question(heading.key, number, heading.choices[1:])
    return None


def question_text(question: Question, locale: str | None, channel: str) -> str:
    """"探访记录3/11：饭够吃吗？ 回1够吃 2不够" by text; "第3题，饭够吃吗？够吃请按1，…" by call."""
    heading = BY_KEY[question.key]
    with force_locale(supported_locale(locale)):
        if channel == "sms":
            joiner = ", " if (locale or "").startswith("en") else " "
            options = joiner.join(f"{index}{' ' if joiner == ', ' else ''}{label}"
                                  for index, (_value, label) in enumerate(question.options, start=1))
            return gettext("Visit record %(number)s/%(total)s: %(question)s Reply %(options)s",
                           number=question.number, total=len(HEADINGS), question=heading.question, options=options)
        space = " " if (locale or "").startswith("en") else ""
        parts = [gettext("Question %(number)s of %(total)s: %(question)s", number=question.number,
                         total=len(HEADINGS), question=heading.question)]
        parts += [gettext("For %(label)s, press %(key)s.", label=label, key=index)
                  for index, (_value, label) in enumerate(question.options, start=1)]
        return space.join(parts)


def recordable(session: Session, volunteer: Person, now: datetime) -> Visit | None:
    """Her latest visit checked out within the open hours and not recorded yet."""
    return session.scalar(
        select(Visit).where(Visit.volunteer_id == volunteer.id, Visit.status.in_(("done", "verified")),
                            Visit.checked_out_at >= now - timedelta(hours=OPEN_HOURS),
                            ~select(VisitRecord.id).where(VisitRecord.visit_id == Visit.id).exists())
        .order_by(Visit.checked_out_at.desc()).limit(1))


def begin(session: Session, volunteer: Person, visit: Visit, now: datetime, channel: str) -> Question | None:
    """Ask the first question about this visit (or carry on where she left off with it)."""
    if visit.volunteer_id != volunteer.id or visit.status not in ("done", "verified"):
        return None
    if session.scalar(select(VisitRecord.id).where(VisitRecord.visit_id == visit.id)) is not None:
        return None
    asked = questions.last_asked(session, volunteer.id, now)
    same = asked is not None and asked.kind == KIND and asked.subject_id == visit.id and not asked.expired
    answers = (asked.answers or {}) if same else {}
    question = next_question(answers)
    questions.ask(session, volunteer.id, KIND, now, subject_id=visit.id, channel=channel,
                  until=(visit.checked_out_at or now) + timedelta(hours=OPEN_HOURS), answers=answers)
    return question


@dataclass
class Outcome:
    question: Question | None = None     # the next one to ask; None when the record is saved
    repeated: bool = False               # the reply was not one of the numbers: the same question again
    record: VisitRecord | None = None
    risky: int = 0                       # answers that opened a follow-up for the worker


def answer(session: Session, volunteer: Person, raw_choice: int | None, now: datetime, channel: str) -> Outcome:
    """Take the answer (1 … n, or None for one that could not be read) to the question asked last."""
    asked = questions.last_asked(session, volunteer.id, now)
    if asked is None or asked.kind != KIND or asked.expired:
        raise DomainError(_l("That question has expired. You can still fill in the visit record on the web."))
    visit = session.get(Visit, asked.subject_id)
    if visit is None:
        questions.answered(session, volunteer.id)
        raise DomainError(_l("That question has expired. You can still fill in the visit record on the web."))
    answers = dict(asked.answers or {})
    question = next_question(answers)
    if question is None or raw_choice is None or not 1 <= raw_choice <= len(question.options):
        return Outcome(question=question, repeated=True)
    answers[question.key] = question.options[raw_choice - 1][0]
    following = next_question(answers)
    if following is not None:
        questions.ask(session, volunteer.id, KIND, now, subject_id=visit.id, channel=asked.channel,
                      until=(visit.checked_out_at or now) + timedelta(hours=OPEN_HOURS), answers=answers)
        return Outcome(question=following)
    questions.answered(session, volunteer.id)
    record = record_visit(session, visit, answers, volunteer.id, channel, now)
    return Outcome(record=record, risky=sum(1 for key, value in answers.items() if is_risky(key, value)))


def thanks(outcome: Outcome, locale: str | None) -> str:
    """The reply after the last answer: saved, and what the worker will follow up."""
    with force_locale(supported_locale(locale)):
        text = gettext("Thank you. The visit record is saved.")
        if outcome.risky:
            text += (" " if (locale or "").startswith("en") else "") + gettext("%(count)s answers went to the community worker to follow up.",
                                  count=outcome.risky)
        return text
