from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from feedback_gym.agents.endpoint import EndpointError, OpenAIEndpointPolicy
from feedback_gym.agents.openai_server import serve
from feedback_gym.agents.policy import Reply, make_policy
from feedback_gym.errors import ConfigError


class EchoPolicy:
    """Replies with the last message reversed, and counts how many act() calls it got."""

    name = "echo"

    def __init__(self):
        self.calls: list[int] = []

    def act(self, conversations, envs=None):
        self.calls.append(len(conversations))
        return [Reply(c[-1]["content"][::-1], prompt_tokens=3, completion_tokens=4) for c in conversations]

    def identity(self):
        return {"policy": "echo"}


def _post(url, payload):
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_models_and_chat_completions_follow_the_openai_schema():
    with serve(EchoPolicy()) as server:
        with urllib.request.urlopen(server.url + "/models", timeout=10) as response:
            assert json.loads(response.read())["data"][0]["id"] == "echo"
        answer = _post(
            server.url + "/chat/completions",
            {"model": "echo", "messages": [{"role": "user", "content": "abc"}]},
        )
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "cba"}
    assert answer["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


def test_the_endpoint_policy_talks_to_the_server_and_concurrent_requests_are_batched():
    echo = EchoPolicy()
    with serve(echo, batch_wait=0.2) as server:
        policy = make_policy(f"openai:{server.url}#echo", max_concurrency=8)
        conversations = [[{"role": "user", "content": f"n{i}"}] for i in range(8)]
        replies = policy.act(conversations)
    assert [r.text for r in replies] == [f"{i}n" for i in range(8)]
    assert sum(echo.calls) == 8 and len(echo.calls) < 8
    assert policy.identity()["model"] == "echo"


def test_the_endpoint_policy_finds_the_model_when_the_spec_names_none():
    with serve(EchoPolicy(), model="served-name") as server:
        assert make_policy(f"openai:{server.url}").name == "openai:served-name"


def test_malformed_requests_get_400_and_the_server_keeps_serving():
    with serve(EchoPolicy()) as server:
        for body in ({"messages": []}, {"messages": [{"content": "x"}]}, {"nothing": 1}):
            with pytest.raises(urllib.error.HTTPError) as caught:
                _post(server.url + "/chat/completions", body)
            assert caught.value.code == 400
        answer = _post(server.url + "/chat/completions", {"messages": [{"role": "user", "content": "ok"}]})
        assert answer["choices"][0]["message"]["content"] == "ko"


def test_a_failing_policy_gives_500_and_the_endpoint_policy_raises_after_retries():
    class Broken(EchoPolicy):
        def act(self, conversations, envs=None):
            raise RuntimeError("boom")

    with serve(Broken()) as server:
        policy = OpenAIEndpointPolicy(server.url, "broken", retries=1)
        with pytest.raises(EndpointError, match="boom"):
            policy.act([[{"role": "user", "content": "x"}]])


def test_the_server_binds_loopback_only():
    with pytest.raises(ConfigError, match="loopback"):
        serve(EchoPolicy(), host="0.0.0.0")
    with serve(EchoPolicy(), host="::1") as server:
        assert server.url.startswith("http://[::1]:")


def test_stop_releases_the_threads():
    before = threading.active_count()
    server = serve(EchoPolicy())
    server.stop()
    assert threading.active_count() == before


def test_a_transformers_policy_served_returns_its_logprobs(tiny_policy):
    with serve(tiny_policy) as server:
        answer = _post(
            server.url + "/chat/completions",
            {"messages": [{"role": "user", "content": "hi"}], "logprobs": True},
        )
    content = answer["choices"][0]["logprobs"]["content"]
    assert len(content) == answer["usage"]["completion_tokens"] > 0
    assert all(entry["logprob"] <= 0 for entry in content)
