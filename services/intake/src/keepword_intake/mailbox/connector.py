"""The mailbox connector as an extension of intake: one reading task per folder of every
`[[mailbox]]` of the company configuration, for as long as the service runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from keepword_platform.service import Extension, Runtime

from keepword_intake.mail_intake import MailIntake
from keepword_intake.publishing import EventPublisher
from keepword_intake.settings import IntakeSettings

from .reader import FolderReader, folders_of

log = structlog.get_logger(__name__)


def mailbox_connector(publisher: EventPublisher) -> Extension:
    """The extension; with no mailbox configured it does nothing."""

    @contextlib.asynccontextmanager
    async def lifetime(runtime: Runtime) -> AsyncIterator[None]:
        settings = runtime.settings
        assert isinstance(settings, IntakeSettings)
        mailboxes = runtime.company.mailbox
        intake = MailIntake(
            company=lambda: runtime.company, pool=lambda: runtime.db, publisher=publisher
        )
        readers = [
            FolderReader(
                mailbox,
                folder,
                intake=intake,
                pool=lambda: runtime.db,
                max_email_bytes=settings.max_email_bytes,
            )
            for mailbox in mailboxes
            for folder in folders_of(mailbox)
        ]
        tasks = [
            asyncio.create_task(reader.run(), name=f"mailbox-{index}")
            for index, reader in enumerate(readers)
        ]
        if tasks:
            log.info("mailbox connector started", mailboxes=[m.name for m in mailboxes])
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    return lifetime
