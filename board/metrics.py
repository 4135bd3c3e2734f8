"""Prometheus metrics read from the app database at scrape time (a collector, not process-global counters).

The web process keeps no state of its own: every worker of gunicorn answers the same numbers, read from
what the monitor recorded. Statuses go through the presenters, so a stale `Alive` is exported as -1.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from django.db.models.fields.json import KT
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from board import presenters
from monitor.models import PairRisk, Transition
from monitor.vocabulary import Status

STATUS_HELP = "1 alive, 0 failed, -1 unknown (including a reading older than the staleness bound)"


ROLES = (("primary", "secondary"), ("secondary", "primary"))  # (replica, its source)


def _rows() -> Iterator[tuple[tuple, dict]]:
    """Each board row, with its nodes' reach and first channel's threads pulled out of the JSON by the DB."""
    extra = {}
    for role, _ in ROLES:
        extra[f"{role}_reach"] = KT(f"readings__{role}__reach")
        # the first channel: the default one on a pair set up as hapanel describes
        extra[f"{role}_io"] = KT(f"readings__{role}__channels__0__io_running")
        extra[f"{role}_sql"] = KT(f"readings__{role}__channels__0__sql_running")
    n = len(presenters.ROW)
    for row in presenters.board_queryset(**extra):
        yield row[:n], dict(zip(extra, row[n:], strict=True))


class PairCollector:
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        ha = GaugeMetricFamily("hapanel_pair_ha_status", f"High Availability status of the pair: {STATUS_HELP}",
                               labels=["pair"])
        repl = GaugeMetricFamily("hapanel_pair_replication_status", f"Replication status of the pair: {STATUS_HELP}",
                                 labels=["pair"])
        lag = GaugeMetricFamily("hapanel_pair_heartbeat_lag_seconds",
                                "Worst heartbeat age over the pair's directions at the last poll", labels=["pair"])
        age = GaugeMetricFamily("hapanel_pair_last_check_age_seconds", "Seconds since the pair's last recorded poll",
                                labels=["pair"])
        reach = GaugeMetricFamily("hapanel_node_reachable", "1 when the monitor reached the node at the last poll",
                                  labels=["pair", "role"])
        io = GaugeMetricFamily("hapanel_replica_io_running", "1 when the replica's IO thread is Yes",
                               labels=["pair", "replica", "source"])
        sql = GaugeMetricFamily("hapanel_replica_sql_running", "1 when the replica's SQL thread is Yes",
                                labels=["pair", "replica", "source"])
        bounds: dict = {}
        for row, nodes in _rows():
            view = presenters.present(row, now, bounds)
            name = view.name
            ha.add_metric([name], Status(view.ha.status).metric)
            repl.add_metric([name], Status(view.repl.status).metric)
            if view.lag is not None:
                lag.add_metric([name], view.lag)
            if view.check_age is not None:
                age.add_metric([name], view.check_age)
            for role, source in ROLES:
                if nodes[f"{role}_reach"] is not None:
                    reach.add_metric([name, role], 1 if nodes[f"{role}_reach"] == "ok" else 0)
                if nodes[f"{role}_io"] is not None:
                    io.add_metric([name, role, source], 1 if nodes[f"{role}_io"] == "Yes" else 0)
                if nodes[f"{role}_sql"] is not None:
                    sql.add_metric([name, role, source], 1 if nodes[f"{role}_sql"] == "Yes" else 0)
        yield from (ha, repl, lag, age, reach, io, sql)
        yield self._transitions()
        yield from self._risks()
        yield self._monitor()

    def _transitions(self) -> Metric:
        total = CounterMetricFamily("hapanel_transitions", "Status flips recorded", labels=["pair", "kind", "to"])
        rows = Transition.objects.values_list("pair__name", "kind", "new_status").annotate(n=Count("id"))
        for name, kind, new, n in rows.order_by():
            total.add_metric([name, kind, new], n)
        return total

    def _risks(self) -> Iterator[Metric]:
        """Warnings before failures: one series per open warning, and how many each pair has had."""
        now = GaugeMetricFamily("hapanel_pair_warning", "1 for each open warning before a failure, by its code, "
                                "subject (node or direction) and severity (critical, warning, unknown)",
                                labels=["pair", "code", "subject", "severity"])
        current = PairRisk.objects.filter(cleared_at__isnull=True, pair__archived=False)
        for name, code, subject, severity in current.values_list("pair__name", "code", "subject", "severity"):
            now.add_metric([name, code, subject, severity], 1)
        total = CounterMetricFamily("hapanel_warnings_raised", "Warnings before failures raised",
                                    labels=["pair", "code"])
        rows = PairRisk.objects.filter(pair__archived=False).values_list("pair__name", "code").annotate(n=Count("id"))
        for name, code, n in rows.order_by():
            total.add_metric([name, code], n)
        yield from (now, total)

    def _monitor(self) -> Metric:
        up = GaugeMetricFamily("hapanel_monitor_up", "1 when the monitor's beat ran within the staleness bound "
                               "and Redis answers")
        up.add_metric([], 1 if presenters.monitor_banner()["ok"] else 0)
        return up


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PairCollector())
    return generate_latest(registry)
