"""What the workers and the pages share through Redis: every key of the monitor, spelled here only.

Per pair: `due:<id>` (polled in this interval), `queued:<id>` (a poll is queued), `lock:<id>` (a poll is in
flight, holding a token), `recheck:<id>` (a recheck is queued), `lag:<id>` (the recent heartbeat lag).
For the monitor itself: `beat` (the dispatcher's last tick), `worker` (a worker's last finished batch),
`polls` (polls made). Every key starts with HAPANEL_CACHE_PREFIX, so two panels can share one Redis.
"""

from __future__ import annotations

import time
from functools import lru_cache

import redis as redis_lib
from django.conf import settings

PREFIX = f"{settings.CACHE_PREFIX}:"
BEAT_KEY = PREFIX + "beat"
WORKER_KEY = PREFIX + "worker"
POLLS_KEY = PREFIX + "polls"


def key(kind: str, pair_id: int) -> str:
    """A pair's key: kind is one of due, queued, lock, recheck, lag."""
    return f"{PREFIX}{kind}:{pair_id}"

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
    lag_key = key("lag", pair_id)
    pipe.lpush(lag_key, f"{now:.1f}:{'' if lag is None else f'{lag:.3f}'}:{'r' if regular else 'x'}")
    pipe.ltrim(lag_key, 0, LAG_SAMPLES - 1)


def finish_polls(client: redis_lib.Redis, token: str, pair_ids: list[int], lags: dict[int, float | None],
                 now: float, regular: bool = True) -> None:
    """After a batch of polls, in one round trip: release their locks, mark the worker alive, count the
    polls made (`lags` holds the pairs actually polled) and keep their lag, stamped with the batch's
    start, `now`, so the history also shows the polling rhythm."""
    try:
        pipe = client.pipeline(transaction=False)
        if pair_ids:
            pipe.eval(_RELEASE, len(pair_ids), *(key("lock", i) for i in pair_ids), token)
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
        raw = redis().lrange(key("lag", pair_id), 0, LAG_SAMPLES - 1)
    except redis_lib.RedisError:
        return []
    out = []
    for item in raw:
        ts, _, rest = item.decode().partition(":")
        lag = rest.partition(":")[0]
        if float(ts) >= since:
            out.append((float(ts), float(lag) if lag else None))
    return out[::-1]


def unpolled(pair_ids: list[int]) -> list[bool]:
    """For each pair, whether it is free of a `due` marker (not polled in its current interval)."""
    if not pair_ids:
        return []
    return [not polled for polled in redis().mget([key("due", pair_id) for pair_id in pair_ids])]


def mark_queued(pairs: list[tuple[int, float]]) -> list[bool]:
    """Sets `queued` for (pair id, interval) pairs; True where this caller set it (and so queues the poll).
    A task lost with its worker frees its pairs when the marker expires, after one interval."""
    pipe = redis().pipeline(transaction=False)
    for pair_id, interval in pairs:
        pipe.set(key("queued", pair_id), 1, nx=True, px=max(100, int(interval * 1000)))
    return [bool(ok) for ok in pipe.execute()]


def claim_due(pairs: list[tuple[int, float]]) -> list[bool]:
    """For regular polls: clears `queued` and takes `due` for `due_after` seconds, per (pair id, due_after);
    True where this poll may go ahead (the pair was not polled in this interval yet)."""
    pipe = redis().pipeline(transaction=False)
    for pair_id, due_after in pairs:
        pipe.delete(key("queued", pair_id))
        pipe.set(key("due", pair_id), 1, nx=True, px=int(1000 * due_after))
    return [bool(ok) for ok in pipe.execute()[1::2]]


def take_locks(pairs: list[tuple[int, float]], token: str) -> list[bool]:
    """Takes each pair's poll lock for (pair id, seconds); True where taken. A worker lost mid-poll holds its
    pairs no longer than those seconds."""
    pipe = redis().pipeline(transaction=False)
    for pair_id, seconds in pairs:
        pipe.set(key("lock", pair_id), token, nx=True, px=int(seconds * 1000))
    return [bool(ok) for ok in pipe.execute()]


def lock_holders(pair_ids: list[int]) -> list[bytes | None]:
    """The tokens of the polls holding these pairs' locks (None: free)."""
    return redis().mget([key("lock", pair_id) for pair_id in pair_ids])


def mark_recheck(pair_id: int, seconds: float) -> bool:
    """True when no recheck of the pair was pending: the caller queues one."""
    return bool(redis().set(key("recheck", pair_id), 1, nx=True, px=int(seconds * 1000)))


def clear_rechecks(pair_ids: list[int]) -> None:
    if pair_ids:
        redis().delete(*(key("recheck", pair_id) for pair_id in pair_ids))
