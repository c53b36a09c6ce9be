from __future__ import annotations

from keepword_platform.auth.keys import new_api_key, parse_api_key, secret_matches


def test_a_new_key_parses_and_its_secret_matches_the_stored_digest() -> None:
    key = new_api_key()
    parsed = parse_api_key(key.text)
    assert parsed is not None
    key_id, secret = parsed
    assert key_id == key.key_id
    assert secret_matches(secret, key.digest)
    assert secret not in key.digest.hex()


def test_keys_are_unique() -> None:
    assert len({new_api_key().text for _ in range(100)}) == 100


def test_malformed_keys_do_not_parse() -> None:
    for text in ["", "kw_", "Bearer x", "kw_zzzzzzzzzzzz_" + "a" * 43, "kw_0123456789ab_short"]:
        assert parse_api_key(text) is None


def test_a_wrong_secret_does_not_match() -> None:
    key = new_api_key()
    assert not secret_matches("a" * 43, key.digest)
