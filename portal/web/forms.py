"""Flask-WTF forms: every posted form checks its own fields (presence, type, range, length, choice)
before a view acts on it; the services check the domain rules. Labels and messages are lazy so
they follow the request's language. Choices are lists of SelectChoice (WTForms 3.4 drops tuples).

One module for every form (over 400 lines) so the fuzz and XSS tests find each class in one place;
split by blueprint (forms/worker.py, forms/elder.py …) when it grows further."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget, TextInput

from portal.i18n import _l
from portal.services import DomainError
from portal.services.people import ADDRESS_MAX, NAME_MAX, check_birth_date, clean_name
from portal.services.phones import normalize_phone
from portal.services.visit_records import HEADINGS

REQUIRED = _l("This cannot be empty.")
NAME = [DataRequired(message=_l("Please enter a name.")),
        Length(max=NAME_MAX, message=_l("A name can have at most %(max)s characters."))]
TOO_LONG = _l("This can have at most %(max)s characters.")
NOT_A_CHOICE = _l("Please choose one of the answers.")


def select_choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """SelectChoice options from (value, label) pairs (or a dict's items)."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def show_error(form: FlaskForm, error, default: str | None = None) -> None:
    """Put a service's DomainError beside the field it names (`contact_phone_0` is `contact_phone`),
    else beside `default`, else above the form."""
    name = (getattr(error, "field", None) or default or "").removesuffix("_0")
    field = form._fields.get(name) if name else None
    (field.errors if field is not None else form.form_errors).append(str(error.message))


def required(message=REQUIRED):
    return DataRequired(message=message)


def at_most(characters: int):
    return Length(max=characters, message=TOO_LONG)


def choice_field(label, choices=None, field=SelectField, message=None, **kwargs):
    """A select or radio field that must be answered with one of its choices; `message` replaces
    WTForms' own (translated) messages where the context says more."""
    kwargs.setdefault("validators", [InputRequired(message=message)])
    return field(label, choices=choices, invalid_choice_message=message, invalid_value_message=message, **kwargs)


def strip_spaces(value):
    return "".join(value.split()) if isinstance(value, str) else value


def strip(value):
    return value.strip() if isinstance(value, str) else value


class OwnParseMessage:
    """A date, time or number field whose parse error is ours, in the person's language."""

    default_message = _l("Please enter a date such as 2026-05-01.")

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.parse_message = message or self.default_message

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.parse_message) from None


