"""Watch fan-out and the short event history that lets clients resume from a resourceVersion.

The store publishes every committed change here while holding the cluster lock, so a watcher
registered under the same lock sees a gap-free sequence: replayed history (or synthetic ADDED
events for the current state) followed by live events.  A resourceVersion older than the
retained history answers ``410 Expired`` as etcd compaction does.
"""
from __future__ import annotations

import collections
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, List, Optional, Set

from .errors import ApiError, gone

Matcher = Callable[[Dict[str, Any]], bool]


@dataclass
class WatchEvent:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    key: str
    namespace: str
    obj: Dict[str, Any]  # state after the change (for DELETED: final state); never mutated
    old: Optional[Dict[str, Any]]


CLOSE = object()  # sentinel put on a watcher queue to end the stream


class Watcher:
    def __init__(self, hub: "WatchHub", key: str, namespace: Optional[str], matcher: Matcher) -> None:
        self.hub = hub
        self.key = key
        self.namespace = namespace
        self.matcher = matcher
        self.queue: "queue.Queue[Any]" = queue.Queue()
        self.closed = False

    def offer(self, event: WatchEvent) -> None:
        """Translate a store change into what this watcher should see.

        Like the apiserver's watch cache, an object that starts matching the selector is
        reported as ADDED and one that stops matching as DELETED.
        """
        if self.namespace and event.namespace != self.namespace:
            return
        now = self.matcher(event.obj)
        before = event.old is not None and self.matcher(event.old)
        if event.type == "ADDED":
            if now:
                self.queue.put(("ADDED", event.obj))
        elif event.type == "DELETED":
            if now or before:
                self.queue.put(("DELETED", event.obj))
        else:
            if now and before:
                self.queue.put(("MODIFIED", event.obj))
            elif now:
                self.queue.put(("ADDED", event.obj))
            elif before:
                self.queue.put(("DELETED", event.obj))

    def close(self, error: Optional[ApiError] = None) -> None:
        if not self.closed:
            self.closed = True
            if error is not None:
                self.queue.put(("ERROR", error.to_status()))
            self.queue.put(CLOSE)

    def stop(self) -> None:
        self.hub.unsubscribe(self)


class WatchHub:
    def __init__(self, history_size: int = 100_000) -> None:
        self._history: Deque[WatchEvent] = collections.deque(maxlen=history_size)
        self._watchers: Dict[str, Set[Watcher]] = collections.defaultdict(set)
        self._lock = threading.Lock()
        self.floor_rv = 0  # changes with rv <= floor_rv may no longer be in the history

    def publish(self, event: WatchEvent) -> None:
        if len(self._history) == self._history.maxlen:
            self.floor_rv = self._history[0].rv
        self._history.append(event)
        with self._lock:
            watchers = list(self._watchers.get(event.key, ()))
        for watcher in watchers:
            watcher.offer(event)

    def subscribe(self, key: str, namespace: Optional[str], matcher: Matcher,
                  since_rv: Optional[int] = None) -> Watcher:
        """Register a watcher; with ``since_rv`` replay the retained history after it first.

        Must be called with the cluster lock held so no change slips between replay and live.
        """
        if since_rv is not None and since_rv < self.floor_rv:
            raise gone(f"too old resource version: {since_rv} ({self.floor_rv + 1})")
        watcher = Watcher(self, key, namespace, matcher)
        if since_rv is not None:
            for event in self._history:
                if event.rv > since_rv and event.key == key:
                    watcher.offer(event)
        with self._lock:
            self._watchers[key].add(watcher)
        return watcher

    def unsubscribe(self, watcher: Watcher) -> None:
        with self._lock:
            self._watchers.get(watcher.key, set()).discard(watcher)

    def close_all(self, error: Optional[ApiError] = None) -> None:
        with self._lock:
            watchers = [w for ws in self._watchers.values() for w in ws]
            self._watchers.clear()
        for watcher in watchers:
            watcher.close(error)

    def reset_history(self, floor_rv: int) -> None:
        self._history.clear()
        self.floor_rv = floor_rv

    def watcher_count(self) -> int:
        with self._lock:
            return sum(len(ws) for ws in self._watchers.values())
