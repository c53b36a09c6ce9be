"""Kafka and PostgreSQL with locked doors, on the machine: TLS everywhere, a password per login.

A broker whose only client listener is SASL_SSL (SCRAM-SHA-512), with an authorizer that denies
what no ACL allows, a SCRAM user per service (keepword_platform.kafka_acls) and the admin user as
its super user; its controller listener takes only the broker's own certificate (mutual TLS). A
PostgreSQL cluster that takes TCP clients only over TLS with a scram-sha-256 password. Both are
started by the project's scripts (kafka.sh, postgres.sh) through their hooks; this module makes
the certificates (openssl), the passwords and the configuration, and says how each principal
connects (`kafka_env`, `database_url`). deploy/local/secure_stack.sh drives it from a shell:

    python -m keepword_testkit.secure_stack start|stop|env [--user NAME] STATE_DIR
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import secrets
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keepword_platform.kafka_acls import ADMIN_USER, SERVICES
from keepword_platform.kafka_security import kafka_client_options
from keepword_platform.settings import KeepwordSettings

from keepword_testkit.local_kafka import LocalKafka
from keepword_testkit.local_postgres import LocalPostgres
from keepword_testkit.processes import free_port

ROOT = Path(__file__).resolve().parents[4]
KEEPWORD = ROOT / ".venv" / "bin" / "keepword"
USERS = (ADMIN_USER, *SERVICES)
# The broker's certificate names it for the controller's mutual TLS (a super user) and carries
# the address clients dial (checked by every client: verify-full / check_hostname).
BROKER_SUBJECT = "/CN=keepword-broker"
SUBJECT_ALT_NAMES = "subjectAltName=IP:127.0.0.1,DNS:localhost"
DAYS = "30"


@dataclass
class SecureStack:
    """A locked-down broker and database of their own under `state_dir`, on their own ports."""

    state_dir: Path
    kafka_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    pg_port: int = field(default_factory=free_port)

    @property
    def tls_dir(self) -> Path:
        """The CA, the servers' certificate and key, and an unrelated CA (for refusals)."""
        return self.state_dir / "tls"

    @property
    def ca_file(self) -> Path:
        """The CA that signed both servers' certificate."""
        return self.tls_dir / "ca.crt"

    @property
    def other_ca_file(self) -> Path:
        """A CA that signed nothing here: a client trusting only it must refuse the servers."""
        return self.tls_dir / "other-ca.crt"

    @property
    def bootstrap(self) -> str:
        """The SASL_SSL listener."""
        return f"127.0.0.1:{self.kafka_port}"

    def password(self, user: str) -> str:
        """The password of a Kafka user, or of PostgreSQL's `keepword` role ("postgres")."""
        return (self._secrets / user).read_text().strip()

    @property
    def database_url(self) -> str:
        """The DSN the services use: TLS checked against our CA and host name, a password."""
        return (
            f"postgresql://keepword:{self.password('postgres')}@127.0.0.1:{self.pg_port}/"
            f"keepword?sslmode=verify-full&sslrootcert={self.ca_file}"
        )

    def kafka_env(self, user: str, *, ca_file: Path | None = None) -> dict[str, str]:
        """The `KEEPWORD_KAFKA_*` variables of a client logging in as `user`."""
        return {
            "KEEPWORD_KAFKA_BOOTSTRAP": self.bootstrap,
            "KEEPWORD_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KEEPWORD_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KEEPWORD_KAFKA_SASL_USERNAME": user,
            "KEEPWORD_KAFKA_SASL_PASSWORD": self.password(user),
            "KEEPWORD_KAFKA_SSL_CAFILE": str(ca_file or self.ca_file),
        }

    def client_options(self, user: str, *, password: str | None = None) -> dict[str, Any]:
        """aiokafka options for `user` (with another password, to be refused)."""
        env = self.kafka_env(user)
        if password is not None:
            env["KEEPWORD_KAFKA_SASL_PASSWORD"] = password
        settings = KeepwordSettings.model_validate({k[9:].lower(): v for k, v in env.items()})
        return kafka_client_options(settings)

    def env(self, user: str) -> dict[str, str]:
        """Everything a service (or the CLI) of this stack needs, logging in as `user`."""
        return self.kafka_env(user) | {"KEEPWORD_DATABASE_URL": self.database_url}

    @property
    def kafka(self) -> LocalKafka:
        """The broker, driven by kafka.sh with the secure overlay."""
        return LocalKafka(
            self.state_dir / "kafka",
            port=self.kafka_port,
            controller_port=self.controller_port,
            env={
                "KEEPWORD_KAFKA_CONFIG_OVERLAY": str(self.state_dir / "kafka-secure.properties"),
                "KEEPWORD_KAFKA_FORMAT_ARGS": str(self._secrets / "kafka-format-args"),
                "KEEPWORD_KAFKA_PROBE_CAFILE": str(self.ca_file),
            },
            client_options=self.client_options(ADMIN_USER),
        )

    @property
    def postgres(self) -> LocalPostgres:
        """The database cluster, driven by postgres.sh with TLS and a password."""
        return LocalPostgres(
            self.state_dir / "postgres",
            port=self.pg_port,
            env={
                "KEEPWORD_PG_TLS_DIR": str(self.tls_dir),
                "KEEPWORD_PG_PASSWORD_FILE": str(self._secrets / "postgres"),
            },
        )

    def start(self) -> None:
        """Make what is missing (certificates, passwords, configuration), start both servers."""
        self._make_tls()
        self._make_passwords()
        self._write_kafka_config()
        # Side by side: the broker's JVM takes most of the time, PostgreSQL starts meanwhile.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for started in [pool.submit(self.postgres.start), pool.submit(self.kafka.start)]:
                started.result()

    def stop(self) -> None:
        """Stop both; their data, certificates and passwords stay for the next start."""
        try:
            self.kafka.stop()
        finally:
            self.postgres.stop()

    def provision(self) -> None:
        """Topics, ACLs and migrations, through the `keepword` CLI as the admin principal."""
        env = os.environ | self.env(ADMIN_USER)
        commands = (["topics", "create", "--quiet"], ["acls", "apply"], ["db", "migrate", "-q"])
        # Independent of one another: run together.
        running = [
            subprocess.Popen(  # noqa: S603 - the project's own CLI
                [str(KEEPWORD), *command],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for command in commands
        ]
        for command, process in zip(commands, running, strict=True):
            _out, err = process.communicate(timeout=120)
            if process.returncode != 0:
                raise RuntimeError(f"keepword {' '.join(command)} failed: {err[-2000:]}")

    # --- what start makes once -------------------------------------------------------------

    @property
    def _secrets(self) -> Path:
        return self.state_dir / "secrets"

    def _make_tls(self) -> None:
        tls = self.tls_dir
        if (tls / "server.crt").exists():
            return
        tls.mkdir(parents=True, exist_ok=True)
        for name, subject in (("ca", "/CN=Keepword local CA"), ("other-ca", "/CN=Somebody else")):
            _openssl(
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", DAYS,
                "-keyout", tls / f"{name}.key", "-out", tls / f"{name}.crt", "-subj", subject,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            )  # fmt: skip
        _openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", BROKER_SUBJECT,
            "-keyout", tls / "server.key", "-out", tls / "server.csr",
        )  # fmt: skip
        extensions = tls / "server.ext"
        extensions.write_text(
            f"{SUBJECT_ALT_NAMES}\nextendedKeyUsage=serverAuth,clientAuth\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
        )
        _openssl(
            "x509", "-req", "-in", tls / "server.csr", "-days", DAYS,
            "-CA", tls / "ca.crt", "-CAkey", tls / "ca.key", "-CAcreateserial",
            "-extfile", extensions, "-out", tls / "server.crt",
        )  # fmt: skip
        # Kafka's PEM key store: the (unencrypted PKCS#8) key, then the certificate.
        pem = (tls / "server.key").read_text() + (tls / "server.crt").read_text()
        (tls / "broker.pem").write_text(pem)
        for key in tls.glob("*.key"):
            key.chmod(0o600)
        (tls / "broker.pem").chmod(0o600)

    def _make_passwords(self) -> None:
        self._secrets.mkdir(parents=True, exist_ok=True, mode=0o700)
        for user in (*USERS, "postgres"):
            path = self._secrets / user
            if not path.exists():
                path.touch(mode=0o600)
                path.write_text(secrets.token_urlsafe(24))
        scram = [
            arg
            for user in USERS
            for arg in (
                "--add-scram",
                f"SCRAM-SHA-512=[name={user},password={self.password(user)}]",
            )
        ]
        args = self._secrets / "kafka-format-args"
        args.touch(mode=0o600)
        args.write_text("\n".join(scram) + "\n")

    def _write_kafka_config(self) -> None:
        tls, port, controller = self.tls_dir, self.kafka_port, self.controller_port
        admin = self.password(ADMIN_USER)
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{ADMIN_USER}" password="{admin}";'
        )
        overlay = self.state_dir / "kafka-secure.properties"
        overlay.touch(mode=0o600)
        overlay.write_text(
            f"""\
# Written by keepword_testkit.secure_stack; kafka.sh appends it to server.properties.
listeners=SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL
# The controller listener takes only certificates of our CA: the broker's own.
listener.name.controller.ssl.client.auth=required
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={jaas}
ssl.keystore.type=PEM
ssl.keystore.location={tls / "broker.pem"}
ssl.truststore.type=PEM
ssl.truststore.location={tls / "ca.crt"}
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:{ADMIN_USER};User:CN=keepword-broker
"""
        )


