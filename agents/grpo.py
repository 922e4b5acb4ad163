"""Multi-turn GRPO for feedback-gym environments, in one file that reads top to bottom.

Each step:

1. **Rollout.** Draw ``tasks_per_step`` tasks and play ``group_size`` multi-turn episodes of each
   (:mod:`feedback_gym.agents.rollout`): the policy answers, the environment gives feedback, the
   policy tries again, until the task is solved or the turns run out.
2. **Advantages.** An episode's advantage is its return minus the mean return of its group,
   divided by the group's standard deviation (GRPO; ``scale_rewards=False`` keeps the raw
   difference, as in Dr. GRPO). Every token the policy sampled in the episode gets that advantage.
   With ``refinement_samples`` (Critique-GRPO), every reply after the first (a refinement made
   after the environment's critique) is a sample of its own: it joins its task's group next to
   the first replies, with its own reward (its turn's) and its own advantage; ``refinement_context``
   says whether it is trained after the original prompt only (the paper) or after the whole
   transcript, and ``refinement_shaping`` (the paper's gamma) replaces the clipped ratio on its
   tokens by the shaping ``p / (p + gamma)`` that lifts the low-probability tokens of a refinement.
3. **Update.** The clipped policy-gradient loss of PPO over the policy's own tokens only; the
   prompt and the environment's feedback are in the context but masked out of the loss. An
   optional KL penalty (the k3 estimator) keeps the policy near a frozen copy of the start model.
   Episodes are processed in micro-batches whose gradients accumulate into one optimizer step;
   the loss is normalised by the policy tokens of the whole batch, so the result does not depend
   on the micro-batch size.
4. **Bookkeeping.** One JSON line of metrics per step (``metrics.jsonl``; TensorBoard optional), a
   few transcripts per step (``transcripts.jsonl``), checkpoints that ``resume`` continues from,
   and the final model in ``final/`` (load it with ``make_policy("hf:OUT/final")``).

Run it with ``feedback-gym train --env Countdown-v0 --model smollm2 --steps 100 --out runs/cd``.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from feedback_gym.agents.memory import MemoryStore, ReflectionMemory
from feedback_gym.agents.policy import make_policy
from feedback_gym.agents.rollout import Episode, collect_episodes, make_rollout_envs
from feedback_gym.agents.train_args import TRAINABLE_SPECS, Args
from feedback_gym.agents.transformers_policy import TransformersPolicy, resolve_device
from feedback_gym.env_ids import resolve_env_id
from feedback_gym.errors import ConfigError, missing_dependency

# ---------------------------------------------------------------------- the pieces of a step


def group_advantages(
    rewards: Sequence[float], group_size: int, scale: bool = True, eps: float = 1e-4
) -> np.ndarray:
    """Each reward minus its group's mean (divided by the group's std when ``scale``).

    Groups are consecutive runs of ``group_size`` rewards. A group whose rewards are all equal
    gets zero advantage: it carries no signal about which behaviour is better.

    >>> group_advantages([1.0, 0.0, 0.5, 0.5], group_size=2).round(3).tolist()
    [1.0, -1.0, 0.0, 0.0]
    >>> group_advantages([1.0, 0.0, 0.0, 0.0], group_size=4, scale=False).tolist()
    [0.75, -0.25, -0.25, -0.25]
    """
    values = np.asarray(rewards, dtype=np.float64)
    if values.size % group_size:
        raise ConfigError(f"{values.size} rewards do not split into groups of {group_size}")
    groups = values.reshape(-1, group_size)
    centred = groups - groups.mean(axis=1, keepdims=True)
    if scale:
        centred = centred / (groups.std(axis=1, keepdims=True) + eps)
    return centred.reshape(-1)


def grouped_advantages(
    rewards: Sequence[float], groups: Sequence[int], scale: bool = True, eps: float = 1e-4
) -> np.ndarray:
    """:func:`group_advantages` for groups of any size, named by ``groups`` (one id per reward).

    >>> grouped_advantages([1.0, 0.0, 0.0, 1.0, 1.0], [0, 0, 0, 1, 1], scale=False).round(3).tolist()
    [0.667, -0.333, -0.333, 0.0, 0.0]
    """
    values = np.asarray(rewards, dtype=np.float64)
    ids = np.asarray(groups)
    out = np.zeros_like(values)
    for group in np.unique(ids):
        members = ids == group
        centred = values[members] - values[members].mean()
        out[members] = centred / (values[members].std() + eps) if scale else centred
    return out


def split_refinements(
    episodes: Sequence[Episode], context: str = "prompt", shaped: bool = False
) -> list[Episode]:
    """Each episode's replies as samples of their own: the first reply, then every refinement.

    A sample keeps the tokens before its reply as context (the original prompt only when
    ``context="prompt"``, as Critique-GRPO trains refinements; the whole transcript before it when
    ``"transcript"``) and only its reply in the policy mask; its reward is its own turn's. Refinement
    samples are marked ``shaped`` when the shaping is on.

    >>> e = Episode("t", 0, token_ids=[1, 2, 3, 9, 4, 5], policy_mask=[0, 1, 1, 0, 1, 1],
    ...             logprobs=[0.0] * 6, rewards=[0.0, 1.0], turn_spans=[(1, 3), (4, 6)], solved=True)
    >>> [(s.token_ids, s.policy_mask, s.rewards) for s in split_refinements([e])]
    [([1, 2, 3], [0, 1, 1], [0.0]), ([1, 4, 5], [0, 1, 1], [1.0])]
    >>> split_refinements([e], "transcript")[1].token_ids
    [1, 2, 3, 9, 4, 5]
    """
    if context not in ("prompt", "transcript"):
        raise ConfigError(f"refinement_context must be 'prompt' or 'transcript'; got {context!r}")
    samples = []
    for episode in episodes:
        spans = episode.turn_spans[: len(episode.rewards)]
        if not spans:
            samples.append(episode)
            continue
        prompt_end = spans[0][0]
        for turn, (start, end) in enumerate(spans):
            before = prompt_end if context == "prompt" else start
            keep = list(range(before)) + list(range(start, end))
            sample = Episode(
                task_id=episode.task_id,
                group=episode.group,
                token_ids=[episode.token_ids[i] for i in keep],
                policy_mask=[0] * before + [1] * (end - start),
                logprobs=[0.0] * before + episode.logprobs[start:end],
                rewards=[episode.rewards[turn]],
                messages=episode.messages,
                solved=episode.rewards[turn] > 0 and turn == len(spans) - 1 and episode.solved,
                cut=episode.cut,
                turn_spans=[(before, before + end - start)],
                shaped=shaped and turn > 0,
            )
            samples.append(sample)
    return samples


def pad_episodes(episodes: Sequence[Episode], pad_id: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Right-pad transcripts into ``input_ids``, ``attention_mask``, ``policy_mask``, ``sample_logprobs``."""
    width = max(len(e.token_ids) for e in episodes)
    batch = {
        "input_ids": torch.full((len(episodes), width), pad_id, dtype=torch.long),
        "attention_mask": torch.zeros((len(episodes), width), dtype=torch.long),
        "policy_mask": torch.zeros((len(episodes), width), dtype=torch.float32),
        "sample_logprobs": torch.zeros((len(episodes), width), dtype=torch.float32),
    }
    for row, episode in enumerate(episodes):
        n = len(episode.token_ids)
        batch["input_ids"][row, :n] = torch.tensor(episode.token_ids)
        batch["attention_mask"][row, :n] = 1
        batch["policy_mask"][row, :n] = torch.tensor(episode.policy_mask, dtype=torch.float32)
        batch["sample_logprobs"][row, :n] = torch.tensor(episode.logprobs, dtype=torch.float32)
    return {key: value.to(device) for key, value in batch.items()}


