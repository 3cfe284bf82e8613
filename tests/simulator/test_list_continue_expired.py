"""A continue token older than the retained history answers 410 Expired, as a compacted etcd
revision does; later pages otherwise read the live store."""
from api_helpers import raw
from clustersim.testing import simulator_fixture

# A short history so a few writes push the first page's resourceVersion out of it. The history is
# cluster-wide, so no operators (the kubelets' node Lease renewals alone are a burst of writes every
# 10 s) and a settled start (the core controllers' first sync): the test's writes are the only ones.
sim = simulator_fixture(scope="module", operators=[], env={"SIM_WATCH_HISTORY": "5"})

PATH = "/api/v1/namespaces/default/configmaps"
PAGES = PATH + "?labelSelector=page"  # not the CA bundle ConfigMaps every namespace holds


def test_continue_token_older_than_history_is_expired(sim):
    assert sim.settle()
    for n in range(3):
        raw(sim, "POST", PATH, {"metadata": {"name": f"page-{n}", "labels": {"page": str(n)}}})
    code, first = raw(sim, "GET", PAGES + "&limit=1")
    assert code == 200 and first["metadata"]["continue"]
    token = first["metadata"]["continue"]
    code, second = raw(sim, "GET", PAGES + "&limit=1&continue=" + token)
    assert code == 200 and second["items"][0]["metadata"]["name"] == "page-1"
    for n in range(10):
        raw(sim, "POST", PATH, {"metadata": {"name": f"later-{n}"}})
    code, expired = raw(sim, "GET", PAGES + "&limit=1&continue=" + token)
    assert code == 410 and expired["reason"] == "Expired", expired
    assert expired["message"].startswith("The provided continue parameter is too old to display a consistent list "
                                         "result. You can start a new list without the continue parameter")
    # the Status carries an inconsistent token that resumes at the same position
    code, resumed = raw(sim, "GET", PATH + "?limit=1&continue=" + expired["metadata"]["continue"])
    assert code == 200 and resumed["items"][0]["metadata"]["name"] == "page-1"
