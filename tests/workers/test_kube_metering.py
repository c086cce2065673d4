"""The adapter counts the requests it sends, per execution context, against kubesim's journal."""
import threading

from workers.kube import api as kube
from workers.kube.metering import counting_requests


def test_every_request_is_counted_once_retries_included(sim, settings):
    settings.PODS_KUBE_ATTEMPTS = 3
    sim.inject_fault(verb="GET", path="/api/v1/namespaces/*/services/*", status=500, times=1)
    sim.clear_journal()
    with counting_requests() as counted:
        assert kube.read("service", "nothing-here") is None  # 500 (retried), then 404
        kube.list_managed("pod")
        assert kube.read_log("nothing-here") == ""
    assert counted.requests == len(sim.journal()) == 4


def test_requests_of_other_threads_are_not_counted(sim):
    with counting_requests() as outer:
        worker = threading.Thread(target=lambda: kube.list_managed("pod"))
        worker.start()
        worker.join()
        assert outer.requests == 0
        with counting_requests() as inner:
            kube.list_managed("service")
        kube.list_warning_events()
    assert (outer.requests, inner.requests) == (2, 1)
