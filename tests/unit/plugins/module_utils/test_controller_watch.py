import errno
import os

from ansible_collections.ocpvirt.portworx.plugins.module_utils.controller_watch import (
    ControllerWatch,
    find_controller,
    parse_stat,
    read_stat,
)


def stat_line(pid, comm, state, ppid, session, start_time):
    # Fields 1..22 of /proc/<pid>/stat (man 5 proc); the ones not used here are zeros.
    rest = [state, ppid, session, session] + [0] * 15 + [start_time]
    return "{0} ({1}) {2}\n".format(pid, comm, " ".join(str(f) for f in rest))


class FakeProc(object):
    """A /proc directory with only stat files, written as the kernel writes them."""

    def __init__(self, root):
        self.root = str(root)

    def add(self, pid, comm, ppid, session, start_time, state="S", argv=None):
        os.makedirs(os.path.join(self.root, str(pid)), exist_ok=True)
        with open(os.path.join(self.root, str(pid), "stat"), "w") as handle:
            handle.write(stat_line(pid, comm, state, ppid, session, start_time))
        with open(os.path.join(self.root, str(pid), "cmdline"), "wb") as handle:
            handle.write(b"\0".join(a.encode() for a in (argv or [comm])) + b"\0")

    def remove(self, pid):
        for name in ("stat", "cmdline"):
            os.remove(os.path.join(self.root, str(pid), name))
        os.rmdir(os.path.join(self.root, str(pid)))

    def read(self, pid):
        return read_stat(pid, proc=self.root)


def ansible_chain(proc):
    """As ansible-core 2.19 runs a task: ansible-playbook (100) forks the worker (200), which calls setsid and
    starts /bin/sh (300) through the local connection, which starts the module's python (400)."""
    proc.add(1, "systemd", 0, 1, 1)
    proc.add(90, "bash", 1, 90, 50)
    proc.add(100, "ansible-playbook", 90, 90, 1000)
    proc.add(200, "ansible-playbook", 100, 200, 1100)
    proc.add(300, "sh", 200, 200, 1200)
    proc.add(400, "python3", 300, 200, 1300)


def test_parse_stat_survives_a_command_name_with_spaces_and_parentheses():
    stat = parse_stat(7, stat_line(7, "a) (b c", "R", 3, 5, 99))
    assert (stat.state, stat.ppid, stat.session, stat.start_time) == ("R", 3, 5, 99)


def test_read_stat_of_this_process_agrees_with_os():
    stat = read_stat(os.getpid())
    if stat is None:  # not Linux
        return
    assert stat.ppid == os.getppid() and stat.session == os.getsid(0)


def test_read_stat_of_no_process_or_no_proc_is_none(tmp_path):
    assert read_stat(12345, proc=str(tmp_path)) is None
    assert read_stat(1, proc=str(tmp_path / "missing")) is None


def test_the_controller_is_the_parent_of_the_worker_that_leads_the_session(tmp_path):
    proc = FakeProc(tmp_path)
    ansible_chain(proc)
    controller = find_controller(400, read=proc.read)
    assert (controller.pid, controller.start_time) == (100, 1000)


def test_the_module_started_directly_by_the_worker_finds_it_too(tmp_path):
    proc = FakeProc(tmp_path)
    ansible_chain(proc)
    proc.add(400, "python3", 200, 200, 1300)  # pipelining without the /bin/sh -c in between
    assert find_controller(400, read=proc.read).pid == 100


def test_no_controller_when_the_chain_reaches_init(tmp_path):
    # An async task: async_wrapper daemonizes, so the session leader's parent is pid 1.
    proc = FakeProc(tmp_path)
    proc.add(1, "systemd", 0, 1, 1)
    proc.add(500, "python3", 1, 500, 10)
    proc.add(600, "python3", 500, 500, 20)
    assert find_controller(600, read=proc.read) is None
    proc.add(700, "python3", 1, 600, 30)  # a daemon whose session leader is gone
    assert find_controller(700, read=proc.read) is None


