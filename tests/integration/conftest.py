"""Integration harness: real ``ansible-playbook`` runs against a fresh cluster simulator.

Fixtures:

``sim``
    A simulator of its own for each test module (options from the module's ``SIMULATOR_OPTIONS``
    dict, e.g. ``{"workers": 4, "vms": 6}``), so modules can run in parallel without sharing state.
``run_playbook``
    ``run_playbook(tasks, check=False, diff=False, extra_vars=None)`` writes a one-play playbook
    around ``tasks`` (a list of task dicts), runs it with the repo's ``ansible.cfg`` against
    ``sim``, and returns a :class:`PlaybookRun`: the task results in order, the number of changed
    tasks, and the writes the simulator saw during the run (dry-run writes are not writes).
"""

import json
import os
import subprocess
import sys

import pytest
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
sys.path.insert(0, os.path.join(REPO_ROOT, "simulator"))

from clustersim.testing import Simulator  # noqa: E402  (needs the path above)


class PlaybookRun(object):
    """What one ``ansible-playbook`` run did, read from the JSON callback."""

    def __init__(self, completed, report, writes):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.report = report
        self.writes = writes
        self.results = []
        for play in report.get("plays", []):
            for task in play.get("tasks", []):
                result = dict(task["hosts"].get("localhost", {}))
                result["_task"] = task["task"]["name"]
                self.results.append(result)
        stats = report.get("stats", {}).get("localhost", {})
        self.changed = stats.get("changed", 0)
        self.failed = stats.get("failures", 0) + stats.get("unreachable", 0)

    @property
    def ok(self):
        return self.rc == 0 and not self.failed

    @property
    def last(self):
        """The result of the last task that ran (the one that failed, when a run failed)."""
        return self.results[-1] if self.results else {}

    def task(self, name):
        for result in self.results:
            if result["_task"] == name:
                return result
        raise KeyError(name)

    def __repr__(self):
        return "PlaybookRun(rc={0}, changed={1}, writes={2}, last={3!r}, stderr={4!r})".format(
            self.rc, self.changed, self.writes, self.last.get("msg"), self.stderr[-2000:]
        )


def run_playbook_file(sim, tmp_path, playbook, arguments=()):
    """Run ``ansible-playbook playbook *arguments`` against ``sim`` with the JSON callback; the
    request log is reset first, so ``writes`` counts this run's only."""
    env = dict(os.environ)
    env.update(
        K8S_AUTH_KUBECONFIG=sim.kubeconfig,
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
    )
    env.pop("ANSIBLE_CONFIG", None)
    sim.reset_requests()
    command = [ANSIBLE_PLAYBOOK, playbook] + list(arguments)
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook printed no JSON report:\n{0}\n{1}".format(completed.stdout, completed.stderr))
    return PlaybookRun(completed, report, sim.writes())


@pytest.fixture(scope="module")
def sim(request):
    options = getattr(request.module, "SIMULATOR_OPTIONS", {})
    with Simulator(**options) as simulator:
        yield simulator


@pytest.fixture
def run_playbook(sim, tmp_path):
    counter = {"runs": 0}

    def run(tasks, check=False, diff=False, extra_vars=None):
        counter["runs"] += 1
        playbook = tmp_path / "playbook-{0}.yml".format(counter["runs"])
        play = {"name": "integration test", "hosts": "localhost", "gather_facts": False, "tasks": tasks}
        playbook.write_text(yaml.safe_dump([play], sort_keys=False))
        arguments = (["--check"] if check else []) + (["--diff"] if diff else [])
        if extra_vars:
            arguments.extend(["--extra-vars", json.dumps(extra_vars)])
        return run_playbook_file(sim, tmp_path, str(playbook), arguments)

    return run
