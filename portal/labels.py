"""Translated names for the codes stored in the database."""
from portal.i18n import _l

SERVICE_LABELS = {
    "meal": _l("Meals"),
    "cleaning": _l("Cleaning"),
    "escort": _l("Escort"),
    "bathing": _l("Bathing"),
    "emergency": _l("Emergency"),
    "visit": _l("Visit"),
}
# What an elder reads on her tiles and menus (web, SMS and voice): everyday names, with the 助X name that
# posters use where it helps (review §1.4). Staff screens keep SERVICE_LABELS (助餐 助洁 助行 助浴).
ELDER_SERVICE_LABELS = {
    "meal": _l("Meals (food brought to you)"),
    "cleaning": _l("Cleaning (tidying your home)"),
    "escort": _l("Going out with you"),
    "bathing": _l("Bathing (help with a bath)"),
    "emergency": _l("Emergency"),
}
SERVICE_HINTS = {
    "meal": _l("Meals delivered or at the canteen"),
    "cleaning": _l("Help cleaning your home"),
    "escort": _l("Someone to go with you"),
    "bathing": _l("Help with a bath"),
    "emergency": _l("We tell the community and your family at once"),
}
TIER_LABELS = {
    "high_risk": _l("High risk"),
    "special_hardship": _l("Special hardship"),
    "general": _l("General"),
}
LIVING_LABELS = {
    "alone": _l("Lives alone"),
    "empty_nest": _l("Empty nest"),
    "left_behind": _l("Left behind"),
    "with_family": _l("Lives with family"),
}
HARDSHIP_LABELS = {
    "extreme_poverty": _l("Extreme poverty support"),
    "low_income": _l("Minimum living allowance"),
    "disabled_care": _l("Disabled or semi-disabled"),
    "severe_disability": _l("Severe disability"),
    "advanced_age": _l("Advanced age (80+)"),
    "bereaved_family": _l("Family-planning special family"),
}
ABILITY_LABELS = {
    0: _l("0 Fully able"),
    1: _l("1 Mild loss of ability"),
    2: _l("2 Moderate loss of ability"),
    3: _l("3 Severe loss of ability"),
    4: _l("4 Complete loss of ability"),
}
ROLE_LABELS = {
    "elder": _l("Elder"),
    "family": _l("Family"),
    "volunteer": _l("Volunteer"),
    "worker": _l("Community worker"),
    "officer": _l("Officer"),
    "admin": _l("Administrator"),
}
LINK_STATUS_LABELS = {
    "pending": _l("Waiting for approval"),
    "approved": _l("Approved"),
    "revoked": _l("Not approved"),
}
CHANNEL_LABELS = {
    "web": _l("Web page"),
    "sms": _l("Text message"),
    "voice": _l("Phone call"),
}
AREA_LEVEL_LABELS = {
    "district": _l("District"),
    "street": _l("Street"),
    "community": _l("Community"),
}
REQUEST_STATUS_LABELS = {
    "open": _l("Waiting for a volunteer"),
    "accepted": _l("A volunteer accepted"),
    "in_progress": _l("In progress"),
    "done": _l("Done, please confirm"),
    "confirmed": _l("Confirmed"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Nobody could come"),
    "refused": _l("Refused by the elder"),
}
REQUEST_EVENT_LABELS = {
    "created": _l("Request sent"),
    "accepted": _l("Accepted by a volunteer"),
    "assigned": _l("Assigned by the community worker"),
    "released": _l("The volunteer can no longer come: open again"),
    "in_progress": _l("Volunteer started"),
    "done": _l("Volunteer finished"),
    "confirmed": _l("Confirmed by the elder"),
    "rated": _l("Rated"),
    "cancelled": _l("Cancelled"),
    "refused": _l("Refused by the elder"),
    "expired": _l("Closed: nobody could come"),
    "alerted": _l("Community worker alerted"),
    "acknowledged": _l("Community worker is handling it"),
    "repeated": _l("Asked for help again"),
    "stood_down": _l("Called off: pressed by mistake"),
    "coming": _l("Someone is on the way"),
    "resolved": _l("Emergency closed"),
}
CHECKIN_LABELS = {  # 每日问安, as a relative reads a day's answer
    "ok": _l("Answered: she is fine"),
    "emergency": _l("Asked for help (9)"),
    "missed": _l("No answer"),
    "calling": _l("Calling"),
}
AGE_BAND_LABELS = {  # services.statements.AGE_BANDS names its bands in English: these are what people read
    "under 40": _l("under 40"),
    "unknown": _l("unknown"),
}
EMERGENCY_STATE_LABELS = {
    "alerted": _l("Help has been called"),
    "coming": _l("Someone is on the way"),
    "resolved": _l("Closed"),
    "stood_down": _l("Called off"),
}
EMERGENCY_OUTCOME_LABELS = {
    "visited": _l("Someone went and saw the elder"),
    "hospital": _l("Taken to hospital"),
    "false_alarm": _l("False alarm"),
}
