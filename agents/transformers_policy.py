"""A policy around any transformers causal LM: chat template in, sampled tokens and log-probs out.

The same object serves the benchmark runner (``act`` on text conversations) and the trainer
(``generate_ids`` on token ids, so multi-turn transcripts are continued token-in/token-out and
never re-tokenised). Sampling uses ``model.generate`` on left-padded micro-batches; the policy keeps
its own random stream, so a seeded policy replays the same samples without touching torch's
global generator.

Device and precision are picked for the machine: CUDA in bfloat16 when a GPU is present (float16
on GPUs without bf16), otherwise CPU in float32.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feedback_gym.agents.policy import Conversation, Reply
from feedback_gym.errors import ConfigError, missing_dependency, require_int

if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
    raise missing_dependency("torch", "torch")

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"``/``None`` -> ``cuda`` when available, else ``cpu``; anything else is used as given.

    A device torch does not know, or a GPU this machine does not have, is a :class:`ConfigError`
    now, before a model is loaded or a run folder written, not a RuntimeError deep inside torch.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    accepted = "accepted: auto, cpu, cuda, cuda:N"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(f"unknown device {device!r}; {accepted}") from None
    if resolved.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(f"device {device!r}: torch sees no CUDA GPU here; use cpu or auto")
        if resolved.index is not None and resolved.index >= count:
            raise ConfigError(f"device {device!r}: there are {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}")
    return resolved


def default_dtype(device: torch.device) -> torch.dtype:
    """bfloat16 on a GPU that has it, float16 on an older GPU, float32 on CPU."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


@dataclass
class Generation:
    """The tokens a policy sampled after one prompt, with their log-probabilities.

    ``finished`` is true when the model ended the reply itself (an end-of-turn token, which is
    included in ``token_ids``); false when ``max_new_tokens`` cut it.
    """

    token_ids: list[int]
    logprobs: list[float]
    finished: bool


