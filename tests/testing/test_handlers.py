"""The simulator reaches a real application over HTTP on loopback, as MiniVoice would."""

from __future__ import annotations

import json

import pytest

from minivoice_flow import Flow
from minivoice_flow.testing import Caller, TestIVR, simulate
from minivoice_flow.testing._handlers import http_exchange, is_loopback_url
from tests.testing.loopback import Received, Route, serving

MENU = "https://media.example.com/menu.wav"
THANKS = "https://media.example.com/thanks.wav"
PBX = "+15551230002"


def answer_with(flow: Flow) -> tuple[int, bytes | str]:
    return 200, flow.to_json()


class TestLoopbackOnly:
    """Only URLs on this machine are requested over HTTP."""

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8000/answer",
            "http://127.1.2.3/answer",
            "http://localhost/answer",
            "HTTP://LOCALHOST:80/x",
            "http://[::1]:8000/answer",
            "https://127.0.0.1/answer",
        ],
    )
    def test_loopback(self, url: str) -> None:
        assert is_loopback_url(url)

    @pytest.mark.parametrize(
        "url",
        [
            "https://app.example.com/answer",
            "http://10.0.0.1/answer",
            "http://localhost.example.com/",
            "ftp://127.0.0.1/answer",
            "http://[::1/answer",
            "127.0.0.1/answer",
        ],
    )
    def test_not_loopback(self, url: str) -> None:
        assert not is_loopback_url(url)

    @pytest.mark.parametrize(
        "url", ["http://203.0.113.7/answer", "http://127.0.0.1:99999/x", "http://127.0.0.1:x/"]
    )
    def test_the_http_client_itself_refuses_other_hosts(self, url: str) -> None:
        """http_exchange() checks the URL itself, whatever its caller checked."""
        assert http_exchange(url, {"a": 1}) == (
            None,
            b"",
            f"not requested: {url} is not on this machine",
        )


