from ansible_collections.ocpvirt.portworx.plugins.module_utils.controller_watch import ProcessStat
from ansible_collections.ocpvirt.portworx.plugins.module_utils.run_identity import (
    AAP_JOB,
    CONTROLLER,
    MODULE_PROCESS,
    OPTION,
    run_identity,
)

PLAYBOOK = ProcessStat(pid=4242, state="S", ppid=1000, session=1000, start_time=987654, cmdline=b"ansible-playbook\0x.yml\0")
AAP = {"JOB_ID": "118", "AWX_HOST": "https://aap.example.com"}


def test_the_option_wins_over_everything():
    assert run_identity("2026-12-02-a", AAP, PLAYBOOK, "ee-1", 77) == ("2026-12-02-a", OPTION)


def test_an_aap_job_is_named_by_its_job_id():
    assert run_identity(None, AAP, PLAYBOOK, "ee-1", 77) == ("aap-job-118", AAP_JOB)


def test_job_id_without_awx_host_is_some_other_scheduler():
    assert run_identity(None, {"JOB_ID": "118"}, PLAYBOOK, "ee-1", 77).source == CONTROLLER


def test_every_module_of_one_ansible_playbook_names_the_same_run_and_another_run_another():
    one = run_identity(None, {}, PLAYBOOK, "ee-1", 77)
    assert one == ("ee-1-4242-987654", CONTROLLER) and run_identity(None, {}, PLAYBOOK, "ee-1", 78) == one
    # The same pid handed to a later ansible-playbook (it started later), or on another host: another run.
    assert run_identity(None, {}, PLAYBOOK._replace(start_time=999999), "ee-1", 77) != one
    assert run_identity(None, {}, PLAYBOOK, "ee-2", 77) != one


def test_without_a_controller_each_module_process_is_its_own_run():
    assert run_identity(None, {}, None, "host", 77, 5) == ("host-77-5", MODULE_PROCESS)
    assert run_identity("", {}, None, None, 77) == ("localhost-77-?", MODULE_PROCESS)