class LocalDateField(OwnParseMessage, DateField):
    """A calendar date between 1900 and 2100: year 1 or 9999 cannot be placed in a time zone."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not 1900 <= self.data.year <= 2100:
            self.data = None
            raise ValueError(self.parse_message)


class LocalTimeField(OwnParseMessage, TimeField):
    default_message = _l("Please enter a time such as 09:30.")


class WholeNumberField(OwnParseMessage, IntegerField):
    widget = TextInput()  # with inputmode="numeric": a number input would round or drop what was typed
    default_message = _l("Please enter a whole number.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_choice_message", NOT_A_CHOICE)
        kwargs.setdefault("invalid_value_message", NOT_A_CHOICE)
        super().__init__(label, validators, **kwargs)


# ---------------------------------------------------------------- sign-in and settings

class PhoneForm(FlaskForm):
    phone = StringField(_l("Your mobile number"), [required(), at_most(32)], filters=[strip],
                        render_kw={"inputmode": "tel", "autocomplete": "tel"})


class CodeForm(FlaskForm):
    code = StringField(_l("The 6-digit code from the text message"), [required(), at_most(12)],
                       filters=[strip_spaces],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 12})


class PasswordForm(FlaskForm):
    password = PasswordField(_l("Password"), [required(), at_most(200)], render_kw={"autocomplete": "current-password"})


class LanguageForm(FlaskForm):
    locale = choice_field(_l("Language"))
    back = HiddenField(validators=[Optional(), at_most(2000)])


class TextSizeForm(FlaskForm):
    size = choice_field(_l("Text size"))
    back = HiddenField(validators=[Optional(), at_most(2000)])


# ---------------------------------------------------------------- people and links

class ServiceCheck:
    """Run a service's own check on the field (e.g. `clean_name`), so that every mistake on a form is
    reported in one round, each under its own field, instead of the first one the service meets."""

    def __init__(self, check):
        self.check = check

    def __call__(self, form, field):
        if field.data in (None, ""):
            return
        try:
            self.check(field.data)
        except DomainError as error:
            raise ValidationError(str(error.message)) from None


def _phone_check(value):
    from flask import current_app

    normalize_phone(value, current_app.config.get("LINLI_DEFAULT_REGION", "CN"))


def _birth_check(value):
    check_birth_date(value, date.today())


class ElderForm(FlaskForm):
    name = StringField(_l("Name"), [*NAME, ServiceCheck(clean_name)], filters=[strip])
    phone = StringField(_l("Mobile or landline number"), [required(), at_most(32), ServiceCheck(_phone_check)],
                        filters=[strip], render_kw={"inputmode": "tel"})
    community_id = choice_field(_l("Community"), coerce=int)
    address = StringField(_l("Home address"), [required(), at_most(ADDRESS_MAX)], filters=[strip])
    birth_date = LocalDateField(_l("Date of birth"), [Optional(), ServiceCheck(_birth_check)],
                                message=_l("That date of birth is not possible."))
    gender = choice_field(_l("Gender"), select_choices([("f", _l("Female")), ("m", _l("Male"))]), field=RadioField,
                          validators=[Optional()])
    living_situation = choice_field(_l("Living situation"))
    hardship = MultiCheckboxField(_l("Hardship categories"))
    ability_level = choice_field(_l("Ability level (GB/T 42195-2022)"), coerce=int)
    severe_illness = BooleanField(_l("Severe illness"))
    preferred_channel = choice_field(_l("Reach by"))
    contact_name = StringField(_l("Emergency contact: name"), [Optional(), NAME[1], ServiceCheck(clean_name)],
                               filters=[strip])
    contact_phone = StringField(_l("Emergency contact: phone"), [Optional(), at_most(32), ServiceCheck(_phone_check)],
                                filters=[strip], render_kw={"inputmode": "tel"})
    contact_relation = StringField(_l("Emergency contact: relation"), [Optional(), at_most(50)], filters=[strip])
    tier_override = choice_field(_l("Care tier override"), validators=[Optional()])
    tier_override_reason = StringField(_l("Reason for the override"), [Optional(), at_most(200)], filters=[strip])
    add_role = BooleanField(_l("Add this role to the person already registered with this number"))


class VolunteerForm(FlaskForm):
    name = StringField(_l("Name"), NAME, filters=[strip])
    phone = StringField(_l("Mobile number"), [required(), at_most(32)], filters=[strip], render_kw={"inputmode": "tel"})
    community_id = choice_field(_l("Community"), coerce=int)
    services = MultiCheckboxField(_l("Services offered"))
    birth_date = LocalDateField(_l("Date of birth"), [Optional()], message=_l("That date of birth is not possible."))
    add_role = BooleanField(_l("Add this role to the person already registered with this number"))


class FamilyLinkForm(FlaskForm):
    elder_phone = StringField(_l("Your relative's phone number"), [required(), at_most(32)], filters=[strip],
                              render_kw={"inputmode": "tel"})
    relation = StringField(_l("You are their (for example: son, daughter)"), [required(), at_most(50)],
                           filters=[strip])


class LinkDecisionForm(FlaskForm):
    """Approve or refuse a family link (the button pressed); a worker's form may name the page to go back to."""

    decision = choice_field(_l("Your answer"), message=NOT_A_CHOICE,
                            choices=select_choices([("approve", _l("Approve")), ("refuse", _l("Refuse")),
                                                    ("revoke", _l("Stop this link"))]))
    back = HiddenField(validators=[Optional(), at_most(2000)])


class PairForm(FlaskForm):
    volunteer_id = choice_field(_l("Volunteer"), coerce=int)


