"""Train with TRL's GRPOTrainer against an environment served by ``feedback-gym serve``.

The trainer and the environment sit in different processes (they could sit on different machines):
every completion is played as the first attempt of an episode on the served environment, through
:class:`feedback_gym.remote.RemoteEnv`, and the reward is what the server pays for it.

    feedback-gym serve Countdown-v0 --port 8000 &           # or let this script start one
    python examples/serve_trl.py --url http://127.0.0.1:8000 --steps 2

Without ``--url`` the script starts a server on a free loopback port and stops it at the end. The
default model is the tiny random GPT-2 built offline (``--model PATH`` for a real one).
"""

from __future__ import annotations

import argparse
import contextlib
import json

from feedback_gym.agents.adapters.trl import completion_text
from feedback_gym.remote import RemoteEnv


def task_rows(env: RemoteEnv, num_tasks: int) -> list[dict]:
    """Distinct tasks of the served env as TRL rows: a conversational prompt and its task id."""
    rows, seen = [], set()
    for seed in range(num_tasks * 4):
        prompt, info = env.reset(seed=seed)
        if info["task_id"] not in seen:
            seen.add(info["task_id"])
            rows.append({"prompt": [{"role": "user", "content": prompt}], "task_id": info["task_id"]})
        if len(rows) == num_tasks:
            break
    return rows


def served_reward(env: RemoteEnv):
    """A TRL reward function: each completion is a first attempt on its row's task, on the server."""

    def reward(prompts, completions, task_id, **_):
        values = []
        for completion, task in zip(completions, task_id, strict=True):
            env.reset(options={"task_id": task})
            values.append(float(env.step(completion_text(completion))[1]))
        print(json.dumps({"rewards": values}), flush=True)
        return values

    reward.__name__ = "served_reward"
    return reward


def train(url: str, model_path: str | None, steps: int, output_dir: str) -> None:
    """Run ``steps`` GRPO steps with rewards from the server at ``url``."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from feedback_gym.agents.models import tiny_random_path

    torch.manual_seed(0)
    path = model_path or str(tiny_random_path(seed=0))
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(path)
    env = RemoteEnv(url)
    try:
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=[served_reward(env)],
            train_dataset=Dataset.from_list(task_rows(env, 4)),
            processing_class=tokenizer,
            args=GRPOConfig(
                output_dir=output_dir,
                max_steps=steps,
                per_device_train_batch_size=4,
                num_generations=4,
                max_completion_length=16,
                report_to="none",
                use_cpu=not torch.cuda.is_available(),
                logging_steps=1,
                save_strategy="no",
                seed=0,
            ),
        )
        trainer.train()
    finally:
        env.close()
    print(f"trained {steps} GRPO steps on {env.env_id} served at {url}")
    print(json.dumps({"example": "serve_trl", "steps": steps, "env_id": env.env_id, "url": url}))


def main() -> None:
    """Parse the arguments, start a server when no URL is given, train."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a running server (default: start one)")
    parser.add_argument("--env", default="Countdown-v0", help="the id to serve when starting a server")
    parser.add_argument("--model", default=None, help="a model path (default: the tiny random GPT-2)")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--output-dir", default="runs/serve_trl")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            from feedback_gym.serve.process import ServerProcess

            url = stack.enter_context(ServerProcess(args.env)).url
        train(url, args.model, args.steps, args.output_dir)


if __name__ == "__main__":
    main()