def token_logprobs(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    temperature: float,
    where: torch.Tensor | None = None,
) -> torch.Tensor:
    """Log-probability of each token given the ones before it (column 0 is 0: nothing predicts it).

    With ``where`` (a 0/1 mask, e.g. the policy mask) only those tokens are scored and the rest
    are 0 with no gradient path: the output layer runs on the policy's positions only, which for
    long multi-turn transcripts and large vocabularies saves most of its time and memory.
    """
    if where is None or not _plain_lm_head(model):
        logits = (
            model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1].float() / temperature
        )
        picked = logits.gather(-1, input_ids[:, 1:, None]).squeeze(-1) - torch.logsumexp(logits, dim=-1)
        if where is not None:
            picked = picked * (where[:, 1:] > 0)
        return torch.nn.functional.pad(picked, (1, 0))
    hidden = model.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state[:, :-1]
    scored = where[:, 1:] > 0
    logits = model.get_output_embeddings()(hidden[scored]).float() / temperature
    targets = input_ids[:, 1:][scored]
    picked = logits.gather(-1, targets[:, None]).squeeze(-1) - torch.logsumexp(logits, dim=-1)
    out = torch.zeros(scored.shape, dtype=picked.dtype, device=picked.device).masked_scatter(scored, picked)
    return torch.nn.functional.pad(out, (1, 0))