class AssignForm(FlaskForm):
    volunteer_id = choice_field(_l("Volunteer"), coerce=int, message=_l("Please choose a volunteer from the list."))


class DecisionForm(FlaskForm):
    """A bare form: a CSRF token and the button pressed."""


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search by name or last digits of the phone"))
    tier = SelectField(_l("Care tier"), validators=[Optional()])
    living = SelectField(_l("Living situation"), validators=[Optional()])
    community = SelectField(_l("Community"), validators=[Optional()])
    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=100_000)])


# ---------------------------------------------------------------- requests

class StepForm(FlaskForm):
    """One question of the request conversation: a ticked tile (`answer`) or typed text (`other`).
    Which answers fit the question is the conversation engine's rule."""

    answer = StringField(_l("Your answer"), [Optional(), at_most(100)], filters=[strip])
    other = StringField(_l("Or write it yourself"), [Optional(), at_most(500)], filters=[strip])

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if not (self.answer.data or self.other.data):
            self.answer.errors.append(NOT_A_CHOICE)
            return False
        return True


class RatingForm(FlaskForm):
    """Confirm that a request was done, with an optional rating of 1 (not good) to 3 (good)."""

    rating = WholeNumberField(_l("How was it?"), [Optional(), NumberRange(min=1, max=3, message=NOT_A_CHOICE)],
                              message=NOT_A_CHOICE)


# ---------------------------------------------------------------- the time bank

MORE_THAN_ZERO = _l("The number of minutes must be more than zero.")


class GiftForm(FlaskForm):
    """Whom (a relative's person id or "pool") and how many minutes; the ledger checks the rules."""

    recipient = choice_field(_l("To whom?"), field=RadioField,
                             validators=[InputRequired(message=_l("Please choose who receives the minutes."))])
    amount = WholeNumberField(_l("Minutes"), [InputRequired(message=REQUIRED),
                                              NumberRange(min=1, message=MORE_THAN_ZERO)],
                              message=_l("Please enter a whole number of minutes."), render_kw={"inputmode": "numeric"})


class FamilyNotificationsForm(FlaskForm):
    """The texts a relative chose to get about her elder."""

    notify_visits = BooleanField(_l("Text me when a visit is confirmed, or when the month's visit is missed"))
    notify_checkins = BooleanField(_l("Text me when she does not answer the daily check-in call"))


class PoolAllocationForm(FlaskForm):
    """A worker gives minutes from her community's donation pool to a special-hardship elder."""

    elder = choice_field(_l("To which elder?"), coerce=int,
                         message=_l("Please choose an elder from the list."))
    amount = WholeNumberField(_l("Minutes"), [InputRequired(message=REQUIRED),
                                              NumberRange(min=1, message=MORE_THAN_ZERO)],
                              message=_l("Please enter a whole number of minutes."), render_kw={"inputmode": "numeric"})
    reason = StringField(_l("Why (optional)"), [Optional(), at_most(200)], filters=[strip])


# ---------------------------------------------------------------- visits

DOOR_CODE = Regexp(r"^[0-9]{4,8}$", message=_l("That door code is not right. Please check the card on the door."))


DOOR_CODE_INPUT = {"inputmode": "numeric", "autocomplete": "off", "maxlength": 12}


class CheckInForm(FlaskForm):
    code = StringField(_l("Door code (on the card inside the elder's door)"), [required(), at_most(12), DOOR_CODE],
                       filters=[strip_spaces], render_kw=DOOR_CODE_INPUT)


class CheckOutForm(FlaskForm):
    """Check out with the door card's QR token, or with the door code typed in."""

    token = HiddenField(validators=[Optional(), at_most(200)])
    code = StringField(_l("Door code (on the card inside the elder's door)"), [Optional(), at_most(12), DOOR_CODE],
                       filters=[strip_spaces], render_kw=DOOR_CODE_INPUT)
    flags = MultiCheckboxField(_l("Anything the community worker should know?"))
    notes = TextAreaField(_l("Notes (optional)"), [Optional(), at_most(1000)], filters=[strip],
                          render_kw={"rows": 4, "maxlength": 1000})

    def validate_code(self, field):
        if not self.token.data and not field.data:
            raise ValidationError(REQUIRED)