class TransformersPolicy:
    """Samples replies from a causal LM through its chat template.

    A conversation ending with an assistant turn is continued from that text (``continues_prefix``).

    Args:
        model: a transformers causal LM (moved to ``device``).
        tokenizer: its tokenizer; it must have a chat template.
        name: the name shown on leaderboards.
        max_new_tokens: the most tokens sampled per reply.
        temperature: sampling temperature; ``0`` means greedy decoding.
        top_p: nucleus sampling threshold (1.0 = off).
        batch_size: prompts per ``generate`` call (bounds memory; replies do not depend on it
            when decoding greedily).
        seed: seed of the policy's own random stream (``None``: use torch's global generator).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        system_prompt: prepended as a system message when a conversation has none.
        max_prompt_tokens: prompts longer than this keep only their last tokens (default: the
            model's context minus ``max_new_tokens``, recomputed when ``max_new_tokens`` changes).
            Whatever the settings, a reply never runs past the model's context: each batch samples
            at most the context minus its longest prompt.
        source: where the weights came from (recorded by :meth:`identity`).
    """

    continues_prefix = True

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str = "transformers",
        max_new_tokens: int = 512,
        temperature: float = 1.0,
        top_p: float = 1.0,
        batch_size: int = 32,
        seed: int | None = 0,
        device: str | torch.device | None = "auto",
        system_prompt: str | None = None,
        max_prompt_tokens: int | None = None,
        source: str | None = None,
    ) -> None:
        require_int("max_new_tokens", max_new_tokens, minimum=1)
        if temperature < 0:
            raise ConfigError(f"temperature must be >= 0 (0 = greedy); got {temperature}")
        if not 0 < top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1]; got {top_p}")
        require_int("batch_size", batch_size, minimum=1)
        if not getattr(tokenizer, "chat_template", None):
            raise ConfigError("the tokenizer has no chat template; give a chat/instruct model")
        self.device = resolve_device(device)
        self.model = model.to(self.device)
        self.tokenizer = tokenizer
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.name = name
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.batch_size = batch_size
        self.seed = seed
        self.system_prompt = system_prompt
        #: The most positions the model has (prompt and reply together).
        positions = getattr(model.config, "max_position_embeddings", None)
        self.context = int(positions or getattr(model.config, "n_positions", 2048))
        self.max_prompt_tokens = max_prompt_tokens  # type: ignore[assignment]
        self.source = source
        self.stop_token_ids = _stop_tokens(model, tokenizer)
        #: Mixed precision for sampling (the trainer keeps fp32 weights and sets bf16 here on GPU).
        self.autocast_dtype: torch.dtype | None = None
        self._rng_state: torch.Tensor | None = None
        self._cuda_rng_state: torch.Tensor | None = None
        if seed is not None:
            self.reseed(seed)

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        *,
        device: str | torch.device | None = "auto",
        dtype: torch.dtype | str | None = None,
        **kwargs: Any,
    ) -> TransformersPolicy:
        """Load a model and tokenizer from a local directory or hub id (bf16 on GPU, fp32 on CPU)."""
        resolved = resolve_device(device)
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype)
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        tokenizer.padding_side = "left"
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype or default_dtype(resolved))
        kwargs.setdefault("name", Path(str(path)).name or str(path))
        kwargs.setdefault("source", str(path))
        return cls(model, tokenizer, device=resolved, **kwargs)

    @property
    def max_prompt_tokens(self) -> int:
        """The longest prompt kept: the set value, else the context minus one full reply (>= 1)."""
        wanted = self._max_prompt_tokens or self.context - self.max_new_tokens
        return max(1, min(wanted, self.context - 1))

    @max_prompt_tokens.setter
    def max_prompt_tokens(self, value: int | None) -> None:
        if value is not None and not 1 <= value < self.context:
            raise ConfigError(
                f"max_prompt_tokens must be between 1 and the model's context minus one "
                f"({self.context - 1}); got {value}"
            )
        self._max_prompt_tokens = value

    # ------------------------------------------------------------------ text in, replies out

    def act(self, conversations: Sequence[Conversation], envs: Sequence[Any] | None = None) -> list[Reply]:
        """Sample one reply per conversation (``envs`` is ignored: this policy sees only text)."""
        prompts = [self.encode(conversation) for conversation in conversations]
        generations = self.generate_ids(prompts)
        replies = []
        for prompt, generation in zip(prompts, generations, strict=True):
            replies.append(
                Reply(
                    text=self.tokenizer.decode(generation.token_ids, skip_special_tokens=True),
                    token_ids=generation.token_ids,
                    logprobs=generation.logprobs,
                    prompt_tokens=min(len(prompt), self.max_prompt_tokens),
                    completion_tokens=len(generation.token_ids),
                    extra={"finish_reason": "stop" if generation.finished else "length"},
                )
            )
        return replies

    def encode(self, conversation: Conversation, add_generation_prompt: bool = True) -> list[int]:
        """The token ids of a conversation rendered with the chat template.

        A conversation that ends with an assistant turn (an in-place edit's prefix) is continued:
        the turns before it get the generation prompt and the prefix follows as plain text, so the
        reply picks up where the prefix stops.
        """
        messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in conversation]
        prefix = ""
        if add_generation_prompt and len(messages) > 1 and messages[-1]["role"] == "assistant":
            prefix = messages.pop()["content"]
        if self.system_prompt and (not messages or messages[0]["role"] != "system"):
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        text = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=add_generation_prompt
        )
        return self.tokenizer(text + prefix, add_special_tokens=False)["input_ids"]

    def identity(self) -> dict[str, Any]:
        """Model source and sampling settings: what reproduces this policy's replies."""
        return {
            "policy": "transformers",
            "name": self.name,
            "source": self.source,
            "model_type": getattr(self.model.config, "model_type", None),
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "dtype": str(next(self.model.parameters()).dtype).removeprefix("torch."),
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
            "system_prompt": self.system_prompt,
        }

    # ------------------------------------------------------------------ tokens in, tokens out

    @torch.no_grad()
    def generate_ids(self, prompts: Sequence[Sequence[int]]) -> list[Generation]:
        """Sample a continuation of each prompt (token ids); prompts are left-padded per micro-batch.

        Log-probabilities are those of the sampling distribution (logits / temperature, before
        top-p), i.e. what a policy-gradient trainer recomputes for the same tokens.
        """
        if not prompts:
            return []
        prompts = [list(p)[-self.max_prompt_tokens :] for p in prompts]
        if any(not p for p in prompts):
            raise ConfigError("every prompt needs at least one token")
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        results: dict[int, Generation] = {}
        was_training = self.model.training
        self.model.eval()
        try:
            autocast = torch.autocast(
                self.device.type,
                dtype=self.autocast_dtype or torch.float32,
                enabled=self.autocast_dtype is not None,
            )
            with self._own_rng(), autocast:
                for start in range(0, len(order), self.batch_size):
                    chunk = order[start : start + self.batch_size]
                    generations = self._generate_batch([prompts[i] for i in chunk])
                    results.update(zip(chunk, generations, strict=True))
        finally:
            self.model.train(was_training)
        return [results[i] for i in range(len(prompts))]

    def _generate_batch(self, prompts: list[list[int]]) -> list[Generation]:
        input_ids, attention_mask = left_pad(prompts, self.tokenizer.pad_token_id, self.device)
        greedy = self.temperature == 0
        sampling: dict[str, Any] = (
            {"do_sample": False}
            if greedy
            else {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p, "top_k": 0}
        )
        # Left padding makes every row as long as the longest prompt, and positions count the padding:
        # the batch may sample only what is left of the context after its widest row.
        output = self.model.generate(
            input_ids=input_ids,
            attention_mask=attention_mask,
            max_new_tokens=min(self.max_new_tokens, self.context - input_ids.shape[1]),
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=sorted(self.stop_token_ids),
            return_dict_in_generate=True,
            output_logits=True,
            **sampling,
        )
        new_tokens = output.sequences[:, input_ids.shape[1] :]
        logits = torch.stack(output.logits, dim=1).float()
        if not greedy:
            logits = logits / self.temperature
        logprobs = torch.log_softmax(logits, dim=-1).gather(-1, new_tokens.unsqueeze(-1)).squeeze(-1)
        generations = []
        for row_tokens, row_logprobs in zip(new_tokens.tolist(), logprobs.tolist(), strict=True):
            length, finished = len(row_tokens), False
            for position, token in enumerate(row_tokens):
                if token in self.stop_token_ids:
                    length, finished = position + 1, True
                    break
            generations.append(Generation(row_tokens[:length], row_logprobs[:length], finished))
        return generations

    def reseed(self, seed: int) -> None:
        """Restart the policy's own random stream from ``seed`` (the trainer does this every step)."""
        with torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(seed)
            self._save_rng()

    def _rng_devices(self) -> list[int]:
        return [self.device.index or 0] if self.device.type == "cuda" else []

    def _save_rng(self) -> None:
        self._rng_state = torch.get_rng_state()
        if self.device.type == "cuda":
            self._cuda_rng_state = torch.cuda.get_rng_state(self.device)

    @contextlib.contextmanager
    def _own_rng(self) -> Iterator[None]:
        """Run sampling on the policy's own random stream (global torch RNG left untouched)."""
        if self._rng_state is None:
            yield
            return
        with torch.random.fork_rng(devices=self._rng_devices()):
            torch.set_rng_state(self._rng_state)
            if self._cuda_rng_state is not None:
                torch.cuda.set_rng_state(self._cuda_rng_state, self.device)
            yield
            self._save_rng()


def left_pad(
    sequences: Sequence[Sequence[int]], pad_id: int, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack token lists into ``(input_ids, attention_mask)``, padded on the left.

    >>> ids, mask = left_pad([[5, 6], [7]], pad_id=0)
    >>> ids.tolist(), mask.tolist()
    ([[5, 6], [0, 7]], [[1, 1], [0, 1]])
    """
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        if sequence:
            ids[row, width - len(sequence) :] = torch.tensor(list(sequence), dtype=torch.long)
            mask[row, width - len(sequence) :] = 1
    return ids.to(device), mask.to(device)


def _stop_tokens(model: Any, tokenizer: Any) -> set[int]:
    """End-of-turn ids: the tokenizer's eos, the generation config's eos, and ChatML's ``<|im_end|>``."""
    stops: set[int] = set()
    for value in (tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)):
        if isinstance(value, int):
            stops.add(value)
        elif isinstance(value, Sequence):
            stops.update(int(v) for v in value)
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in tokenizer.get_vocab() else None
    if isinstance(im_end, int):
        stops.add(im_end)
    if not stops:
        raise ConfigError("the tokenizer defines no end-of-sequence token, so replies could never end")
    return stops