def _plain_lm_head(model: Any) -> bool:
    """Whether logits are just the output layer applied to the base model's last hidden state."""
    config = model.config
    if getattr(config, "final_logit_softcapping", None) or getattr(config, "logit_scale", None):
        return False
    return getattr(model, "base_model", model) is not model and model.get_output_embeddings() is not None


def clipped_pg_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    policy_mask: torch.Tensor,
    clip_eps: float,
    normalizer: float,
    ref_logprobs: torch.Tensor | None = None,
    kl_coef: float = 0.0,
    shaped: torch.Tensor | None = None,
    shaping_gamma: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """PPO's clipped surrogate (plus an optional k3 KL penalty) summed over policy tokens / ``normalizer``.

    Tokens with ``policy_mask == 0`` (prompt, feedback, padding) are multiplied by zero, so they
    contribute nothing to the loss and receive no gradient.

    Args:
        logprobs: (batch, tokens) log-probs under the current policy (with grad).
        old_logprobs: the same under the policy that sampled (no grad).
        advantages: (batch,) one advantage per episode.
        policy_mask: (batch, tokens) 1 for tokens the policy sampled.
        clip_eps: clip range of the ratio.
        normalizer: how many policy tokens the whole batch has (across micro-batches).
        ref_logprobs: log-probs under the frozen reference model, for the KL penalty.
        kl_coef: the penalty's weight.
        shaped: (batch,) 1 for rows trained with Critique-GRPO's shaping ``p / (p + gamma)`` (the
            probability ``p`` of each token under the current policy) instead of the clipped ratio.
        shaping_gamma: the shaping's gamma (> 0 when any row is shaped).
    """
    ratio = torch.exp(logprobs - old_logprobs)
    advantage = advantages[:, None]
    surrogate = torch.minimum(ratio * advantage, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantage)
    if shaped is not None and shaping_gamma > 0 and bool(shaped.any()):
        probability = torch.exp(logprobs)
        shaping = probability / (probability + shaping_gamma) * advantage
        surrogate = torch.where(shaped[:, None].bool(), shaping, surrogate)
    per_token = -surrogate
    kl = torch.zeros_like(logprobs)
    if ref_logprobs is not None and kl_coef > 0:
        delta = ref_logprobs - logprobs
        kl = (
            torch.exp(delta) - delta - 1
        )  # k3: unbiased, non-negative (http://joschu.net/blog/kl-approx.html)
        per_token = per_token + kl_coef * kl
    loss = (per_token * policy_mask).sum() / normalizer
    with torch.no_grad():
        clipped = ((ratio - 1).abs() > clip_eps).float()
        metrics = {
            "pg_loss": float((-surrogate * policy_mask).sum() / normalizer),
            "kl": float((kl * policy_mask).sum() / normalizer),
            "clip_fraction": float((clipped * policy_mask).sum() / normalizer),
        }
    return loss, metrics


# ---------------------------------------------------------------------- checkpoints


def checkpoints(out: Path) -> list[Path]:
    """Checkpoint directories in ``out``, oldest first."""
    return sorted((out / "checkpoints").glob("step-*"), key=lambda p: int(p.name.split("-")[1]))