class ElderAnswerForm(FlaskForm):
    """The elder's answer to "did they visit you?": yes or no."""

    answer = choice_field(_l("Your answer"), message=NOT_A_CHOICE,
                          choices=select_choices([("yes", _l("Yes, they came")), ("no", _l("No"))]))


FROM_THE_LISTS = _l("Please choose a volunteer and an elder from the lists.")


class WorkerVisitForm(FlaskForm):
    """A visit entered by a worker (a paper sheet, a phone call): who, whom, when."""

    volunteer_id = choice_field(_l("Volunteer"), coerce=int, message=FROM_THE_LISTS)
    elder_id = choice_field(_l("Elder"), coerce=int, message=FROM_THE_LISTS)
    day = LocalDateField(_l("Date"), [InputRequired(message=REQUIRED)])
    start = LocalTimeField(_l("Arrived at"), [InputRequired(message=REQUIRED)])
    end = LocalTimeField(_l("Left at"), [InputRequired(message=REQUIRED)])
    flags = MultiCheckboxField(_l("Anything the community worker should know?"))
    notes = TextAreaField(_l("Notes (optional)"), [Optional(), at_most(1000)], filters=[strip],
                          render_kw={"rows": 3, "maxlength": 1000})


class ReverseForm(FlaskForm):
    reason = StringField(_l("Reason"), [required(), at_most(200)], filters=[strip], render_kw={"maxlength": 200})


# ---------------------------------------------------------------- the phone simulator (dev tools)

class SimulatorTextForm(FlaskForm):
    person = HiddenField(validators=[Optional(), at_most(20)])
    body = TextAreaField(_l("Your text"), [required(_l("Type a text message first.")), at_most(2000)])


class SimulatorCallForm(FlaskForm):
    person = HiddenField(validators=[Optional(), at_most(20)])
    call_sid = HiddenField(validators=[Optional(), at_most(64)])
    action = HiddenField(validators=[Optional(), at_most(500)])
    digits = StringField(validators=[Optional(), at_most(20)], filters=[strip])
    speech = StringField(_l("Or say it"), [Optional(), at_most(200)])


__all__ = [name for name in dir() if name.endswith("Form")] + [
    "MultiCheckboxField", "TextAreaField", "select_choices", "show_error"]


class EmergencyComingForm(FlaskForm):
    """Who is on the way to an elder who called for help: a volunteer of the area, or a name typed in."""
    responder_id = SelectField(_l("Who is going"), coerce=int, validators=[Optional()])
    responder_name = StringField(_l("Or type the name of who is going"), validators=[
        Optional(), Length(max=NAME_MAX, message=TOO_LONG)])


class EmergencyOutcomeForm(FlaskForm):
    outcome = RadioField(_l("What happened"), choices=[],
                         validators=[InputRequired(message=_l("Please choose what happened."))])


# ---------------------------------------------------------------- the completion list

ONE_OF_OURS = _l("Please choose a verified volunteer of this community.")


def record_ids(form, field) -> None:
    """Ids posted in a form are whole numbers a 32-bit id column can hold (a larger one would overflow
    on PostgreSQL: a 500 instead of "not found")."""
    from portal.web import LARGEST_ID

    values = field.data if isinstance(field.data, list) else [field.data]
    if any(value is not None and not 0 <= value <= LARGEST_ID for value in values):
        raise ValidationError(_l("That record does not exist."))


class ReassignForm(FlaskForm):
    """Give one visit (or, in BulkReassignForm, the selected visits) to someone else; the view sets
    the choices to the community's verified volunteers and workers."""

    assignee = choice_field(_l("Give this visit to"), coerce=int, message=ONE_OF_OURS)


class BulkReassignForm(ReassignForm):
    selected = SelectMultipleField(_l("Selected elders"), coerce=int, validate_choice=False,
                                   validators=[DataRequired(message=_l("Please tick at least one elder.")),
                                               record_ids])


