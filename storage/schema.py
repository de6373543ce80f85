"""Every table of Sopu's database on one metadata: what the migrations must create."""

from __future__ import annotations

from sqlalchemy import MetaData

from storage import (
    models_calendar,
    models_common_time,
    models_common_time_feedback,
    models_consultations,
    models_family_mail,
    models_feedback,
    models_jobs,
    models_organisations,
    models_requests,
    models_walk_in,
)
from storage.models import Base

# A table joins Base's metadata when its module is imported: these are the modules besides
# storage.models itself, which each of them imports.
TABLE_MODULES = (
    models_calendar,
    models_common_time,
    models_common_time_feedback,
    models_consultations,
    models_family_mail,
    models_feedback,
    models_jobs,
    models_organisations,
    models_requests,
    models_walk_in,
)

metadata: MetaData = Base.metadata
