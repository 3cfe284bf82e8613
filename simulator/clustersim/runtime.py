"""The controller runtime: one thread runs every simulated-operator callback, in order.

Callbacks (timers from ``cluster.after`` and change notifications from ``cluster.on_change``)
run one at a time with the cluster lock held, ordered by due time and then by submission order,
so operator behaviour is deterministic and operators never race each other or HTTP writes.
"""
from __future__ import annotations

import heapq
import itertools
import sys
import threading
import time
import traceback
from typing import Any, Callable, List, Optional, Tuple


class Task:
    __slots__ = ("due", "seq", "fn", "args", "background", "cancelled", "name")

    def __init__(self, due: float, seq: int, fn: Callable[..., Any], args: Tuple[Any, ...], background: bool) -> None:
        self.due = due
        self.seq = seq
        self.fn = fn
        self.args = args
        self.background = background
        self.cancelled = False
        self.name = getattr(fn, "__qualname__", repr(fn))

    def cancel(self) -> None:
        """Prevent the task from running (no effect once it ran)."""
        self.cancelled = True

    def __lt__(self, other: "Task") -> bool:
        return (self.due, self.seq) < (other.due, other.seq)


class Runtime:
    def __init__(self, lock: "threading.RLock", api_waiting: Optional[Callable[[], bool]] = None) -> None:
        self._lock = lock
        self._api_waiting = api_waiting or (lambda: False)
        self._heap: List[Task] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._busy = False
        self._running = False
        self._thread: Optional[threading.Thread] = None
        self.errors: List[str] = []  # tracebacks of failed callbacks (exposed on /_sim/status)

    def after(self, seconds: float, fn: Callable[..., Any], *args: Any, background: bool = False) -> Task:
        """Run ``fn(*args)`` on the controller thread after ``seconds``.

        ``background=True`` marks periodic/housekeeping work that ``settle()`` does not wait for.
        """
        task = Task(time.monotonic() + max(0.0, seconds), next(self._seq), fn, args, background)
        with self._cv:
            heapq.heappush(self._heap, task)
            self._cv.notify_all()
        return task

    def submit(self, fn: Callable[..., Any], *args: Any) -> Task:
        return self.after(0.0, fn, *args)

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="clustersim-controllers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._running = False
            self._cv.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def cancel_all(self) -> None:
        with self._cv:
            for task in self._heap:
                task.cancelled = True
            self._heap.clear()
            self._cv.notify_all()

    def pending(self) -> int:
        with self._cv:
            return sum(1 for t in self._heap if not t.cancelled)

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until no foreground task is queued or running.  Returns False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                if not self._busy and not any(not t.cancelled and not t.background for t in self._heap):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cv.wait(min(remaining, 0.05))

    def _loop(self) -> None:
        while True:
            with self._cv:
                task = None
                while self._running:
                    while self._heap and self._heap[0].cancelled:
                        heapq.heappop(self._heap)
                    if self._heap:
                        delay = self._heap[0].due - time.monotonic()
                        if delay <= 0:
                            task = heapq.heappop(self._heap)
                            self._busy = True
                            break
                        self._cv.wait(delay)
                    else:
                        self._cv.wait()
                if not self._running:
                    return
            # HTTP requests waiting for the lock go first (bounded, so controllers never starve).
            deadline = time.monotonic() + 0.05
            while self._api_waiting() and time.monotonic() < deadline:
                time.sleep(0.0002)
            try:
                with self._lock:
                    task.fn(*task.args)
            except Exception:  # an operator bug must not stop every other operator
                text = f"controller task {task.name} failed:\n{traceback.format_exc()}"
                self.errors.append(text)
                del self.errors[:-50]
                print(text, file=sys.stderr, flush=True)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()
