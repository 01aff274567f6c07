"""Flask-WTF forms. Labels are lazy so they follow the request's language."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.i18n import _l


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PhoneForm(FlaskForm):
    phone = StringField(_l("Your mobile number"), render_kw={"inputmode": "tel", "autocomplete": "tel"})


class CodeForm(FlaskForm):
    code = StringField(_l("The 6-digit code from the text message"),
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 12})


class PasswordForm(FlaskForm):
    password = PasswordField(_l("Password"), render_kw={"autocomplete": "current-password"})


class ElderForm(FlaskForm):
    name = StringField(_l("Name"))
    phone = StringField(_l("Mobile or landline number"), render_kw={"inputmode": "tel"})
    community_id = SelectField(_l("Community"), coerce=int)
    address = StringField(_l("Home address"))
    birth_date = DateField(_l("Date of birth"), validators=[Optional()])
    gender = RadioField(_l("Gender"), choices=[("f", _l("Female")), ("m", _l("Male"))], validators=[Optional()])
    living_situation = SelectField(_l("Living situation"))
    hardship = MultiCheckboxField(_l("Hardship categories"))
    ability_level = SelectField(_l("Ability level (GB/T 42195-2022)"), coerce=int)
    severe_illness = BooleanField(_l("Severe illness"))
    preferred_channel = SelectField(_l("Reach by"))
    contact_name = StringField(_l("Emergency contact: name"))
    contact_phone = StringField(_l("Emergency contact: phone"), render_kw={"inputmode": "tel"})
    contact_relation = StringField(_l("Emergency contact: relation"))
    tier_override = SelectField(_l("Care tier override"))
    tier_override_reason = StringField(_l("Reason for the override"))


class VolunteerForm(FlaskForm):
    name = StringField(_l("Name"))
    phone = StringField(_l("Mobile number"), render_kw={"inputmode": "tel"})
    community_id = SelectField(_l("Community"), coerce=int)
    services = MultiCheckboxField(_l("Services offered"))
    birth_date = DateField(_l("Date of birth"), validators=[Optional()])


class FamilyLinkForm(FlaskForm):
    elder_phone = StringField(_l("Your relative's phone number"), render_kw={"inputmode": "tel"})
    relation = StringField(_l("You are their (for example: son, daughter)"))


class PairForm(FlaskForm):
    volunteer_id = SelectField(_l("Volunteer"), coerce=int)


class DecisionForm(FlaskForm):
    """A bare form: a CSRF token and the button pressed."""


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search by name or last digits of the phone"))
    tier = SelectField(_l("Care tier"), validators=[Optional()])
    living = SelectField(_l("Living situation"), validators=[Optional()])
    community = SelectField(_l("Community"), validators=[Optional()])
    page = IntegerField(default=1, validators=[Optional()])


__all__ = [name for name in dir() if name.endswith("Form")] + ["MultiCheckboxField", "TextAreaField"]
