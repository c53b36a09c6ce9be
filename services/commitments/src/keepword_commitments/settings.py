"""The commitments service's settings: the common ones and its own `KEEPWORD_*` variables."""

from __future__ import annotations

from keepword_platform.settings import MembersPerProcess, ServiceSettings
from pydantic import Field


class CommitmentsSettings(ServiceSettings):
    """Commitments: the ledger's read API on 8082."""

    http_port: int = Field(default=8082, validation_alias="KEEPWORD_COMMITMENTS_PORT")
    consumers_per_process: MembersPerProcess = Field(
        default=2,
        description="Members of the consumer group in each process: two here, as a batch spends "
        "most of its time waiting on PostgreSQL, and one member folds its batch while the "
        "other's commits (about 30% of the raw consume-produce loop with one, 41-47% with two).",
    )
