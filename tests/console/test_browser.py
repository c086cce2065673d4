"""The operator console in a real browser: Playwright driving Debian's chromium (headless) against
a live server. Screenshots at 1280 and 1920 px go to ``PODS_SCREENSHOT_DIR`` (default: the test's
tmp dir); every changelist must fit its width with no clipped column."""
import os
from pathlib import Path

import pytest

from pods.choices import PodStatus as S
from pods.models import Pod

CHROMIUM = os.environ.get("PODS_CHROMIUM", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: run scripts/ensure_browser.sh"),
]
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# browser steps are synchronous and safe (Django would refuse them otherwise).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def operator(browser, live_server, admin_user):
    """A logged-in operator's page (1280 px wide), offline: any request off the live server fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(live_server.url)
                  else route.abort())
    page = context.new_page()
    page.goto(f"{live_server.url}/admin")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard")
    yield page
    context.close()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("PODS_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def assert_fits(page):
    """No column is cut off: the result table is no wider than its scroll box."""
    overflow = page.evaluate("""() => { const box = document.querySelector('#changelist .results');
        return box ? box.scrollWidth - box.clientWidth : 0; }""")
    assert overflow <= 0, f"the list is {overflow} px wider than the page at {page.viewport_size['width']} px"


@pytest.fixture
def fleet(make_pod, image_pull_failure):
    make_pod("web", status=S.AVAILABLE, networking={"default": {"protocol": "http", "port": 5000}},
             description="a web app")
    make_pod("broken-image", status=S.ERROR, container=image_pull_failure,
             image="kubesim/imagepull-error:1")
    make_pod("analysis-with-a-rather-long-pod-identifier", tenant="acme", owner="a-user-with-a-long-name",
             status=S.CREATING, container={"message": "Waiting for a node: no node has enough free resources (cpu)"
                                           "; lower resources.cpu_request/mem_request or wait for other pods to stop",
                                           "reason": "Unschedulable", "phase": "Pending"})
    make_pod("stopped", status=S.STOPPED)


def test_operator_finds_a_failure_from_the_dashboard_and_reads_its_reason(operator, fleet, shots):
    page = operator
    page.reload()
    assert page.locator('#dash-status [data-status="ERROR"] b').inner_text() == "1"
    assert page.locator('#dash-status [data-status="AVAILABLE"] b').inner_text() == "1"
    page.screenshot(path=shots / "dashboard-1280.png", full_page=True)
    page.click("#dash-failures >> text=broken-image")  # one click from the index
    assert page.locator(".field-status_badge").inner_text().strip().endswith("ERROR")
    assert "could not be pulled (ErrImagePull)" in page.locator(".field-status_message").inner_text()
    page.screenshot(path=shots / "pod-1280.png", full_page=True)


def test_stop_and_start_with_the_buttons(operator, fleet, live_server):
    page = operator
    pod = Pod.objects.get(pod_id="stopped")
    page.goto(f"{live_server.url}/admin/pods/pod/{pod.pk}/change/")
    page.click("#pod-buttons button[value=start]")
    assert "Start: 1 pod started (stopped)." in page.locator(".messagelist").inner_text()
    assert Pod.objects.get(pk=pod.pk).status == S.REQUESTED
    page.click("#pod-buttons button[value=stop]")
    assert "Stop: 1 pod asked to stop (stopped)." in page.locator(".messagelist").inner_text()
    assert Pod.objects.get(pk=pod.pk).status_requested == "OFF"


def test_logs_view_shows_the_runs_text(operator, fleet, live_server):
    from pods.models import PodLogRun

    pod = Pod.objects.get(pod_id="web")
    PodLogRun.objects.create(pod=pod, instance_id="00000000-0000-0000-0000-0000000000aa",
                             text="serving on :5000\nGET / 200\n")
    page = operator
    page.goto(f"{live_server.url}/admin/pods/pod/{pod.pk}/change/")
    assert "GET / 200" in page.locator(".field-last_log_lines").inner_text()
    page.click("#pod-buttons >> text=Logs")
    assert "serving on :5000\nGET / 200" in page.locator("#pod-log-text").inner_text()


@pytest.mark.parametrize("width", [1280, 1920])
def test_lists_fit_the_screen_without_clipped_columns(operator, fleet, live_server, shots, width):
    page = operator
    page.set_viewport_size({"width": width, "height": 900})
    for name, url in (("pods", "/admin/pods/pod/"), ("tenants", "/admin/tenancy/tenant/"),
                      ("images", "/admin/templates_catalog/image/"), ("dashboard", "/admin/")):
        page.goto(f"{live_server.url}{url}")
        page.screenshot(path=shots / f"{name}-{width}.png", full_page=True)
        assert_fits(page)
    page.goto(f"{live_server.url}/admin/pods/pod/")
    assert page.locator("#result_list .pods-badge-error").count() == 1
    assert page.locator('#result_list a[href="https://web.pods.localhost"]').count() == 1


@pytest.mark.parametrize("path, ready", [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")])
def test_api_docs_render_offline(operator, live_server, path, ready):
    page = operator  # its context aborts every request that leaves the live server
    page.goto(f"{live_server.url}{path}")
    page.wait_for_selector(ready, timeout=15000)
    assert "Pods Service" in page.locator(ready).first.inner_text()
