"""The AsyncAPI document of each service, for `faststream docs gen` (`make docs` runs it):

    faststream docs gen --yaml --factory keepword_ops.asyncapi:intake --out intake.yaml

There is a factory for each service registered in the `keepword.services` entry point group
(see `keepword_platform.registry`); this module names none of them. Each factory starts from
the service's own `asyncapi_app()`: its broker with its real
subscribers (topics, consumer group, description). The services publish through their outbox
relay (`broker.publish` to each event's topic) rather than through FastStream publisher objects,
so what a service writes is declared here from the event contract: one channel per topic it
produces (the catalog's `producer`), whose payload is any of that topic's event models, and one
per dead-letter topic of what it consumes. The server is the documented default bootstrap, so
the document does not depend on where it was generated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Final, Union

from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import LogicSubscriber
from faststream.specification import AsyncAPI
from keepword_events import models_on_topic
from keepword_events.topics import CATALOG, dead_letter_topic
from keepword_platform.registry import installed_services
from keepword_platform.settings import KeepwordSettings

SERVER: Final = KeepwordSettings.model_construct().kafka_bootstrap

# What each registered service does, in a sentence, by name.
SERVICES: Final[dict[str, str]] = {
    name: installed.service.summary for name, installed in installed_services().items()
}

ENVELOPE: Final = (
    " Records are CloudEvents 1.0 in Kafka binary mode: ce_id, ce_source, ce_type, "
    "ce_specversion, ce_time, ce_subject, ce_correlationid and ce_causationid headers, "
    "content-type application/json; the key is the thread id."
)


def produced_by(service: str) -> tuple[str, ...]:
    """The catalog's topics `service` writes (its `producer` names it first)."""
    return tuple(spec.name for spec in CATALOG if spec.producer.split()[0] == service)


def subscribed_topics(broker: KafkaBroker) -> tuple[str, ...]:
    """The topics the broker's subscribers read, in order, once each."""
    names: dict[str, None] = {}
    for subscriber in broker.subscribers:
        assert isinstance(subscriber, LogicSubscriber)
        names.update(dict.fromkeys(subscriber.topic_names))
    return tuple(names)


def _payload(topic: str) -> Any:
    models = models_on_topic(topic)
    return models[0] if len(models) == 1 else Union[models]  # noqa: UP007 (built at run time)


def document(service: str) -> FastStream:
    """The service's FastStream app with what it publishes declared, for AsyncAPI."""
    installed = installed_services()[service]
    app = installed.service.asyncapi_app()
    broker = app.broker
    assert isinstance(broker, KafkaBroker)
    broker.specification = dataclasses.replace(broker.specification, url=[SERVER])
    specs = {spec.name: spec for spec in CATALOG}
    for topic in produced_by(service):
        broker.publisher(
            topic,
            title=f"{topic}:publish",
            description=specs[topic].summary + ENVELOPE,
            schema=_payload(topic),
        )
    for topic in subscribed_topics(broker):
        broker.publisher(
            dead_letter_topic(topic),
            title=f"{dead_letter_topic(topic)}:publish",
            description=(
                f"Records of {topic} that {service} could not handle: the original key, value "
                "and headers, plus keepword-dlq-reason, -topic, -partition, -offset, -service, "
                "-at and -attempts."
            ),
            schema=_payload(topic),
        )
    return FastStream(
        broker,
        specification=AsyncAPI(
            broker,
            title=f"Keepword {service}",
            version=installed.version,
            description=installed.service.summary,
        ),
    )


def _factory(service: str) -> Callable[[], FastStream]:
    def factory() -> FastStream:
        return document(service)

    factory.__name__ = service
    factory.__doc__ = f"The AsyncAPI app of {service}."
    return factory


def __getattr__(name: str) -> Callable[[], FastStream]:
    # `keepword_ops.asyncapi:<service>`: the factory of any registered service.
    if name in SERVICES:
        return _factory(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
