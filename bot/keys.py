"""The typed keys of what the aiohttp app holds, for the HTTP handlers that read them."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.deps import CalendarService
from bot.settings import Settings
from mediation.ports import UnitOfWork
from storage.family_mail import SqlDevMailbox

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
CALENDAR = web.AppKey("calendar", CalendarService)
UNITS: web.AppKey[Callable[[], UnitOfWork]] = web.AppKey("units")
# Development mode's mailbox, when e-mail to families goes there instead of out.
DEV_MAILBOX = web.AppKey("dev_mailbox", SqlDevMailbox)
