"""How tools find the services installed beside them without knowing any by name.

Each service's distribution declares an entry point in the `keepword.services` group, named
after the service, that points at what it registers: its database schema and the migration
packages that build it, the shared schemas it uses, and its AsyncAPI document. The ops CLI
reads them here to migrate every schema and to document every service:

    [project.entry-points."keepword.services"]
    commitments = "keepword_commitments.app:SPEC"
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Protocol

from faststream import FastStream

GROUP = "keepword.services"

SharedSchemas = Sequence[tuple[str, Sequence[str]]]


class RegisteredService(Protocol):
    """What a service registers."""

    @property
    def name(self) -> str:
        """The service's name, as in its entry point and its consumer group."""
        ...

    @property
    def schema(self) -> str:
        """The PostgreSQL schema the service owns."""
        ...

    @property
    def migrations_packages(self) -> Sequence[str]:
        """The packages whose migrations build the service's schema, in order."""
        ...

    @property
    def shared_schemas(self) -> SharedSchemas:
        """Schemas the service uses but does not own, with their migration packages."""
        ...

    @property
    def summary(self) -> str:
        """What the service does, in a sentence (its AsyncAPI document's description)."""
        ...

    def asyncapi_app(self) -> FastStream:
        """The service's FastStream app with its real subscribers, for AsyncAPI."""
        ...


@dataclass(frozen=True)
class ServiceEntry:
    """A registration spelled out, for a service not assembled by `ConsumingService`."""

    name: str
    schema: str
    migrations_packages: Sequence[str]
    summary: str
    asyncapi: Callable[[], FastStream]
    shared_schemas: SharedSchemas = ()

    def asyncapi_app(self) -> FastStream:
        """The service's FastStream app with its real subscribers, for AsyncAPI."""
        return self.asyncapi()


@dataclass(frozen=True)
class Installed:
    """A registered service and the version of the distribution that registered it."""

    service: RegisteredService
    version: str


@cache
def installed_services() -> dict[str, Installed]:
    """Every registered service by name, in the order of their names.

    Loading an entry point imports the service's app module: callers that need only a
    service's name should not ask for more than that.
    """
    found: dict[str, Installed] = {}
    for point in sorted(entry_points(group=GROUP), key=lambda point: point.name):
        service: RegisteredService = point.load()
        if service.name != point.name:
            raise ValueError(f"entry point {point.name!r} registers {service.name!r}")
        found[point.name] = Installed(service, point.dist.version if point.dist else "0")
    return found
