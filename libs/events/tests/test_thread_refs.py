from __future__ import annotations

from keepword_events.thread_refs import (
    THREAD_ID,
    keepword_message_id,
    new_thread_id,
    subject_token,
    thread_in_message_ids,
    thread_in_subject,
)


def test_new_thread_ids_have_the_documented_shape_and_differ() -> None:
    ids = {new_thread_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(THREAD_ID.fullmatch(i) for i in ids)


def test_a_subject_token_reads_back_from_a_reply_subject() -> None:
    thread = new_thread_id()
    subject = f"RE: Fwd: Your order {subject_token(thread)} (update)"
    assert thread_in_subject(subject) == thread


def test_subjects_without_a_token() -> None:
    assert thread_in_subject(None) is None
    assert thread_in_subject("Re: [#thr-xyz] hello") is None


def test_our_message_id_names_the_thread_among_references() -> None:
    thread = new_thread_id()
    ours = keepword_message_id(thread, "ntf-1", "keepword.example")
    assert thread_in_message_ids(["<abc@gmail.com>", ours]) == thread
    assert thread_in_message_ids(["<abc@gmail.com>"]) is None
