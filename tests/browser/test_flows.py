"""The main investigator flows in a real browser."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import timedelta

import pytest

from tests.browser.conftest import log_in, screenshot
from tests.investigate import factories as f

pytestmark = pytest.mark.browser


def test_searching_an_access_key_leads_to_the_trace_and_its_origin(
    page, live_server, investigator_login
):
    alice = f.identity("alice@corp.example")
    _, _, access = f.saml_chain(alice)
    log_in(page, live_server, "ines")
    page.fill("form.search input[name=q]", "ASIAREADEREXAMPLE001")
    page.press("form.search input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/events/\?credential=ASIAREADEREXAMPLE001$"))
    page.click(f'a[href="/events/{access.pk}/trace/"] >> nth=0')
    page.wait_for_url(re.compile(rf"/events/{access.pk}/trace/$"))
    origin = page.locator("ul.chain li.origin")
    assert "alice@corp.example" in origin.inner_text()
    assert page.locator("ul.chain li.hop").count() == 2
    assert "signed in through SAML as AdminRole" in page.inner_text("p.explanation")
    path = screenshot(page, "trace.png")
    assert path.stat().st_size > 10_000


def test_filtering_the_explorer_swaps_the_table_and_updates_the_url(
    page, live_server, investigator_login
):
    b = f.batch()
    payroll = f.event(
        batch=b, personal_data=True, actor_principal="arn:aws:iam::111122223333:user/alice"
    )
    public = f.event(batch=b, personal_data=False, resource="s3://public-assets/logo.png")
    log_in(page, live_server, "ines")
    page.goto(f"{live_server.url}/events/")
    assert page.locator(f'a[href="/events/{public.pk}/trace/"]').count() > 0
    page.evaluate("window.stillTheSamePage = true")
    page.check("input[name=pd]")
    page.wait_for_url(re.compile(r"/events/\?.*pd=on"))
    page.locator(f'a[href="/events/{public.pk}/trace/"]').first.wait_for(state="detached")
    assert page.locator(f'a[href="/events/{payroll.pk}/trace/"]').count() > 0
    assert page.evaluate("window.stillTheSamePage") is True
    # A text filter applies on Enter, keeping the others.
    page.fill("input[name=principal]", "arn:aws:iam::111122223333:user/nobody")
    page.press("input[name=principal]", "Enter")
    page.wait_for_url(
        re.compile(r"/events/\?.*principal=arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Fnobody")
    )
    page.locator(f'a[href="/events/{payroll.pk}/trace/"]').first.wait_for(state="detached")
    assert "pd=on" in page.url
    page.fill("input[name=principal]", "")
    page.press("input[name=principal]", "Enter")
    page.locator(f'a[href="/events/{payroll.pk}/trace/"]').first.wait_for()
    assert page.evaluate("window.stillTheSamePage") is True
    # The pushed URL reproduces the view on its own.
    url = page.url
    page.goto(url)
    assert page.locator(f'a[href="/events/{public.pk}/trace/"]').count() == 0
    assert page.is_checked("input[name=pd]")


def test_adding_an_event_to_a_case_needs_no_reload(page, live_server, investigator_login):
    from forensics.cases.models import Case, CaseEvent

    event = f.event()
    log_in(page, live_server, "ines")
    page.goto(f"{live_server.url}/cases/new/")
    page.fill("input[name=title]", "Payroll read from an unknown laptop")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()
    page.goto(f"{live_server.url}/events/")
    page.evaluate("window.stillTheSamePage = true")
    button = page.locator("button", has_text="add to case").first
    button.click()
    page.locator("button.in-case", has_text="in case").first.wait_for()
    assert page.evaluate("window.stillTheSamePage") is True
    assert CaseEvent.objects.filter(case=case, event=event).exists()


def test_a_timeline_renders_with_its_histogram(page, live_server, investigator_login):
    alice = f.identity("alice@corp.example")
    b = f.batch()
    for hours in (0, 1, 1, 5, 9, 9, 9):
        f.event(
            batch=b,
            origin=alice,
            status="attributed",
            event_time=f.T0 + timedelta(hours=hours),
            chain_label="alice@corp.example → sso → DataAnalyst",
            personal_data=hours == 9,
            credential_used="ASIADATAANALYST0001",
        )
    log_in(page, live_server, "ines")
    page.goto(f"{live_server.url}/identities/{alice.pk}/")
    assert page.locator("figure.histogram svg rect.all").count() == 4
    assert page.locator("section.session").count() == 1
    path = screenshot(page, "timeline.png")
    assert path.stat().st_size > 10_000


def test_an_evidence_pack_of_the_filtered_explorer_downloads_and_verifies(
    page, live_server, investigator_login, tmp_path
):
    from forensics.evidence import keys
    from forensics.evidence.verify import verify_pack

    b = f.batch()
    payroll = f.event(batch=b, personal_data=True)
    public = f.event(batch=b, personal_data=False, resource="s3://public-assets/logo.png")
    log_in(page, live_server, "ines")
    page.goto(f"{live_server.url}/events/")
    page.check("input[name=pd]")
    page.locator(f'a[href="/events/{public.pk}/trace/"]').first.wait_for(state="detached")
    # The button was swapped in with the results, so it carries the filter just set.
    page.click("form.export-pack button")
    page.wait_for_url(re.compile(r"/evidence/\d+/$"))
    link = page.locator("a[download]")
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    report = verify_pack(str(saved), [keys.fingerprint()])
    assert report.ok, report.problems
    ids = {
        json.loads(line)["id"] for line in zipfile.ZipFile(saved).read("events.jsonl").splitlines()
    }
    assert ids == {str(payroll.pk)}
