"""The example web handler (examples/webapp.py): in process, and over real HTTP on loopback."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

import pytest

from minivoice_flow.fallback import FlowSet
from minivoice_flow.journal import CallJournal, Outcome
from tests.journal_worker import webhook_for


@pytest.fixture
def line(webapp: ModuleType) -> FlowSet:
    flows: FlowSet = webapp.SUPPORT_LINE
    return flows


def request_body(
    call_id: str, variables: dict[str, str] | None = None, status: str = "in_progress"
) -> bytes:
    """MiniVoice's request for actions, as modelled: the call and its variables."""
    call = json.loads(webhook_for(call_id, status))["call"]
    return json.dumps({"call": call, "variables": variables or {}}).encode()


class Client:
    """Calls the WSGI application directly, as a server would."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def post(self, path: str, body: bytes, method: str = "POST") -> tuple[int, Any]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
        }
        setup_testing_defaults(environ)
        status: list[str] = []
        chunks = self.app(environ, lambda s, headers: status.append(s))
        return int(status[0].split()[0]), json.loads(b"".join(chunks))


def path_of(url: str) -> str:
    return urlsplit(url).path


def redirect_path(payload: dict[str, Any]) -> str:
    return path_of(payload["actions"][-1]["redirect"]["url"])


@pytest.fixture
def client(webapp: ModuleType, journal: CallJournal) -> Client:
    return Client(webapp.make_app(journal))


class TestSupportLineFlows:
    """The example's flows are complete: every URL they point at is served."""

    def test_closed(self, line: FlowSet) -> None:
        assert line.targets() and line.unserved() == frozenset()

    def test_every_target_is_answered(self, client: Client, line: FlowSet) -> None:
        for url in line.targets():
            code, payload = client.post(path_of(url), request_body("call_1"))
            assert code == 200 and payload["actions"], url


class TestInProcess:
    """The WSGI app serves each step, records it, and stores every webhook."""

    def test_answer_serves_the_menu_and_records_it(
        self, client: Client, line: FlowSet, journal: CallJournal
    ) -> None:
        code, payload = client.post("/answer", request_body("call_1", status="ringing"))
        assert (code, payload) == (200, line.entry.to_dict())
        [record] = journal.timeline("call_1")
        assert (record.flow_name, record.url, record.status) == (
            "support_menu",
            line.entry_url,
            "ringing",
        )

    def test_menu_choice_then_pin(self, client: Client, journal: CallJournal) -> None:
        _, menu = client.post("/answer", request_body("call_1"))
        _, pin = client.post(redirect_path(menu), request_body("call_1", {"support_menu": "1"}))
        _, again = client.post(redirect_path(pin), request_body("call_1", {"account_pin": "12"}))
        _, done = client.post(redirect_path(again), request_body("call_1", {"account_pin": "1234"}))
        assert done["actions"][-1] == {"hangup": {}}
        steps = [r.flow_name for r in journal.timeline("call_1")]
        assert steps == ["support_menu", "account_pin", "account_pin_retry_1", "pin_accepted"]

    def test_no_input_reaches_an_agent_then_busy(
        self, client: Client, journal: CallJournal
    ) -> None:
        _, flow = client.post("/answer", request_body("call_1"))
        while "redirect" in flow["actions"][-1]:
            _, flow = client.post(redirect_path(flow), request_body("call_1"))
        fallback = flow["actions"][1]["transfer"]["fallback_url"]
        _, busy = client.post(path_of(fallback), request_body("call_1", status="busy"))
        client.post("/webhooks", webhook_for("call_1").encode())
        last = journal.last_step("call_1")
        assert last is not None
        assert (last.step, last.outcome) == ("support_agent_busy", Outcome.COMPLETED)
        assert busy["actions"][0]["play"]["url"].endswith("/all-agents-busy.wav")

    def test_a_malformed_webhook_is_stored_and_acknowledged(
        self, client: Client, journal: CallJournal
    ) -> None:
        code, reply = client.post("/webhooks", b'{"event": "call.completed", "call": {"id": 7}}')
        assert code == 200 and reply["read"] is False
        assert {p["path"] for p in reply["problems"]} >= {"/created_at", "/call/id"}
        [stored] = journal.unattributed()
        assert stored.id == reply["stored"] and stored.body.startswith('{"event"')

    def test_a_readable_webhook(self, client: Client, journal: CallJournal) -> None:
        code, reply = client.post("/webhooks", webhook_for("call_1").encode())
        assert (code, reply["read"]) == (200, True)
        assert journal.timeline("call_1")[0].id == reply["stored"]

    def test_unreadable_request_is_a_400_with_details(self, client: Client) -> None:
        code, reply = client.post("/answer", b'{"variables": {}}')
        assert code == 400
        assert reply["error"]["details"][0]["path"] == "/call"

    def test_unknown_path_and_wrong_method(self, client: Client) -> None:
        assert client.post("/nowhere", b"{}")[0] == 404
        assert client.post("/answer", b"", method="GET")[0] == 405


class TestOverHttp:
    """The same app behind a real HTTP server on a loopback port."""

    @pytest.fixture
    def base(self, served: str) -> str:
        return served

    def post(self, url: str, body: bytes) -> tuple[int, Any]:
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def test_a_call_where_the_caller_hangs_up(self, base: str, journal: CallJournal) -> None:
        code, menu = self.post(f"{base}/answer", request_body("call_7"))
        assert code == 200 and menu["actions"][1] == {
            "collect": {"variable": "support_menu", "max_digits": 1, "timeout_ms": 6000}
        }
        code, _retry = self.post(base + redirect_path(menu), request_body("call_7"))
        assert code == 200
        code, reply = self.post(f"{base}/webhooks", webhook_for("call_7").encode())
        assert (code, reply["read"]) == (200, True)
        last = journal.last_step("call_7")
        assert last is not None
        assert last.describe() == "caller hung up during step 'support_menu_retry_1'"

    def test_malformed_webhook_over_http(self, base: str, journal: CallJournal) -> None:
        code, reply = self.post(f"{base}/webhooks", b"\xff\xfe garbage")
        assert (code, reply["read"]) == (200, False)
        assert journal.unattributed()[0].raw == b"\xff\xfe garbage"

    def test_errors_over_http(self, base: str) -> None:
        assert self.post(f"{base}/nowhere", b"{}")[0] == 404
        assert self.post(f"{base}/answer", b"not json")[0] == 400