class ExcuseForm(FlaskForm):
    """No reason is chosen for the worker; "passed away" asks once more before it is recorded."""

    reason = choice_field(_l("Why is no visit needed this month?"), field=RadioField,
                          message=_l("Please choose a reason from the list."))
    confirm = BooleanField(_l("Yes, record this"))


class UndoForm(FlaskForm):
    obligation = SelectMultipleField(coerce=int, validate_choice=False, validators=[DataRequired(), record_ids])


class VisitRecordForm(FlaskForm):
    """探访记录: one tap per heading (the headings and choices are services/visit_records.HEADINGS)."""


for _heading in HEADINGS:
    setattr(VisitRecordForm, _heading.key,
            choice_field(_heading.question, select_choices(_heading.choices), field=RadioField,
                         message=_l("Please choose one of the answers.")))



class CheckInOptInForm(FlaskForm):
    """每日问安: opt an elder in at the time she chose."""

    elder_id = choice_field(_l("Elder"), coerce=int, message=_l("Please choose an elder from the list."))
    call_time = StringField(_l("Time of the daily call"), default="09:00",
                            validators=[DataRequired(message=_l("Please give the time as HH:MM, for example 09:00.")),
                                        Regexp(r"^([01]\d|2[0-3]):[0-5]\d$",
                                               message=_l("Please give the time as HH:MM, for example 09:00."))])


DAILY_CALL_TIMES = ("08:00", "08:30", "09:00", "09:30")


class ElderDailyCallForm(FlaskForm):
    """每日问安 chosen by the elder herself: one of four morning times, or no call."""

    choice = RadioField(choices=select_choices([(time, time) for time in DAILY_CALL_TIMES] + [("stop", "stop")]),
                        validators=[InputRequired(message=_l("Please choose one of the answers."))])


class CheckInSeenForm(FlaskForm):
    """Someone saw her after a missed 问安 call."""

    day_id = IntegerField(validators=[InputRequired(), record_ids], widget=HiddenInput())


# ---------------------------------------------------------------- a paper visit sheet keyed back in

def numbered_choices(choices) -> list[SelectChoice]:
    """A blank first, then "1 Well", "2 Unwell" …: the numbers printed beside the sheet's tick boxes, so
    typing the number on the keyboard picks the answer."""
    return select_choices([("", "—")] + [(value, f"{n} {label}") for n, (value, label) in enumerate(choices, start=1)])


class SheetRowForm(Form):
    """One elder's row of a keyed-in visit sheet (a plain Form: the sheet's CSRF token covers it). The view
    sets the visitor choices to the worker's own volunteers; the elder is checked against the sheet."""

    elder_id = IntegerField(widget=HiddenInput(), validators=[InputRequired(), record_ids])
    volunteer_id = SelectField(_l("Visitor"), validators=[Optional()],
                               invalid_choice_message=_l("Please choose a volunteer from the list."))
    # typed as on paper, digits first ("14", "0930"); services/visit_sheets reads them
    day = StringField(_l("Day"), [Optional(), at_most(10)], filters=[strip],
                      render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 10})
    start = StringField(_l("Arrived at"), [Optional(), at_most(5)], filters=[strip],
                        render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 5, "placeholder": "0930"})
    end = StringField(_l("Left at"), [Optional(), at_most(5)], filters=[strip],
                      render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 5, "placeholder": "1030"})
    skip = BooleanField(_l("Skip this row"))


for _heading in HEADINGS:
    setattr(SheetRowForm, _heading.key,
            SelectField(_heading.question, choices=numbered_choices(_heading.choices), validators=[Optional()],
                        invalid_choice_message=NOT_A_CHOICE))


class SheetEntryForm(FlaskForm):
    """A whole paper visit sheet keyed in on one page: one row per elder of the sheet."""

    day = StringField(_l("Day for rows without their own"), [Optional(), at_most(10)], filters=[strip],
                      render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 10})
    rows = FieldList(FormField(SheetRowForm), max_entries=1000)