def save_checkpoint(out: Path, step: int, policy: TransformersPolicy, optimizer: Any, args: Args) -> Path:
    """Model, tokenizer and trainer state after ``step`` steps; older ones beyond ``keep_checkpoints`` go."""
    target = out / "checkpoints" / f"step-{step:06d}"
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    policy.model.save_pretrained(partial)
    policy.tokenizer.save_pretrained(partial)
    torch.save(
        {"step": step, "optimizer": optimizer.state_dict(), "args": asdict(args)},
        partial / "trainer_state.pt",
    )
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    for old in checkpoints(out)[: -args.keep_checkpoints]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def keep_metrics_until(path: Path, step: int) -> None:
    """Drop metric lines after ``step`` (a resumed run writes those steps again)."""
    if path.exists():
        lines = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
        path.write_text("".join(line + "\n" for line in lines))


# ---------------------------------------------------------------------- the training loop


def train(
    args: Args,
    env_factory: Callable[[], gym.Env] | None = None,
    policy: TransformersPolicy | None = None,
    on_step: Callable[[int, TransformersPolicy, dict[str, Any]], bool | None] | None = None,
) -> dict[str, Any]:
    """Run GRPO as ``args`` says; return the last step's metrics.

    ``env_factory`` replaces ``args.env`` with a constructor (for environments that are not
    registered); ``policy`` replaces ``args.model`` with a ready policy. ``on_step(step, policy,
    metrics)`` runs after each step's update, before its checkpoint is saved (an experiment
    evaluates the live policy there); returning ``True`` ends training after that step, with a
    checkpoint (an experiment stops an arm when its budget of generated tokens is spent).
    """
    args.validate()
    # An unknown device, env id or model spec fails now, before a folder is written or a model loaded.
    resolve_device(args.device)
    if env_factory is None:
        resolve_env_id(args.env)
    if policy is None and args.model.partition(":")[0] not in TRAINABLE_SPECS:
        raise ConfigError(
            f"GRPO trains a transformers model; got {args.model!r}; accepted: smollm2, tiny-random, hf:PATH"
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)

    # The policy: resumed from the newest checkpoint, or built from the spec.
    start_step, resume_state, initial = 0, None, policy
    if args.resume and checkpoints(out):
        newest = checkpoints(out)[-1]
        resume_state = torch.load(newest / "trainer_state.pt", weights_only=False)
        start_step = int(resume_state["step"])
        policy = TransformersPolicy.from_pretrained(newest, device=args.device, dtype=torch.float32)
    elif policy is None:
        policy = make_policy(args.model, device=args.device, dtype=torch.float32)
    policy.max_new_tokens, policy.temperature, policy.top_p = args.max_new_tokens, args.temperature, 1.0
    model = policy.model
    # fp32 master weights; on a GPU the forward passes run in bf16 autocast.
    autocast_dtype = torch.bfloat16 if policy.device.type == "cuda" else None
    policy.autocast_dtype = autocast_dtype
    autocast = torch.autocast(
        policy.device.type, dtype=autocast_dtype or torch.float32, enabled=autocast_dtype is not None
    )
    model.eval()  # no dropout: the loss must score tokens under the distribution that sampled them
    model.config.use_cache = False
    reference = None
    if args.kl_coef > 0:
        # The KL anchor is the model training started from, also after a resume: anchoring to the
        # checkpoint would reset the penalty to zero and let a resumed run drift further.
        if resume_state is not None and initial is None:
            initial = make_policy(args.model, device=args.device, dtype=torch.float32)
        origin = model if resume_state is None else initial.model
        reference = copy.deepcopy(origin).eval().requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)
    if resume_state is not None:
        optimizer.load_state_dict(resume_state["optimizer"])
    (out / "args.json").write_text(json.dumps(asdict(args), indent=2))

    # The environments: one vector env holding every episode of a step.
    num_envs = args.tasks_per_step * args.group_size
    if args.reflection_memory:  # Reflexion: the live policy reflects; every copy shares one memory
        env_factory = with_memory(env_factory or (lambda: gym.make(args.env, **args.env_kwargs)), policy)
    if env_factory is not None:
        envs = make_rollout_envs(env_factory, num_envs, vectorization_mode=args.vectorization_mode)
    else:
        envs = make_rollout_envs(
            args.env, num_envs, vectorization_mode=args.vectorization_mode, env_kwargs=args.env_kwargs
        )

    # Logs.
    metrics_path, transcripts_path = out / "metrics.jsonl", out / "transcripts.jsonl"
    keep_metrics_until(metrics_path, start_step)
    writer = _tensorboard(out) if args.tensorboard else None
    progress = _progress(start_step, args)

    metrics: dict[str, Any] = {}
    try:
        for step in range(start_step + 1, args.steps + 1):
            step_started = time.perf_counter()

            # 1. Rollout: the tasks and the sampling stream depend only on (seed, step), so a
            #    resumed run draws exactly what the uninterrupted run would have.
            task_seeds = np.random.default_rng([args.seed, step]).integers(0, 2**31 - 1, args.tasks_per_step)
            policy.reseed(args.seed * 1_000_003 + step)
            episodes, rollout = collect_episodes(
                policy,
                envs,
                task_seeds.tolist(),
                args.group_size,
                max_transcript_tokens=args.max_transcript_tokens,
            )

            # 2. Advantages from group-normalised returns (refinements as samples of their own).
            played = episodes
            if args.refinement_samples:
                episodes = split_refinements(played, args.refinement_context, args.refinement_shaping > 0)
                rewards = np.array([e.reward for e in episodes])
                advantages = torch.tensor(
                    grouped_advantages(rewards, [e.group for e in episodes], args.scale_rewards),
                    dtype=torch.float32,
                )
            else:
                rewards = np.array([e.reward for e in episodes])
                advantages = torch.tensor(
                    group_advantages(rewards, args.group_size, args.scale_rewards), dtype=torch.float32
                )
            normalizer = max(1, sum(e.policy_tokens for e in episodes))

            # 3. Update: clipped PG over micro-batches, gradients accumulated into one optimizer step.
            update_started = time.perf_counter()
            chunks = [
                range(i, min(i + args.micro_batch_size, len(episodes)))
                for i in range(0, len(episodes), args.micro_batch_size)
            ]
            batches = [
                pad_episodes([episodes[i] for i in chunk], policy.tokenizer.pad_token_id, policy.device)
                for chunk in chunks
            ]
            # With one pass the sampling policy is the current one: old log-probs = current, detached.
            with torch.no_grad(), autocast:
                for batch in batches:
                    ids, mask, where = batch["input_ids"], batch["attention_mask"], batch["policy_mask"]
                    if args.epochs > 1:
                        batch["old_logprobs"] = token_logprobs(model, ids, mask, args.temperature, where)
                    if reference is not None:
                        batch["ref_logprobs"] = token_logprobs(reference, ids, mask, args.temperature, where)
            totals: dict[str, float] = {"loss": 0.0, "pg_loss": 0.0, "kl": 0.0, "clip_fraction": 0.0}
            grad_norm = 0.0
            for _ in range(args.epochs):
                optimizer.zero_grad(set_to_none=True)
                for chunk, batch in zip(chunks, batches, strict=True):
                    with autocast:
                        logprobs = token_logprobs(
                            model,
                            batch["input_ids"],
                            batch["attention_mask"],
                            args.temperature,
                            batch["policy_mask"],
                        )
                    old_logprobs = batch.setdefault("old_logprobs", logprobs.detach())
                    loss, parts = clipped_pg_loss(
                        logprobs,
                        old_logprobs,
                        advantages[list(chunk)].to(policy.device),
                        batch["policy_mask"],
                        args.clip_eps,
                        normalizer,
                        batch.get("ref_logprobs"),
                        args.kl_coef,
                        torch.tensor([episodes[i].shaped for i in chunk], device=policy.device),
                        args.refinement_shaping,
                    )
                    loss.backward()
                    totals["loss"] += float(loss.detach()) / args.epochs
                    for key, value in parts.items():
                        totals[key] += value / args.epochs
                grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm))
                optimizer.step()
            update_seconds = time.perf_counter() - update_started

            # 4. Bookkeeping.
            sample_gap = (
                sum(
                    float(((b["sample_logprobs"] - b["old_logprobs"]).abs() * b["policy_mask"]).sum())
                    for b in batches
                )
                / normalizer
            )
            metrics = {
                "step": step,
                "reward_mean": float(np.mean([e.reward for e in played])),
                "reward_std": float(np.std([e.reward for e in played])),
                "solved_rate": float(np.mean([e.solved for e in played])),
                "turns_mean": float(np.mean([e.turns for e in played])),
                "cut_rate": float(np.mean([e.cut for e in played])),
                "samples": len(episodes),
                "refinement_samples": len(episodes) - len(played) if args.refinement_samples else 0,
                "policy_tokens": int(normalizer),
                **rollout_tokens(played),
                "transcript_tokens_mean": float(np.mean([len(e.token_ids) for e in episodes])),
                **totals,
                "grad_norm": grad_norm,
                "sample_logprob_gap": sample_gap,
                "rollout_seconds": rollout.seconds,
                "rollout_tokens_per_second": rollout.tokens_per_second,
                "env_seconds": rollout.env_seconds,
                "update_seconds": update_seconds,
                "step_seconds": time.perf_counter() - step_started,
            }
            _log(metrics_path, metrics, writer)
            with transcripts_path.open("a") as handle:
                for episode in played[: args.transcripts_per_step]:
                    handle.write(json.dumps({"step": step, **episode.to_json()}) + "\n")
            if progress is not None:
                progress.update(1)
                progress.set_postfix(
                    reward=f"{metrics['reward_mean']:.3f}", solved=f"{metrics['solved_rate']:.2f}"
                )
            stop = bool(on_step(step, policy, metrics)) if on_step is not None else False
            if stop or step % args.checkpoint_every == 0 or step == args.steps:
                save_checkpoint(out, step, policy, optimizer, args)
            if stop:
                break
    finally:
        envs.close()
        if progress is not None:
            progress.close()
        if writer is not None:
            writer.close()

    final = out / "final"
    shutil.rmtree(final, ignore_errors=True)
    policy.model.save_pretrained(final)
    policy.tokenizer.save_pretrained(final)
    return metrics


