"""What a simulated container does when it runs: a documented convention, pure functions.

No image is pulled and nothing executes. The kubelet simulation reads a container's
``command`` + ``args`` as a tiny shell and derives four things: the lines it prints at start, the
lines it prints again on every turn of a ``while true`` loop (and the loop's ``sleep``), how long
it runs, and its exit code.

* ``echo WORDS`` prints WORDS (shell quoting removed; ``$(...)`` is not expanded).
* ``for NAME in WORDS; do BODY; done`` runs BODY once per word with ``$NAME`` / ``${NAME}``
  replaced; the words may be ``$(seq LAST)``, ``$(seq FIRST LAST)`` or ``$(seq FIRST STEP
  LAST)`` (coreutils seq(1)) or literal words (at most 10,000 turns).
* ``sleep N`` runs N seconds (``sleep infinity`` forever); each simulated second lasts
  ``container_second`` (default 1, times ``--time-scale``).
* ``while true`` / ``while :`` / ``tail -f`` / ``sleep infinity`` run forever.
* ``exit N`` (last one wins) and the commands ``true`` / ``false`` set the exit code.
* No command (the image's entrypoint) or an unknown one: a container of a ``restartPolicy:
  Always`` pod runs forever (a server); of a ``Never`` / ``OnFailure`` pod it exits 0 after
  ``container_run`` seconds (a batch step).
* A shell, ``sleep`` or ``tail`` running as the container's PID 1 has no SIGTERM handler, and
  the kernel delivers no default-action signal to PID 1 (pid_namespaces(7)), so such a container
  only stops when the grace period ends in SIGKILL (``ignores_sigterm``); an image's own
  entrypoint (no command, or another program) is taken to exit on SIGTERM.
* Pod annotations override: ``clustersim.io/exit-code: "N"`` (every container exits N) and
  ``clustersim.io/run-seconds: "S"`` (every container runs S simulated seconds; ``"inf"``
  forever).
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

EXIT_CODE_ANNOTATION = "clustersim.io/exit-code"
RUN_SECONDS_ANNOTATION = "clustersim.io/run-seconds"
SHELLS = ("sh", "bash", "ash", "dash", "zsh")
_LOOP = re.compile(r"\bwhile\s+(true|:)\s*;?\s*do\b(?P<body>.*?)\bdone\b", re.S)
_FOR = re.compile(r"\bfor\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+in\s+(?P<words>.*?)\s*;?\s*\bdo\b"
                  r"(?P<body>.*?)\bdone\b", re.S)
FOR_LIMIT = 10_000
_STATEMENT_SPLIT = re.compile(r"\s*(?:;|&&|\|\||\n|\bdo\b|\bdone\b|\bthen\b|\bfi\b)\s*")


@dataclass
class ContainerRun:
    """How a simulated container behaves; ``runs_for`` None means until stopped."""
    output: List[str] = field(default_factory=list)
    repeat: List[str] = field(default_factory=list)
    period: float = 1.0
    runs_for: Optional[float] = None
    exit_code: int = 0
    ignores_sigterm: bool = False


def _words(statement: str) -> List[str]:
    try:
        return shlex.split(statement)
    except ValueError:
        return statement.split()


def _seconds(word: str) -> Optional[float]:
    if word == "infinity":
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", word)
    if not match:
        return 0.0
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _apply_statements(text: str, run: ContainerRun, lines: List[str]) -> bool:
    """Walk ``;``/``&&``-separated statements; returns True when one of them never ends."""
    forever = False
    for statement in filter(None, _STATEMENT_SPLIT.split(text)):
        words = _words(statement)
        if not words:
            continue
        verb = words[0].rsplit("/", 1)[-1]
        if verb == "echo":
            lines.append(" ".join(w for w in words[1:] if not w.startswith("-") or w == "-"))
        elif verb == "sleep" and len(words) > 1:
            seconds = _seconds(words[1])
            if seconds is None:
                forever = True
            elif run.runs_for is not None:
                run.runs_for += seconds
        elif verb == "tail" and "-f" in words:
            forever = True
        elif verb == "exit":
            run.exit_code = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
        elif verb in ("true", "false"):
            run.exit_code = 0 if verb == "true" else 1
    return forever


def _seq(arguments: List[str]) -> List[str]:
    """seq(1) with integer arguments: LAST, FIRST LAST or FIRST STEP LAST."""
    try:
        numbers = [int(a) for a in arguments]
    except ValueError:
        return []
    first, step, last = {1: (1, 1, numbers[-1] if numbers else 0), 2: (numbers[0], 1, numbers[-1]),
                         3: tuple(numbers)}.get(len(numbers), (1, 1, 0))
    if step == 0:
        return []
    return [str(n) for n in range(first, last + (1 if step > 0 else -1), step)][:FOR_LIMIT]


def _for_words(text: str) -> List[str]:
    words: List[str] = []
    for match in re.finditer(r"\$\(\s*seq\s+([^)]*)\)|(\S+)", text):
        words.extend(_seq(match.group(1).split()) if match.group(1) is not None else [match.group(2)])
    return words[:FOR_LIMIT]


def _unroll_for_loops(script: str) -> str:
    """Replace each ``for`` loop by its body, once per word, the variable substituted."""
    def unroll(match: "re.Match[str]") -> str:
        name, body = match.group("name"), match.group("body")
        turns = [re.sub(r"\$(?:\{%s\}|%s\b)" % (name, name), lambda _m, v=value: v, body)
                 for value in _for_words(match.group("words"))]
        return ";" + ";".join(turns) + ";"
    return _FOR.sub(unroll, script)


def _interpret(script: str) -> ContainerRun:
    run = ContainerRun(runs_for=0.0)
    script = _unroll_for_loops(script)
    loop = _LOOP.search(script)
    if loop:
        body_run = ContainerRun(runs_for=0.0)
        _apply_statements(loop.group("body"), body_run, run.repeat)
        run.period = body_run.runs_for or 1.0
        script = script[:loop.start()] + ";" + script[loop.end():]
    if _apply_statements(script, run, run.output) or loop:
        run.runs_for = None
    return run


def container_run(container: Dict[str, Any], restart_policy: str, annotations: Dict[str, str],
                  batch_seconds: float) -> ContainerRun:
    """The behaviour of ``container`` (see the module docstring); ``batch_seconds`` is how long a
    batch container without a recognisable command runs."""
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    if not words:
        run = ContainerRun(runs_for=None if restart_policy == "Always" else batch_seconds)
    elif words[0].rsplit("/", 1)[-1] in SHELLS and "-c" in words[1:]:
        index = words.index("-c")
        run = _interpret(" ".join(words[index + 1:index + 2]))
        run.ignores_sigterm = True
    else:
        verb = words[0].rsplit("/", 1)[-1]
        known = verb in ("echo", "sleep", "exit", "true", "false", "tail")
        run = _interpret(shlex.join(words)) if known else ContainerRun(
            runs_for=None if restart_policy == "Always" else batch_seconds)
        run.ignores_sigterm = verb in ("sleep", "tail")
    if EXIT_CODE_ANNOTATION in annotations:
        try:
            run.exit_code = int(annotations[EXIT_CODE_ANNOTATION])
        except ValueError:
            pass
        if run.runs_for is None and restart_policy != "Always":
            run.runs_for = batch_seconds
    if RUN_SECONDS_ANNOTATION in annotations:
        text = annotations[RUN_SECONDS_ANNOTATION]
        try:
            run.runs_for = None if text in ("inf", "infinity") else float(text)
        except ValueError:
            pass
    return run
