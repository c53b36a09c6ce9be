from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from keepword_events import Role
from keepword_platform.company import ConfigError, load_company_config

DEV_CONFIG = Path(__file__).resolve().parents[3] / "deploy" / "local" / "keepword.toml"


def test_the_shipped_development_configuration_loads() -> None:
    config = load_company_config(DEV_CONFIG)
    assert config.company.timezone
    assert config.management_chain(), "the dev config needs an escalation chain"
    assert config.management_chain()[0].level == 1


def test_no_file_means_defaults() -> None:
    config = load_company_config(None)
    assert config.sla.first_reply == timedelta(hours=24)


def test_durations_in_seconds_work(tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text('[sla]\nfirst_reply = "5s"\nnext_reply = "90m"\nmanager_decision = "2s"\n')
    sla = load_company_config(path).sla
    assert (sla.first_reply, sla.next_reply) == (timedelta(seconds=5), timedelta(minutes=90))


def test_people_lookup_and_chain_order(tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text(
        """
[[people]]
email = "Boss@Example.com"
name = "Boss"
role = "management"
level = 2

[[people]]
email = "lead@example.com"
name = "Lead"
role = "management"
level = 1

[[people]]
email = "sam@example.com"
name = "Sam"
role = "sales"
"""
    )
    config = load_company_config(path)
    person = config.person("boss@example.COM")
    assert person is not None
    assert person.role is Role.MANAGEMENT
    assert [p.name for p in config.management_chain()] == ["Lead", "Boss"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[sla]\nfirst_reply = "soon"\n', "sla.first_reply"),
        ("[sla]\nwarn_at = 2\n", "sla.warn_at"),
        ("[company\n", "not valid TOML"),
        ("[surprise]\nx = 1\n", "surprise"),
        (
            '[[people]]\nemail="a@b.co"\nname="A"\nrole="sales"\n'
            '[[people]]\nemail="A@b.co"\nname="B"\nrole="sales"\n',
            "people listed twice",
        ),
        ('[[people]]\nemail="a@b.co"\nname="A"\nrole="wizard"\n', "people.0.role"),
    ],
)
def test_bad_configuration_names_the_file_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_company_config(path)
    assert str(path) in str(caught.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_company_config(tmp_path / "absent.toml")
