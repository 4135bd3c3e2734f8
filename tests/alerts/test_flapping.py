"""Flapping: more than 4 flips in 10 minutes send one `flapping` alert, hold the rest, then one summary."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from alerts import delivery, flapping
from alerts.events import event_for
from alerts.models import Channel, FlapEpisode, Notification
from monitor.models import Pair, Transition
from tests.receivers import HttpReceiver


def test_flapping_pair_alerts_once_holds_then_summarises(transactional_db, redis_url, flush_redis, settings):
    pair = Pair.objects.create(name="vault-1")
    start = timezone.now() - dt.timedelta(minutes=5)
    with HttpReceiver() as http:
        hook = Channel.objects.create(kind="webhook", name="hook", config={"url": http.url})
        for event in ("ha-failed", "ha-alive"):
            hook.routes.create(event=event)
        statuses = ["Alive", "Failed"] * 4  # 7 flips: Alive→Failed→Alive ...
        for i, (old, new) in enumerate(zip(statuses, statuses[1:], strict=False)):
            t = Transition.objects.create(pair=pair, kind="ha", old_status=old, new_status=new,
                                          cause="link-cut" if new == "Failed" else "ok", summary=f"flip {i}",
                                          detected_at=start + dt.timedelta(seconds=10 * i))
            for nid in delivery.notifications_for([t.pk]):
                assert delivery.deliver(nid)[0] == delivery.SENT
        rows = list(Notification.objects.order_by("id").values_list("purpose", "status"))
        assert rows == [("flip", "sent")] * 4 + [("flapping", "sent")] + [("flip", "held")] * 2
        assert flapping.is_flapping(pair)
        bodies = http.json()
        assert len(bodies) == 5 and bodies[4]["event"] == "flapping"
        assert bodies[4]["title"] == "Flapping" and "further flips are held" in bodies[4]["summary"]

        assert flapping.close_stable(timezone.now()) == []  # not quiet long enough yet (300 s)
        later = timezone.now() + dt.timedelta(seconds=settings.ALERTS_STABLE_SECONDS)
        made = flapping.close_stable(later)
        assert len(made) == 1 and flapping.close_stable(later) == []  # one summary, once
        assert delivery.deliver(made[0])[0] == delivery.SENT
        summary = http.wait(6)[5]
        assert '"event": "stable"' in summary.body and "2 flips were held" in summary.body
        assert not flapping.is_flapping(pair)
        assert FlapEpisode.objects.get().held == 2


def test_which_flips_alert(transactional_db):
    pair = Pair.objects.create(name="vault-1")
    now = timezone.now()

    def t(old, new, cause="ok", kind="ha"):
        return Transition.objects.create(pair=pair, kind=kind, old_status=old, new_status=new, cause=cause,
                                         detected_at=now)

    assert event_for(t("Unknown", "Alive")) is None  # the first verdict after adding a pair
    assert event_for(t("Alive", "Failed", "primary-down")) == "ha-failed"
    assert event_for(t("Failed", "Unknown", "unreachable")) == "sight-lost"  # not a failure, but news
    assert event_for(t("Unknown", "Alive")) == "ha-alive"  # ends the Failed that was alerted
    assert event_for(t("Alive", "Unknown", "monitor-auth-failure")) == "sight-lost"
    assert event_for(t("Unknown", "Alive")) == "sight-back"
    assert event_for(t("Alive", "Unknown", "monitor-stale")) == "monitor-stale"
    assert event_for(t("Unknown", "Alive")) == "monitor-recovered"
    assert event_for(t("Unknown", "Alive", kind="replication")) is None  # the first verdict
    assert event_for(t("Alive", "Unknown", "primary-unreachable", kind="replication")) == "sight-lost"
    assert event_for(t("Unknown", "Alive", kind="replication")) == "sight-back"
    assert event_for(t("Alive", "Failed", "apply-error", kind="replication")) == "replication-failed"


def test_an_unreadable_node_of_a_failed_pair_is_no_news(transactional_db):
    """A crashed primary cannot be read: the replication status turns Unknown, and the Failed alert says why."""
    pair = Pair.objects.create(name="vault-2")
    now = timezone.now()

    def t(old, new, cause, kind):
        return Transition.objects.create(pair=pair, kind=kind, old_status=old, new_status=new, cause=cause,
                                         detected_at=now)

    assert event_for(t("Alive", "Failed", "primary-down", "ha")) == "ha-failed"
    assert event_for(t("Alive", "Unknown", "primary-unreachable", "replication")) is None
    assert event_for(t("Failed", "Alive", "ok", "ha")) == "ha-alive"
    assert event_for(t("Unknown", "Alive", "ok", "replication")) is None


def test_flapping_never_hides_a_new_cause_or_a_failure_that_lasts(transactional_db, redis_url, flush_redis,
                                                                  settings):
    """Cuts make the pair flap; a crash is then news at once, and a cut that lasts is alerted after the hold."""
    pair = Pair.objects.create(name="vault-3")
    start = timezone.now() - dt.timedelta(minutes=5)
    with HttpReceiver() as http:
        hook = Channel.objects.create(kind="webhook", name="hook", config={"url": http.url})
        for event in ("ha-failed", "ha-alive"):
            hook.routes.create(event=event)

        def flip_to(old, new, cause, at):
            t = Transition.objects.create(pair=pair, kind="ha", old_status=old, new_status=new, cause=cause,
                                          summary=f"{new} ({cause})", detected_at=at)
            return [delivery.deliver(nid)[0] for nid in delivery.notifications_for([t.pk])], t

        for i in range(6):  # link cuts and their ends: the fifth flip opens the episode, the sixth is held
            flip_to(*(("Alive", "Failed", "link-cut") if i % 2 == 0 else ("Failed", "Alive", "ok")),
                    start + dt.timedelta(seconds=10 * i))
        assert flapping.is_flapping(pair) and len(http.messages()) == 5
        sent, _ = flip_to("Alive", "Failed", "primary-down", start + dt.timedelta(seconds=60))
        assert sent == [delivery.SENT], "a crash during link-cut flapping is news, not a repeat"
        flip_to("Failed", "Alive", "ok", start + dt.timedelta(seconds=70))
        held, cut = flip_to("Alive", "Failed", "link-cut", start + dt.timedelta(seconds=80))
        assert held == [] and Notification.objects.get(transition=cut).status == Notification.HELD

        Pair.objects.filter(pk=pair.pk).update(ha_status="Failed", ha_cause="link-cut", ha_since=cut.detected_at)
        early = cut.detected_at + dt.timedelta(seconds=settings.ALERTS_FLAP_HOLD - 1)
        assert flapping.release_sustained(early) == []
        late = cut.detected_at + dt.timedelta(seconds=settings.ALERTS_FLAP_HOLD + 1)
        released = flapping.release_sustained(late)
        assert len(released) == 1 and flapping.release_sustained(late) == []  # once
        assert delivery.deliver(released[0])[0] == delivery.SENT
        last = http.json()[-1]
        assert (last["event"], last["cause"]) == ("ha-failed", "link-cut")
        assert len(http.messages()) == 7

        # The flips still held are told in one digest at most every ALERTS_DIGEST_SECONDS, saying the state.
        episode = FlapEpisode.objects.get(pair=pair, ended__isnull=True)
        assert flapping.digests(episode.started + dt.timedelta(seconds=settings.ALERTS_DIGEST_SECONDS - 1)) == []
        later = episode.started + dt.timedelta(seconds=settings.ALERTS_DIGEST_SECONDS + 1)
        [digest] = flapping.digests(later)
        assert flapping.digests(later) == []  # once
        assert delivery.deliver(digest)[0] == delivery.SENT
        told = http.json()[-1]
        assert told["event"] == "flapping" and told["title"] == "Still flapping"
        assert f"{episode.held} flips held so far" in told["summary"]
        assert "Now High Availability Failed" in told["summary"]