def rollout_tokens(episodes: Sequence[Episode]) -> dict[str, Any]:
    """Prompt and total (prompt + sampled) tokens of a rollout, and the total per solved task.

    >>> e = [Episode("t", 0, policy_mask=[0, 1, 1], prompt_tokens=5, solved=True), Episode("t", 0)]
    >>> rollout_tokens(e)
    {'prompt_tokens': 5, 'total_tokens': 7, 'total_tokens_per_solved': 7.0}
    """
    prompt = sum(e.prompt_tokens for e in episodes)
    total = prompt + sum(e.policy_tokens for e in episodes)
    solved = sum(e.solved for e in episodes)
    return {"prompt_tokens": prompt, "total_tokens": total,
            "total_tokens_per_solved": total / solved if solved else None}


def with_memory(factory: Callable[[], gym.Env], reflector: Any) -> Callable[[], gym.Env]:
    """``factory``'s envs wrapped in :class:`ReflectionMemory`, all sharing one store."""
    store = MemoryStore()

    def make() -> gym.Env:
        return ReflectionMemory(factory(), reflector=reflector, store=store)

    return make


def _log(path: Path, metrics: dict[str, Any], writer: Any) -> None:
    with path.open("a") as handle:
        handle.write(json.dumps(metrics) + "\n")
    if writer is not None:
        for key, value in metrics.items():
            if key != "step" and isinstance(value, int | float) and math.isfinite(value):
                writer.add_scalar(f"grpo/{key}", value, metrics["step"])


def _tensorboard(out: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise missing_dependency("tensorboard", "torch") from None
    return SummaryWriter(str(out / "tensorboard"))


def _progress(start_step: int, args: Args) -> Any:
    if not args.progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=args.steps, initial=start_step, desc=f"GRPO {args.env}", unit="step")
