"""SQL repositories behind the domain's ports: the registry, cases and seats, the journal."""

from storage.repositories.cases import SqlCaseRepository
from storage.repositories.journal import SqlJournal
from storage.repositories.mediators import SqlMediatorRepository

__all__ = ["SqlCaseRepository", "SqlJournal", "SqlMediatorRepository"]
