"""All models, imported here so that the metadata is complete wherever it is used."""
from portal.models.area import AREA_LEVELS, Area
from portal.models.audit import AuditEvent
from portal.models.checkins import CHECKIN_STATUSES, CheckInDay, DailyCheckIn
from portal.models.compliance import (
    EXCUSE_REASONS,
    MAJOR_EVENT_KINDS,
    OBLIGATION_STATUSES,
    CommunityFigures,
    ComplianceSnapshot,
    ElderVisitStat,
    ForecastRank,
    JobRun,
    MajorEvent,
    ObligationEvent,
    SchedulerHeartbeat,
    StaleCount,
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
from portal.models.emergencies import EMERGENCY_OUTCOMES, EMERGENCY_STATES, Emergency
from portal.models.idempotency import IdempotencyKey
from portal.models.imports import IMPORT_KINDS, ImportBatch, ImportMapping
from portal.models.inbound import INBOUND_STATUSES, InboundMessage
from portal.models.ledger import Account, AppendOnlyError, Entry, LedgerHead, Transfer
from portal.models.messages import (
    MESSAGE_STATUS_ORDER,
    PRIORITY_BULK,
    PRIORITY_EMERGENCY,
    PRIORITY_URGENT,
    ContactStatus,
    EarlyStatusCallback,
    OutboundMessage,
)
from portal.models.people import CHANNELS, ROLES, STAFF_ROLES, LoginCode, Person, RoleGrant
from portal.models.requests import (
    REQUEST_STATUSES,
    ConversationState,
    PendingQuestion,
    RequestDecline,
    RequestEvent,
    ServiceRequest,
    VoiceTurn,
)
from portal.models.visits import VISIT_METHODS, WELLBEING_FLAGS, FollowUp, Visit, VisitRecord

__all__ = [
    "IdempotencyKey",
    "AREA_LEVELS", "Area", "AuditEvent", "CARE_TIERS", "HARDSHIP_CATEGORIES", "LIVING_SITUATIONS",
    "SERVICE_TYPES", "ElderProfile", "FamilyLink", "Pairing", "VolunteerProfile",
    "MESSAGE_STATUS_ORDER", "ContactStatus", "OutboundMessage", "EarlyStatusCallback", "PRIORITY_BULK",
    "PRIORITY_EMERGENCY", "PRIORITY_URGENT", "CHANNELS", "ROLES",
    "STAFF_ROLES", "LoginCode", "Person", "RoleGrant", "INBOUND_STATUSES", "InboundMessage",
    "REQUEST_STATUSES", "ConversationState", "PendingQuestion", "RequestDecline", "RequestEvent", "ServiceRequest", "VoiceTurn",
    "VISIT_METHODS", "WELLBEING_FLAGS", "FollowUp", "Visit", "VisitRecord", "Account", "AppendOnlyError", "Entry",
    "LedgerHead", "Transfer", "EMERGENCY_OUTCOMES", "EMERGENCY_STATES", "Emergency",
    "EXCUSE_REASONS", "MAJOR_EVENT_KINDS", "OBLIGATION_STATUSES", "CommunityFigures", "ComplianceSnapshot", "ElderVisitStat", "ForecastRank", "StaleCount",
    "IMPORT_KINDS", "ImportBatch", "ImportMapping",
    "CHECKIN_STATUSES", "CheckInDay", "DailyCheckIn",
    "JobRun", "MajorEvent", "ObligationEvent", "SchedulerHeartbeat", "VisitObligation",
]
