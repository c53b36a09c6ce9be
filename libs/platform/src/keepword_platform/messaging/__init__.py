"""Reliable messaging for services that consume and publish: inbox, outbox, relay, dead letters.

- Inbox: every consumed event id is recorded in the same transaction as the state change it
  caused, so an event redelivered by Kafka (after a crash, a rebalance, a replay) changes nothing;
  only a dead letter replayed by ops is taken up again by the service that set it aside.
- Outbox: events to publish are rows written in that same transaction; a relay publishes them and
  marks them sent. A crash at any instant loses nothing; at worst an event is published twice
  with the same id, which every reader's inbox absorbs.
- Dead letters: a record that cannot be decoded or handled becomes an outbox row for
  `<topic>.dlq` carrying the original bytes and headers plus the reason, and the consumer moves on.
"""
