"""Forms of the administrator's pages: areas and staff."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.i18n import _l
from portal.web.forms import select_choices


class AreaForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Please enter a name.")), Length(max=100)])
    parent_id = SelectField(_l("Belongs to"), coerce=int, validate_choice=True)
    hotline = StringField(_l("Hotline (optional)"), validators=[
        Optional(), Regexp(r"^[0-9+\-() ]{3,32}$", message=_l("Please enter a phone number."))])


class RenameAreaForm(FlaskForm):
    name = StringField(_l("New name"), validators=[DataRequired(_l("Please enter a name.")), Length(max=100)])


class ConfirmForm(FlaskForm):
    """A bare form: a CSRF token and the button pressed."""


class StaffForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Please enter a name.")), Length(max=50)])
    phone = StringField(_l("Mobile number"), validators=[DataRequired(_l("Please enter a phone number."))],
                        render_kw={"inputmode": "tel"})
    role = SelectField(_l("Role"), choices=select_choices([("worker", _l("Community worker")),
                                                                  ("officer", _l("Officer"))]))
    area_ids = SelectMultipleField(_l("Areas (a worker may have several communities)"), coerce=int,
                                   validators=[DataRequired(_l("Please choose at least one area."))])


class MoveStaffForm(FlaskForm):
    area_ids = SelectMultipleField(_l("Areas"), coerce=int,
                                   validators=[DataRequired(_l("Please choose at least one area."))])


class FirstPasswordForm(FlaskForm):
    password = PasswordField(_l("New password (at least 10 characters)"),
                             validators=[DataRequired(_l("Please choose a password.")),
                                         Length(min=10, message=_l("A password needs at least 10 characters."))],
                             render_kw={"autocomplete": "new-password"})
    confirmation = PasswordField(_l("The same password again"),
                                 validators=[DataRequired(_l("Please type the password a second time."))],
                                 render_kw={"autocomplete": "new-password"})


class UploadSheetForm(FlaskForm):
    kind = SelectField(_l("What the sheet lists"), choices=select_choices([
        ("elders", _l("Elders (特殊困难老年人台账)")), ("volunteers", _l("Volunteers (志愿者花名册)"))]))
    community_id = SelectField(_l("Community (for rows without a community column)"), coerce=int)
    sheet = FileField(_l("The sheet (.xlsx or .csv)"), validators=[
        FileRequired(_l("Please choose a file.")),
        FileAllowed(["xlsx", "csv"], _l("Please upload a .xlsx or .csv file."))])


class ColumnMappingForm(FlaskForm):
    """One choice of sheet column per field; the fields a kind of sheet does not have are not shown."""

    name = SelectField(_l("Name"), default="")
    phone = SelectField(_l("Mobile number"), default="")
    id_number = SelectField(_l("Identity number"), default="")
    birth_date = SelectField(_l("Date of birth"), default="")
    gender = SelectField(_l("Gender"), default="")
    community = SelectField(_l("Community"), default="")
    address = SelectField(_l("Address"), default="")
    living_situation = SelectField(_l("Living situation"), default="")
    hardship = SelectField(_l("Hardship categories"), default="")
    services = SelectField(_l("Services"), default="")


class ConfirmImportForm(FlaskForm):
    skip = SelectMultipleField(_l("Skip these rows"), coerce=int, validate_choice=True)
