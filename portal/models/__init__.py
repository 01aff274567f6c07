"""All models, imported here so that the metadata is complete wherever it is used."""
from portal.models.area import AREA_LEVELS, Area
from portal.models.audit import AuditEvent
from portal.models.compliance import (
    EXCUSE_REASONS,
    MAJOR_EVENT_KINDS,
    OBLIGATION_STATUSES,
    ComplianceSnapshot,
    ElderVisitStat,
    JobRun,
    MajorEvent,
    ObligationEvent,
    SchedulerHeartbeat,
    VisitObligation,
)
from portal.models.elder import (
    CARE_TIERS,
    HARDSHIP_CATEGORIES,
    LIVING_SITUATIONS,
    SERVICE_TYPES,
    ElderProfile,
    FamilyLink,
    Pairing,
    VolunteerProfile,
)
from portal.models.messages import MESSAGE_STATUS_ORDER, ContactStatus, OutboundMessage
from portal.models.people import CHANNELS, ROLES, STAFF_ROLES, LoginCode, Person, RoleGrant

__all__ = [
    "AREA_LEVELS", "Area", "AuditEvent", "CARE_TIERS", "HARDSHIP_CATEGORIES", "LIVING_SITUATIONS",
    "SERVICE_TYPES", "ElderProfile", "FamilyLink", "Pairing", "VolunteerProfile",
    "MESSAGE_STATUS_ORDER", "ContactStatus", "OutboundMessage", "CHANNELS", "ROLES",
    "STAFF_ROLES", "LoginCode", "Person", "RoleGrant",
    "EXCUSE_REASONS", "MAJOR_EVENT_KINDS", "OBLIGATION_STATUSES", "ComplianceSnapshot", "ElderVisitStat",
    "JobRun", "MajorEvent", "ObligationEvent", "SchedulerHeartbeat", "VisitObligation",
]