class TestWholeCallOverHttp:
    """Answer, redirect and webhooks all travel over real HTTP, with the modelled bodies."""

    def test_answer_redirect_and_webhooks(self) -> None:
        def answer(request: Received) -> tuple[int, bytes | str]:
            choice = f"{server.base_url}/choice"
            return answer_with(
                Flow("menu").play(MENU).collect("pick", max_digits=1).redirect(choice)
            )

        def choice(request: Received) -> tuple[int, bytes | str]:
            pick = request.json()["variables"]["pick"]
            return answer_with(Flow(f"picked_{pick}").play(THANKS).hangup())

        routes: dict[str, Route] = {
            "/answer": answer,
            "/choice": choice,
            "/webhook": lambda r: (204, b""),
        }
        with serving(routes) as server:
            result = simulate(
                server.url("/answer"),
                webhook_url=server.url("/webhook"),
                caller=Caller.answers_prompts("3"),
            )
        assert server.paths() == [
            "/webhook",
            "/webhook",
            "/answer",
            "/choice",
            "/webhook",
        ]
        assert [r.json() for r in server.received if r.path == "/webhook"] == list(result.webhooks)
        assert all(r.content_type == "application/json" for r in server.received)
        assert server.received[3].json()["variables"] == {"pick": "3"}
        assert [(r.reason, r.status_code, r.outcome) for r in result.requests] == [
            ("answer", 200, "ok"),
            ("redirect", 200, "ok"),
        ]
        assert [d.status_code for d in result.deliveries] == [204, 204, 204]
        assert result.status == "completed"
        assert result.variables == {"pick": "3"}
        # A response read over HTTP has no name: the step is named by its URL.
        assert result.last_step is not None
        assert result.last_step.step == f"{server.url('/choice')} /actions/1/hangup"

    def test_get_carries_the_call_in_the_query(self) -> None:
        def answer(request: Received) -> tuple[int, bytes | str]:
            return answer_with(Flow().redirect(f"{server.base_url}/next?x=1", method="GET"))

        routes = {"/answer": answer, "/next": lambda r: answer_with(Flow().hangup())}
        with serving(routes) as server:
            simulate(server.url("/answer"), caller=Caller(number="+15550001111"))
        get = server.received[1]
        assert (get.method, get.body) == ("GET", b"")
        assert get.query["x"] == "1"
        assert get.query["call.id"] == "call_123"
        assert get.query["call.from"] == "+15550001111"
        assert get.query["call.status"] == "in_progress"

    def test_a_prefix_maps_production_urls_to_the_loopback_app(self) -> None:
        routes = {
            "/ivr/busy": lambda r: answer_with(Flow("sorry").play(THANKS).hangup()),
        }
        flow = Flow("pin").transfer(PBX, fallback_url="https://app.example.com/ivr/busy")
        with serving(routes) as server:
            result = simulate(
                flow,
                far_end=TestIVR.busy(),
                handlers={"https://app.example.com/": server.url("/")},
            )
        assert server.received[0].json()["call"]["status"] == "busy"
        assert result.requests[-1].via == server.url("/ivr/busy")
        assert result.status == "completed"

    def test_proxies_in_the_environment_are_ignored(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
        monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
        monkeypatch.setenv("no_proxy", "")
        with serving({"/answer": lambda r: answer_with(Flow().hangup())}) as server:
            result = simulate(server.url("/answer"))
        assert result.requests[0].outcome == "ok"


class TestHttpFailures:
    """What goes wrong over HTTP fails the call, as MiniVoice would, with the reason kept."""

    def test_an_error_status(self) -> None:
        routes = {"/answer": lambda r: (500, "database is down")}
        with serving(routes) as server:
            result = simulate(server.url("/answer"))
        (request,) = result.requests
        assert (request.outcome, request.status_code) == ("failed", 500)
        assert request.error == "HTTP 500 Internal Server Error"
        assert request.response_text == "database is down"
        assert (result.status, result.end_reason) == ("failed", "request_failed")
        assert result.webhooks[-1]["call"]["status"] == "failed"

    def test_an_invalid_payload(self) -> None:
        routes = {"/answer": lambda r: (200, '{"actions": [{"hangup": {}}')}
        with serving(routes) as server:
            result = simulate(server.url("/answer"))
        assert (result.status, result.end_reason) == ("failed", "response_rejected")
        assert [d.code for d in result.diagnostics] == ["malformed_json"]
        assert result.requests[0].response_text == '{"actions": [{"hangup": {}}'

    def test_nobody_listening(self) -> None:
        with serving({}) as server:
            url = server.url("/answer")
        result = simulate(url)  # the server is gone: the port refuses connections
        (request,) = result.requests
        assert request.outcome == "failed"
        assert request.status_code is None
        assert request.error.startswith(f"no response from {url}")
        assert result.status == "failed"

    def test_a_failed_webhook_delivery_is_recorded_and_the_call_goes_on(self) -> None:
        with serving({"/answer": lambda r: answer_with(Flow().hangup())}) as server:
            result = simulate(server.url("/answer"), webhook_url=server.url("/missing"))
        assert [d.status_code for d in result.deliveries] == [404, 404, 404]
        assert result.status == "completed"
        assert "webhook POST" in result.timeline()

    def test_webhook_bodies_are_json(self) -> None:
        with serving({"/hook": lambda r: (200, "")}) as server:
            simulate(Flow().hangup(), webhook_url=server.url("/hook"))
        events = [json.loads(r.body)["event"] for r in server.received]
        assert events == ["call.initiated", "call.answered", "call.completed"]


class TestNoRedirects:
    """A 3xx from a loopback app fails the request; the Location is never requested."""

    @pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
    def test_a_redirect_to_another_server_is_not_followed(self, status: int) -> None:
        """The simulator reports the redirect and where it pointed, and goes nowhere."""
        with serving({"/answer": lambda r: answer_with(Flow().hangup())}) as elsewhere:
            target = elsewhere.url("/answer").replace("127.0.0.1", "localhost")
            routes: dict[str, Route] = {"/answer": lambda r: (status, "", [("Location", target)])}
            with serving(routes) as app:
                result = simulate(app.url("/answer"))
        assert elsewhere.received == []
        (request,) = result.requests
        assert (request.outcome, request.status_code) == ("failed", status)
        assert request.error.startswith(f"HTTP {status} ")
        assert f"a redirect to {target}, which the simulator does not follow" in request.error
        assert (result.status, result.end_reason) == ("failed", "request_failed")

    def test_a_redirect_off_the_machine_is_not_followed(self) -> None:
        """A 302 pointing at another host fails at once, with no request made there."""
        routes: dict[str, Route] = {
            "/answer": lambda r: (302, "", [("Location", "http://203.0.113.7/steal")])
        }
        with serving(routes) as app:
            result = simulate(app.url("/answer"))
        assert result.requests[0].error.startswith("HTTP 302 Found: a redirect to http://203.")
        assert result.end_reason == "request_failed"

    def test_a_redirected_redirect_target_fails_the_call(self) -> None:
        """A redirect action's URL answered with a 3xx fails that request the same way."""
        with serving({"/next": lambda r: (307, "", [("Location", "http://example.com/")])}) as app:
            result = simulate(Flow().redirect(app.url("/next")))
        assert [r.outcome for r in result.requests] == ["ok", "failed"]
        assert "does not follow" in result.requests[-1].error

    def test_a_webhook_redirect_is_a_failed_delivery(self) -> None:
        """Webhook deliveries do not follow redirects either; the call goes on."""
        with serving({"/answer": lambda r: answer_with(Flow().hangup())}) as elsewhere:
            routes: dict[str, Route] = {
                "/hook": lambda r: (302, "", [("Location", elsewhere.url("/answer"))])
            }
            with serving(routes) as app:
                result = simulate(Flow().hangup(), webhook_url=app.url("/hook"))
        assert elsewhere.received == []
        assert [d.status_code for d in result.deliveries] == [302, 302, 302]
        assert all("does not follow" in d.error for d in result.deliveries)
        assert result.status == "completed"

    def test_a_location_with_control_characters_is_shown_escaped(self) -> None:
        """Where a redirect pointed is untrusted text: control characters come out escaped."""
        routes: dict[str, Route] = {
            "/answer": lambda r: (302, "", [("Location", "http://x.example/\x1b]0;pwned\x07")])
        }
        with serving(routes) as app:
            result = simulate(app.url("/answer"))
        error = result.requests[0].error
        assert "\x1b" not in error and "\\x1b]0;pwned\\x07" in error


class TestOversizedAnswers:
    """A response is read only up to the payload limit, and judged too large."""

    def test_a_huge_answer_is_not_read_whole(self) -> None:
        """Past 64 KiB the rest is not read; the answer is payload_too_large."""
        big = '{"actions":[{"hangup":{}}],"x":"' + "a" * 5_000_000 + '"}'
        with serving({"/answer": lambda r: (200, big)}) as app:
            result = simulate(app.url("/answer"))
        assert [d.code for d in result.diagnostics] == ["payload_too_large"]
        assert len(result.requests[0].response_text or "") <= 64 * 1024 + 1