def _openssl(*args: str | Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl is needed to make the certificates (apt-get install openssl)")
    subprocess.run(  # noqa: S603 - openssl with our own arguments
        [openssl, *map(str, args)], check=True, capture_output=True, timeout=60
    )


def _stack_from(args: argparse.Namespace) -> SecureStack:
    state = Path(args.state_dir).resolve()
    return SecureStack(
        state,
        kafka_port=int(os.environ.get("KEEPWORD_SECURE_KAFKA_PORT", "9192")),
        controller_port=int(os.environ.get("KEEPWORD_SECURE_CONTROLLER_PORT", "9193")),
        pg_port=int(os.environ.get("KEEPWORD_SECURE_PG_PORT", "5532")),
    )


def main(argv: list[str] | None = None) -> None:
    """The command line of deploy/local/secure_stack.sh."""
    parser = argparse.ArgumentParser(prog="secure_stack", description=__doc__)
    parser.add_argument("command", choices=("start", "stop", "env"))
    parser.add_argument("state_dir")
    parser.add_argument("--user", default=ADMIN_USER, choices=USERS)
    args = parser.parse_args(argv)
    stack = _stack_from(args)
    if args.command == "start":
        stack.start()
        stack.provision()
        print(
            f"secure stack: Kafka SASL_SSL on {stack.bootstrap}, PostgreSQL TLS on {stack.pg_port}"
        )
    elif args.command == "stop":
        stack.stop()
    else:  # env: shell lines to `eval`, for one principal
        for name, value in stack.env(args.user).items():
            print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