def test_no_controller_without_proc(tmp_path):
    assert find_controller(400, read=FakeProc(tmp_path / "missing").read) is None
    watch = ControllerWatch.start(pid=400, read=FakeProc(tmp_path / "missing").read)
    assert watch.controller is None and watch.gone() is None


def test_the_chain_is_walked_only_so_far(tmp_path):
    proc = FakeProc(tmp_path)
    for pid in range(2, 40):
        proc.add(pid, "sh", pid - 1 if pid > 2 else 1, 1, pid)
    proc.add(3, "sh", 2, 3, 3)  # a session leader, but further up than any Ansible chain reaches
    assert find_controller(39, read=proc.read) is None
    assert find_controller(10, read=proc.read).pid == 2


def test_gone_while_the_controller_runs_is_none_then_says_why(tmp_path):
    proc = FakeProc(tmp_path)
    ansible_chain(proc)
    watch = ControllerWatch.start(pid=400, read=proc.read)
    assert watch.gone() is None
    # ansible-runner's SIGKILL: ansible-playbook ends, its worker and the module go on.
    proc.remove(100)
    proc.add(200, "ansible-playbook", 1, 200, 1100)
    assert watch.gone() == "the job that ran this module ended (its ansible-playbook, pid 100, is gone: cancelled or killed)"


def test_a_reused_pid_is_not_taken_for_the_controller(tmp_path):
    proc = FakeProc(tmp_path)
    ansible_chain(proc)
    watch = ControllerWatch.start(pid=400, read=proc.read)
    proc.add(100, "ansible-playbook", 90, 90, 5000)  # another process, started later, got pid 100
    assert "pid 100, is gone" in watch.gone()


def test_a_killed_controller_not_reaped_yet_is_gone(tmp_path):
    proc = FakeProc(tmp_path)
    ansible_chain(proc)
    watch = ControllerWatch.start(pid=400, read=proc.read)
    proc.add(100, "ansible-playbook", 90, 90, 1000, state="Z")
    assert watch.gone() is not None


def test_this_test_process_has_a_controller_that_is_alive():
    # Whatever started pytest plays the part of ansible-playbook; it is running, so nothing is gone.
    assert ControllerWatch.start().gone() is None


def test_no_controller_when_the_session_leader_is_not_a_fork_of_its_parent(tmp_path):
    """ansible-core before 2.19 (or session isolation off): the worker leads no session, so the nearest leader
    is the login shell under sshd. A dropped SSH session must not stop a nohup'ed ansible-playbook."""
    proc = FakeProc(tmp_path)
    proc.add(1, "systemd", 0, 1, 1)
    proc.add(80, "sshd-session", 1, 80, 40, argv=["sshd-session: admin@pts/0"])
    proc.add(90, "bash", 80, 90, 50, argv=["-bash"])
    proc.add(100, "ansible-playbook", 90, 90, 1000, argv=["/usr/bin/python3", "/usr/bin/ansible-playbook", "day2.yml"])
    proc.add(200, "ansible-playbook", 100, 90, 1100, argv=["/usr/bin/python3", "/usr/bin/ansible-playbook", "day2.yml"])
    proc.add(300, "sh", 200, 90, 1200)
    proc.add(400, "python3", 300, 90, 1300)
    assert find_controller(400, read=proc.read) is None
    assert ControllerWatch.start(pid=400, read=proc.read).gone() is None


def test_a_process_that_cannot_be_read_is_not_gone(tmp_path):
    proc = FakeProc(tmp_path)
    ansible_chain(proc)
    watch = ControllerWatch.start(pid=400, read=proc.read)
    assert watch.controller.pid == 100

    def unreadable(pid):
        raise OSError(errno.EMFILE, "Too many open files")

    watch.read = unreadable
    assert watch.gone() is None
