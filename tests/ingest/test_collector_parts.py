"""Small parts of the collector that need no broker: topics and backoff."""

from __future__ import annotations

from ingest.collector import TOPICS, Backoff, subscriptions


def test_subscriptions_plain_and_shared() -> None:
    assert subscriptions(None) == list(TOPICS)
    assert subscriptions("floorwatch") == [f"$share/floorwatch/{topic}" for topic in TOPICS]
    assert "floorwatch/up/#" in TOPICS
    assert "application/+/device/+/event/up" in TOPICS
    assert "v3/+/devices/+/up" in TOPICS


def test_backoff_grows_with_jitter_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(0.5, 8.0)
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [min(8.0, 0.5 * 2**n) for n in range(8)]
    assert all(0.0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    spread = {round(Backoff(0.5, 8.0).next_delay(), 6) for _ in range(50)}
    assert len(spread) > 1  # jittered: collectors do not retry in lockstep
    # full jitter: the whole range [0, ceiling] is drawn from, not only its upper part
    capped = Backoff(0.5, 8.0)
    capped.attempts = 10
    draws = [capped.next_delay() for _ in range(400)]
    assert min(draws) < 1.0 and max(draws) > 7.0 and 3.0 < sum(draws) / len(draws) < 5.0
    many = Backoff(0.5, 8.0)
    for _ in range(20):
        many.next_delay()
    assert max(many.next_delay() for _ in range(100)) <= 8.0
    many.reset()
    assert many.next_delay() <= 0.5
