"""Settings -> Kafka client options: nothing for PLAINTEXT, a checked TLS login for SASL_SSL."""

from __future__ import annotations

from pathlib import Path

import pytest
from faststream.security import SASLScram512
from keepword_platform.kafka_security import (
    KafkaSecurityError,
    faststream_security,
    kafka_client_options,
)
from keepword_platform.settings import KeepwordSettings


def test_plaintext_adds_nothing() -> None:
    settings = KeepwordSettings(kafka_security_protocol="PLAINTEXT")
    assert kafka_client_options(settings) == {}
    assert faststream_security(settings) is None


def test_sasl_ssl_logs_in_with_scram_and_checks_host_names() -> None:
    settings = KeepwordSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="intake",
        kafka_sasl_password="s3cret-password",
    )
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "intake"
    assert options["sasl_plain_password"] == "s3cret-password"
    assert options["ssl_context"].check_hostname
    security = faststream_security(settings)
    assert isinstance(security, SASLScram512)
    assert security.use_ssl
    # The password stays out of the settings' repr (and so out of any log of them).
    assert "s3cret-password" not in repr(settings)


def test_sasl_ssl_without_a_login_or_with_a_missing_ca_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KafkaSecurityError, match="KEEPWORD_KAFKA_SASL_USERNAME"):
        kafka_client_options(KeepwordSettings(kafka_security_protocol="SASL_SSL"))
    missing = KeepwordSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="intake",
        kafka_sasl_password="pw",
        kafka_ssl_cafile=tmp_path / "none.crt",
    )
    with pytest.raises(KafkaSecurityError, match="KEEPWORD_KAFKA_SSL_CAFILE"):
        kafka_client_options(missing)
