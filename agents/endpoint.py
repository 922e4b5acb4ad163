"""A policy that asks any OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp, a hosted API).

Spec: ``openai:BASE_URL#MODEL`` (``BASE_URL`` up to and including ``/v1``). The key comes from the
``api_key`` argument or ``$OPENAI_API_KEY``; local servers usually need none. Requests of one batch
run concurrently (``max_concurrency`` threads) and are retried on connection errors and 5xx/429.
Plain ``urllib`` keeps this free of extra dependencies.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from feedback_gym.agents.policy import Conversation, Reply
from feedback_gym.errors import ConfigError, FeedbackGymError, require_int, require_positive_number

RETRY_STATUS = {429, 500, 502, 503, 504}


class EndpointError(FeedbackGymError, ConnectionError):
    """The endpoint could not be reached, or answered with an error, after all retries."""


class OpenAIEndpointPolicy:
    """Replies come from ``POST {base_url}/chat/completions``.

    Args:
        base_url: e.g. ``http://127.0.0.1:8000/v1``.
        model: the model name sent in each request (default: the first of ``GET /models``).
        api_key: bearer token (default ``$OPENAI_API_KEY``; none is sent when empty).
        max_tokens: the most tokens per reply.
        temperature: sampling temperature.
        timeout: seconds per request.
        retries: extra attempts on connection errors and 429/5xx answers.
        max_concurrency: requests in flight at once.
        logprobs: ask for token log-probabilities (when the server supports them).
        seed: sent with each request (servers that support it sample reproducibly).

    A conversation ending with an assistant turn (an in-place edit's prefix) is sent as it is, with
    vLLM's ``continue_final_message`` (and ``add_generation_prompt: false``), so the server continues
    that text (``continues_prefix``); feedback-gym's own server does the same.
    """

    continues_prefix = True

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        timeout: float = 120.0,
        retries: int = 2,
        max_concurrency: int = 8,
        logprobs: bool = False,
        seed: int | None = None,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url must start with http:// or https://; got {base_url!r}")
        require_int("max_tokens", max_tokens, minimum=1)
        require_int("max_concurrency", max_concurrency, minimum=1)
        require_int("retries", retries, minimum=0)
        require_positive_number("timeout", timeout)
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.timeout = timeout
        self.retries = retries
        self.max_concurrency = max_concurrency
        self.logprobs = logprobs
        self.seed = seed
        self.model = model or self._first_model()
        self.name = f"openai:{self.model}"

    def act(self, conversations: Sequence[Conversation], envs: Sequence[Any] | None = None) -> list[Reply]:
        """One chat-completions request per conversation, up to ``max_concurrency`` at a time."""
        if len(conversations) <= 1:
            return [self._complete(c) for c in conversations]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(conversations))) as pool:
            return list(pool.map(self._complete, conversations))

    def identity(self) -> dict[str, Any]:
        """Endpoint, model and sampling settings (never the key)."""
        return {
            "policy": "openai",
            "base_url": self.base_url,
            "model": self.model,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
        }

    def _complete(self, conversation: Conversation) -> Reply:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": str(m["role"]), "content": str(m["content"])} for m in conversation],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        if self.logprobs:
            body["logprobs"] = True
        if len(conversation) > 1 and conversation[-1]["role"] == "assistant":
            body.update(continue_final_message=True, add_generation_prompt=False)
        if self.seed is not None:
            body["seed"] = self.seed
        answer = self._request("POST", "/chat/completions", body)
        try:
            choice = answer["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise EndpointError(
                f"{self.base_url} answered without choices[0].message: {answer!r:.300}"
            ) from None
        usage = answer.get("usage") or {}
        content_logprobs = (choice.get("logprobs") or {}).get("content") or None
        return Reply(
            text=text,
            logprobs=[float(t["logprob"]) for t in content_logprobs] if content_logprobs else None,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            extra={"finish_reason": choice.get("finish_reason")},
        )

    def _first_model(self) -> str:
        models = self._request("GET", "/models", None).get("data") or []
        if not models:
            raise EndpointError(f"{self.base_url}/models lists no model; give one as openai:BASE_URL#MODEL")
        return str(models[0]["id"])

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last_error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(8.0, 0.5 * 2**attempt))
            request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as err:
                last_error = f"HTTP {err.code}: {err.read()[:300].decode('utf-8', 'replace')}"
                if err.code not in RETRY_STATUS:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                last_error = f"{type(err).__name__}: {err}"
            except json.JSONDecodeError as err:
                last_error = f"the answer is not JSON ({err})"
                break
        raise EndpointError(f"{method} {self.base_url}{path} failed: {last_error}")


def parse_openai_spec(rest: str) -> tuple[str, str | None]:
    """Split ``BASE_URL#MODEL`` (the part after ``openai:``).

    >>> parse_openai_spec("http://127.0.0.1:8000/v1#smollm2")
    ('http://127.0.0.1:8000/v1', 'smollm2')
    >>> parse_openai_spec("http://127.0.0.1:8000/v1")
    ('http://127.0.0.1:8000/v1', None)
    """
    base_url, _, model = rest.partition("#")
    if not base_url:
        raise ConfigError(
            "an endpoint spec is 'openai:BASE_URL#MODEL', e.g. openai:http://127.0.0.1:8000/v1#m"
        )
    return base_url, model or None
