"""Kafka's default partitioner for keyed records, as the Java client computes it.

`toPositive(murmur2(keyBytes)) % numPartitions`, so a thread's events land on the partition any
Kafka client would choose for the same key. aiokafka ships only a byte-at-a-time pure-Python
murmur2 (about 4.5 us for a 20-byte thread id, a visible share of a batch's cost) and PyPI has
no maintained compiled murmur2 that is Kafka's 32-bit variant, so this one reads the key's
32-bit words in one `struct` call and folds them with few masks: the same results, about twice
as fast.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
_unpack_from = struct.unpack_from


def murmur2(data: bytes) -> int:
    """Kafka's `Utils.murmur2(data)` as an unsigned 32-bit integer."""
    length = len(data)
    h = _SEED ^ length
    words = length >> 2
    if words:
        for k in _unpack_from(f"<{words}I", data):
            k = (k * _M) & _MASK
            k = ((k ^ (k >> 24)) * _M) & _MASK
            h = ((h * _M) & _MASK) ^ k
    tail = length & 3
    if tail:
        end = length - tail
        if tail == 3:
            h ^= data[end + 2] << 16
        if tail >= 2:
            h ^= data[end + 1] << 8
        h = ((h ^ data[end]) * _M) & _MASK
    h = ((h ^ (h >> 13)) * _M) & _MASK
    return h ^ (h >> 15)


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition (0 .. partitions - 1) Kafka's Java client chooses for `key`."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class Murmur2Partitioner:
    """aiokafka's `DefaultPartitioner`, with the faster murmur2 (pass as `partitioner=`)."""

    def __call__(
        self, key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]
    ) -> int:
        """A keyed record's partition by its key's hash; an unkeyed one's at random."""
        if key is None:
            return random.choice(available or all_partitions)
        return all_partitions[(murmur2(key) & 0x7FFFFFFF) % len(all_partitions)]
