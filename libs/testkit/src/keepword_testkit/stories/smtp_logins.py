"""SMTP AUTH logins of the people in the stories: how their emails prove who wrote them.

Intake believes mail from a staff address only when it is proven (SMTP AUTH as that address,
among others). The stories log in as the person who writes; the stacks they run against give
intake these logins (`smtp_login_env`). Test passwords, derived from the address: never use
them outside a test or demo stack.

`python -m keepword_testkit.stories.smtp_logins CONFIG` prints the KEEPWORD_INTAKE_SMTP_USERS
value for the people of a company configuration (the demo stack uses it).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from keepword_platform.company import load_company_config


def story_password(address: str) -> str:
    """The test password of `address`."""
    return hashlib.sha256(f"keepword-story-login:{address.lower()}".encode()).hexdigest()


def smtp_users(addresses: Iterable[str]) -> str:
    """KEEPWORD_INTAKE_SMTP_USERS for `addresses` (JSON: login -> sha256 of the password)."""
    return json.dumps(
        {
            a.lower(): "sha256:" + hashlib.sha256(story_password(a).encode()).hexdigest()
            for a in addresses
        }
    )


def smtp_login_env(config: Path) -> dict[str, str]:
    """Intake's environment for the stories: a login per person of `config`, in plain text
    from this machine (the stacks have no STARTTLS certificate)."""
    people = load_company_config(config).people
    return {
        "KEEPWORD_INTAKE_SMTP_USERS": smtp_users(p.email for p in people),
        "KEEPWORD_INTAKE_SMTP_AUTH_PLAINTEXT_LOCALHOST": "true",
    }


if __name__ == "__main__":
    print(smtp_login_env(Path(sys.argv[1]))["KEEPWORD_INTAKE_SMTP_USERS"])
