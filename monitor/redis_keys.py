"""Redis keys that tell whether the monitor itself is alive, and the per-pair poll lock."""

from __future__ import annotations

import time
from functools import lru_cache

import redis as redis_lib
from django.conf import settings

PREFIX = "hapanel:"
BEAT_KEY = PREFIX + "beat"
WORKER_KEY = PREFIX + "worker"

# Deletes each lock only if it is still ours (it may have expired and been taken by another poll).
_RELEASE = """
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then n = n + redis.call('del', key) end
end
return n
"""


@lru_cache(maxsize=1)
def redis() -> redis_lib.Redis:
    return redis_lib.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2)


def beat(now: float) -> None:
    redis().set(BEAT_KEY, now)


POLLS_KEY = PREFIX + "polls"


def monitor_state(now: float | None = None, bound: float | None = None) -> dict:
    """What the page's banner says: is the dispatcher ticking, can we reach Redis at all."""
    now = now or time.time()
    bound = bound or settings.STALE_MIN_SECONDS
    try:
        values = redis().mget(BEAT_KEY, WORKER_KEY)
    except redis_lib.RedisError as exc:
        return {"ok": False, "reason": f"the broker (Redis) is unreachable: {exc}", "since": None}
    last = float(values[0]) if values[0] else None
    if last is None:
        return {"ok": False, "reason": "the monitor has never run (no Celery worker and beat seen)", "since": None}
    age = now - last
    if age > bound:
        return {"ok": False, "reason": f"no worker has run the monitor for {age:.0f} s", "since": last}
    return {"ok": True, "reason": "", "since": last, "age": age}


LAG_SAMPLES = 3600  # one hour at the default 1-s interval


def _keep_lag(pipe, pair_id: int, now: float, lag: float | None, regular: bool) -> None:
    """Adds one sample, `time:lag:kind`, to the pair's history on `pipe`, keeping the last LAG_SAMPLES."""
    key = f"{PREFIX}lag:{pair_id}"
    pipe.lpush(key, f"{now:.1f}:{'' if lag is None else f'{lag:.3f}'}:{'r' if regular else 'x'}")
    pipe.ltrim(key, 0, LAG_SAMPLES - 1)


def finish_polls(client: redis_lib.Redis, token: str, pair_ids: list[int], lags: dict[int, float | None],
                 now: float, regular: bool = True) -> None:
    """After a batch of polls, in one round trip: release their locks, mark the worker alive, count the
    polls made (`lags` holds the pairs actually polled) and keep their lag, stamped with the batch's
    start, `now`, so the history also shows the polling rhythm."""
    try:
        pipe = client.pipeline(transaction=False)
        if pair_ids:
            pipe.eval(_RELEASE, len(pair_ids), *(f"{PREFIX}lock:{i}" for i in pair_ids), token)
        pipe.set(WORKER_KEY, now)
        if lags:
            pipe.incrby(POLLS_KEY, len(lags))
        for pair_id, lag in lags.items():
            _keep_lag(pipe, pair_id, now, lag, regular)
        pipe.execute()
    except redis_lib.RedisError:
        pass  # the locks expire by themselves; liveness and the chart catch up at the next poll


def push_lag(pair_id: int, now: float, lag: float | None, regular: bool = True) -> None:
    """Keeps the pair's recent heartbeat lag in Redis for the pair page's chart (not in the app DB)."""
    try:
        pipe = redis().pipeline()
        _keep_lag(pipe, pair_id, now, lag, regular)
        pipe.execute()
    except redis_lib.RedisError:
        pass  # the chart loses a point; the status does not depend on it


def lag_history(pair_id: int, since: float) -> list[tuple[float, float | None]]:
    """(time, lag seconds or None when unknown), oldest first, newer than `since`.

    A sample is `time:lag[:kind]`; kind `r` marks a regular poll, `x` a recheck or an immediate one."""
    try:
        raw = redis().lrange(f"{PREFIX}lag:{pair_id}", 0, LAG_SAMPLES - 1)
    except redis_lib.RedisError:
        return []
    out = []
    for item in raw:
        ts, _, rest = item.decode().partition(":")
        lag = rest.partition(":")[0]
        if float(ts) >= since:
            out.append((float(ts), float(lag) if lag else None))
    return out[::-1]
