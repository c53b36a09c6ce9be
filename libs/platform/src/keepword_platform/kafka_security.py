"""How every Kafka client of the project logs in: one place that turns settings into options.

PLAINTEXT (the local default) adds nothing. SASL_SSL checks the brokers' certificates against
`kafka_ssl_cafile` (or the system's CAs) and logs in with SCRAM as `kafka_sasl_username`. The
FastStream broker, intake's producer, the consumer monitors, the ops CLI and the admin calls
all take their options from here, so a client cannot be left on the open door by mistake.
"""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from .settings import KeepwordSettings


class KafkaSecurityError(ValueError):
    """The Kafka security settings cannot work together (said before anything connects)."""


def kafka_client_options(settings: KeepwordSettings) -> dict[str, Any]:
    """Keyword arguments for aiokafka's producer, consumer and admin client.

    Empty for PLAINTEXT. The password is read out of its SecretStr only here, into the
    client's options; nothing logs those.
    """
    if settings.kafka_security_protocol == "PLAINTEXT":
        return {}
    username, password = _credentials(settings)
    return {
        "security_protocol": "SASL_SSL",
        "ssl_context": _ssl_context(settings),
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }


def faststream_security(settings: KeepwordSettings) -> BaseSecurity | None:
    """The same login for FastStream's KafkaBroker (which takes a security object instead)."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    username, password = _credentials(settings)
    kind = SASLScram512 if settings.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    return kind(username, password, ssl_context=_ssl_context(settings), use_ssl=True)


def _credentials(settings: KeepwordSettings) -> tuple[str, str]:
    if not settings.kafka_sasl_username or settings.kafka_sasl_password is None:
        raise KafkaSecurityError(
            "KEEPWORD_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KEEPWORD_KAFKA_SASL_USERNAME and "
            "KEEPWORD_KAFKA_SASL_PASSWORD"
        )
    return settings.kafka_sasl_username, settings.kafka_sasl_password.get_secret_value()


def _ssl_context(settings: KeepwordSettings) -> ssl.SSLContext:
    cafile = settings.kafka_ssl_cafile
    if cafile is not None and not cafile.is_file():
        raise KafkaSecurityError(f"KEEPWORD_KAFKA_SSL_CAFILE: no file at {cafile}")
    # Host names are checked (aiokafka sets check_hostname): the broker's certificate must name
    # the address the client dials.
    context: ssl.SSLContext = create_ssl_context(cafile=str(cafile) if cafile is not None else None)
    return context
