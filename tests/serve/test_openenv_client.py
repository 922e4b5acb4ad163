"""OpenEnv's own generic client plays full episodes against the server, over loopback."""

from __future__ import annotations

import pytest


def test_openenv_generic_client_plays_a_full_episode(code_server):
    from openenv.core.generic_client import GenericEnvClient

    with GenericEnvClient(base_url=code_server.url).sync() as client:
        first = client.reset(seed=3)
        assert first.done is False and first.reward is None
        assert "Python" in first.observation["text"] and first.observation["info"]["turn"] == 0
        state = client.state()
        assert (
            state["env_id"] == "CodeFeedback-v0" and state["task_id"] == first.observation["info"]["task_id"]
        )
        wrong = client.step({"text": "```python\nprint('no')\n```"})
        assert wrong.done is False and wrong.reward == 0.0
        assert wrong.observation["info"]["verdict"]["solved"] is False
        right = client.step({"text": state["oracle_action"]})
        assert right.done is True and right.reward > 0 and right.observation["terminated"] is True
        info = right.observation["info"]
        assert info["solved"] and info["score"] == 1.0 and "success" in info["reward_components"]
        assert "episode_metrics" in info
        with pytest.raises(RuntimeError, match="EpisodeEndedError"):
            client.step({"text": "more"})
        assert (
            client.step is not None and client.reset(seed=3).observation["text"] == first.observation["text"]
        )


def test_openenv_schema_and_metadata_describe_the_served_env(code_server):
    import json
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    schema = json.loads(opener.open(code_server.url + "/schema", timeout=10).read())
    assert "text" in schema["action"]["properties"]
    assert {"text", "terminated", "truncated", "info"} <= set(schema["observation"]["properties"])
    metadata = json.loads(opener.open(code_server.url + "/metadata", timeout=10).read())
    assert metadata["name"] == "CodeFeedback-v0"
