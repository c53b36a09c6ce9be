"""Whether an email's From: is proven: DKIM signed with a key made here, Authentication-Results
forged and real, SMTP AUTH logins and the company's Sent folder."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from keepword_intake.mail_origin import MailOrigin
from keepword_intake.sender_trust import Claim, MailTrust, trust_of, verdict
from keepword_testkit.mail_signing import DkimKey, new_dkim_key

COMPANY = "brightline.example"
STAFF = f"casey.service@{COMPANY}"
MANAGER = f"morgan.lead@{COMPANY}"
TRUSTED_MTA = "mx.brightline.example"


@pytest.fixture(scope="module")
def company_key() -> DkimKey:
    return new_dkim_key(COMPANY)


@pytest.fixture(scope="module")
def other_key() -> DkimKey:
    return new_dkim_key("elsewhere.example")


def trust(*keys: DkimKey) -> MailTrust:
    return trust_of(
        frozenset({f"support@{COMPANY}"}),
        trusted_mtas=(TRUSTED_MTA,),
        dkim_keys={k.dns_name: k.txt_record for k in keys},
        dkim_dns=False,
    )


def staff_reply(sender: str = STAFF, subject: str = "Re: My order [#thr-aaaa]") -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Casey Brooks <{sender}>"
    message["To"] = "dana@example.com"
    message["Cc"] = f"support@{COMPANY}"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=COMPANY)
    message["In-Reply-To"] = "<first@example.com>"
    message["References"] = "<first@example.com>"
    message.set_content("It ships tomorrow.")
    return message


def wire(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def judge(raw: bytes, origin: MailOrigin = MailOrigin.SMTP, **claim: str) -> tuple[bool, str]:
    address = claim.pop("address", STAFF)
    found = verdict(raw, origin, Claim(address, **claim), trust())
    return found.verified, found.how


def test_an_unsigned_staff_mail_is_not_proven() -> None:
    assert judge(wire(staff_reply())) == (False, "no proof")


def test_a_signature_of_the_company_domain_proves_it(company_key: DkimKey) -> None:
    raw = company_key.sign(wire(staff_reply()))
    assert verdict(raw, MailOrigin.SMTP, Claim(STAFF), trust(company_key)).how == "dkim"


def test_an_unknown_key_proves_nothing(company_key: DkimKey) -> None:
    raw = company_key.sign(wire(staff_reply()))
    assert not verdict(raw, MailOrigin.SMTP, Claim(STAFF), trust()).verified


def test_a_valid_signature_of_another_domain_does_not_count(other_key: DkimKey) -> None:
    raw = other_key.sign(wire(staff_reply()))
    assert not verdict(raw, MailOrigin.SMTP, Claim(STAFF), trust(other_key)).verified


def test_the_senders_own_domain_speaks_for_its_mailboxes(other_key: DkimKey) -> None:
    partner = "pat@elsewhere.example"
    raw = other_key.sign(wire(staff_reply(sender=partner)))
    assert verdict(raw, MailOrigin.SMTP, Claim(partner), trust(other_key)).verified


def test_a_signed_reply_moved_to_another_thread_fails(company_key: DkimKey) -> None:
    raw = company_key.sign(wire(staff_reply()))
    moved = raw.replace(b"[#thr-aaaa]", b"[#thr-bbbb]")
    assert not verdict(moved, MailOrigin.SMTP, Claim(STAFF), trust(company_key)).verified


def test_a_subject_added_above_the_signed_one_fails(company_key: DkimKey) -> None:
    raw = company_key.sign(wire(staff_reply()))
    replayed = b"Subject: Re: other [#thr-bbbb]\r\n" + raw
    assert not verdict(replayed, MailOrigin.SMTP, Claim(STAFF), trust(company_key)).verified


def test_references_added_after_signing_fail(company_key: DkimKey) -> None:
    message = staff_reply()
    del message["References"], message["In-Reply-To"]
    raw = company_key.sign(wire(message))
    replayed = b"References: <theirs@keepword>\r\n" + raw
    assert not verdict(replayed, MailOrigin.SMTP, Claim(STAFF), trust(company_key)).verified


def test_a_signature_that_leaves_the_subject_out_does_not_count(company_key: DkimKey) -> None:
    raw = company_key.sign(wire(staff_reply()), headers=("from", "to", "message-id"))
    assert not verdict(raw, MailOrigin.SMTP, Claim(STAFF), trust(company_key)).verified


def test_a_body_changed_after_signing_fails(company_key: DkimKey) -> None:
    raw = company_key.sign(wire(staff_reply()))
    changed = raw.replace(b"ships tomorrow", b"is refunded!!")
    assert not verdict(changed, MailOrigin.SMTP, Claim(STAFF), trust(company_key)).verified


def results(authserv_id: str, method: str = "dkim", domain: str = COMPANY) -> bytes:
    prop = "header.d" if method == "dkim" else "header.from"
    return f"Authentication-Results: {authserv_id}; {method}=pass {prop}={domain}\r\n".encode()


@pytest.mark.parametrize("method", ["dkim", "dmarc"])
def test_results_of_the_trusted_mta_count_for_mail_it_delivered(method: str) -> None:
    raw = results(TRUSTED_MTA, method) + wire(staff_reply())
    assert verdict(raw, MailOrigin.MAILBOX_INBOX, Claim(STAFF), trust()).how == (
        "authentication-results"
    )
    assert verdict(raw, MailOrigin.SMTP_RELAY, Claim(STAFF), trust()).verified


def test_results_sent_straight_to_the_listener_count_for_nothing() -> None:
    raw = results(TRUSTED_MTA) + wire(staff_reply())
    assert not verdict(raw, MailOrigin.SMTP, Claim(STAFF), trust()).verified


def test_results_of_an_untrusted_host_are_ignored() -> None:
    raw = results("mx.attacker.example") + wire(staff_reply())
    assert not verdict(raw, MailOrigin.MAILBOX_INBOX, Claim(STAFF), trust()).verified


def test_a_forged_result_below_the_trusted_mtas_is_ignored() -> None:
    forged = results(TRUSTED_MTA) + wire(staff_reply())
    received = b"Received: from mx.attacker.example by mx.brightline.example; 1 Jan 2026\r\n"
    top = f"Authentication-Results: {TRUSTED_MTA}; dkim=none\r\n".encode()
    raw = top + received + forged
    assert not verdict(raw, MailOrigin.MAILBOX_INBOX, Claim(STAFF), trust()).verified


def test_a_pass_for_another_domain_is_not_the_senders() -> None:
    raw = results(TRUSTED_MTA, domain="attacker.example") + wire(staff_reply())
    assert not verdict(raw, MailOrigin.MAILBOX_INBOX, Claim(STAFF), trust()).verified


@pytest.mark.parametrize(
    "header",
    [
        "Authentication-Results: " + "x" * 5000,
        "Authentication-Results: ;;;===",
        "Authentication-Results: mx.brightline.example; dkim=pass (unclosed",
    ],
)
def test_garbled_results_are_no_proof(header: str) -> None:
    raw = header.encode() + b"\r\n" + wire(staff_reply())
    assert not verdict(raw, MailOrigin.MAILBOX_INBOX, Claim(STAFF), trust()).verified


def test_smtp_auth_proves_the_login_address_only() -> None:
    raw = wire(staff_reply())
    assert judge(raw, MailOrigin.SMTP_AUTH, smtp_login=STAFF.upper()) == (True, "smtp auth")
    assert not judge(raw, MailOrigin.SMTP_AUTH, address=MANAGER, smtp_login=STAFF)[0]


def test_the_sent_folder_is_the_companys_own() -> None:
    assert judge(wire(staff_reply()), MailOrigin.MAILBOX_SENT) == (True, "sent folder")


def test_garbage_bytes_are_no_proof(company_key: DkimKey) -> None:
    for raw in (b"", b"\x00\xff" * 100, b"DKIM-Signature: v=1; a=rsa-sha256; d=\r\n\r\nbody"):
        assert not verdict(raw, MailOrigin.SMTP, Claim(STAFF), trust(company_key)).verified
