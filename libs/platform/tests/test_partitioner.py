"""The partitioner chooses what Kafka's Java client chooses for the same key."""

from __future__ import annotations

import os

import pytest
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from keepword_platform.partitioner import Murmur2Partitioner, murmur2, partition_for_key

# Kafka's own test vectors: clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java
# (testMurmur2), as the Java client's signed ints.
JAVA_MURMUR2 = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}

# Partitions out of 1,000 that the Java client's default partitioner chose (the vectors the
# Python Kafka clients test against).
JAVA_PARTITIONS = {
    b"": 681,
    b"a": 524,
    b"ab": 434,
    b"abc": 107,
    b"123456789": 566,
    b"\x00 ": 742,
}


@pytest.mark.parametrize(("key", "expected"), JAVA_MURMUR2.items())
def test_murmur2_is_the_java_clients(key: bytes, expected: int) -> None:
    assert murmur2(key) == expected & 0xFFFFFFFF


@pytest.mark.parametrize(("key", "expected"), JAVA_PARTITIONS.items())
def test_partition_is_the_java_clients(key: bytes, expected: int) -> None:
    partitions = list(range(1000))
    assert partition_for_key(key, 1000) == expected
    assert Murmur2Partitioner()(key, partitions, partitions) == expected


def test_it_agrees_with_aiokafka_for_every_length_and_byte() -> None:
    for length in range(80):
        for _ in range(25):
            key = os.urandom(length)
            assert murmur2(key) == aiokafka_murmur2(key), key
    assert murmur2(bytes(range(256))) == aiokafka_murmur2(bytes(range(256)))


def test_an_unkeyed_record_goes_to_an_available_partition() -> None:
    choose = Murmur2Partitioner()
    assert choose(None, [0, 1, 2], [2]) == 2
    assert choose(None, [0, 1, 2], []) in (0, 1, 2)
