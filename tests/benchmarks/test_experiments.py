"""``feedback-gym experiment``: each experiment end to end at the tiny scale, resume, splits, judges."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import feedback_gym  # noqa: F401  (registers the ids)
from feedback_gym.benchmarks.experiments import EXPERIMENTS, get_experiment, runner
from feedback_gym.benchmarks.experiments.splits import PlayOnly, TaskSplit
from feedback_gym.cli import main
from feedback_gym.errors import ConfigError

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)


def _run(name, out, **overrides):
    return runner.run_experiment(
        get_experiment(name), "tiny", out, model="tiny-random", device="cpu", progress=False, **overrides
    )


def test_list_names_every_experiment(capsys):
    assert main(["experiment", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(EXPERIMENTS) == ["learns-v0", "unary-feedback-v0", "textual-vs-binary-v0"]


def test_an_unknown_experiment_names_the_accepted_ones():
    with pytest.raises(ConfigError, match="accepted: learns-v0"):
        get_experiment("learns-v9")


def test_the_split_never_puts_one_prompt_in_two_splits():
    env = gym.make("Countdown-v0", difficulty=1)
    split = TaskSplit.build(env, {"train": 300, "validation": 30, "heldout": 30})
    source = env.unwrapped.source
    names = ("train", "validation", "heldout")
    prompts = {name: {source.get(t).prompt for t in split.ids(name)} for name in names}
    assert [len(prompts[n]) for n in ("train", "validation", "heldout")] == [300, 30, 30]
    assert not prompts["train"] & prompts["heldout"]
    assert not prompts["train"] & prompts["validation"]
    assert not prompts["validation"] & prompts["heldout"]
    assert split.overlap == 0
    env.close()


def test_play_only_keeps_an_env_inside_its_list():
    env = gym.make("Countdown-v0", difficulty=1)
    ids = TaskSplit.build(env, {"heldout": 5}).heldout
    wrapped = PlayOnly(env, ids)
    seen = [wrapped.reset(seed=s)[1]["task_id"] for s in range(10)]
    assert seen == list(ids) * 2
    assert wrapped.reset()[1]["task_id"] in ids
    with pytest.raises(ConfigError, match="chooses the task itself"):
        wrapped.reset(seed=0, options={"task_id": ids[0]})
    wrapped.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_each_experiment_runs_end_to_end(name, tmp_path):
    experiment = get_experiment(name)
    results = _run(name, tmp_path)
    written = json.loads((tmp_path / "results.json").read_text())
    assert written == json.loads(json.dumps(results))
    assert {"experiment", "claim", "command", "machine", "model", "scale", "split", "evaluation", "arms",
            "verdict"} <= set(written)
    assert written["experiment"] == name and written["model"] == "tiny-random"
    assert written["verdict"]["status"] in ("reproduced", "not reproduced", "inconclusive")
    assert set(written["arms"]) == {arm.name for arm in experiment.arms}
    split = json.loads((tmp_path / "split.json").read_text())
    assert written["split"]["overlap_train_heldout"] == 0
    for arm in written["arms"].values():
        for run in arm["runs"].values():
            assert run["complete"]
            steps = [e["step"] for e in run["evals"]]
            assert steps[0] == 0 and steps == sorted(steps) and steps[-1] == run["train"]["steps"]
            tokens = [e["generated_tokens"] for e in run["evals"]]
            assert tokens[0] == 0 and tokens == sorted(tokens)
            assert tokens[-1] == run["train"]["generated_tokens"]
            for record in run["evals"]:
                assert set(record["task_ids"]) <= set(split["heldout"])
                assert not set(record["task_ids"]) & set(split["train"])
                assert len(record["outcomes"]) == written["split"]["heldout_tasks"]
                for metric in ("success@1", "success@k"):
                    low, high = record[metric]["ci"]
                    assert 0 <= low <= record[metric]["rate"] <= high <= 1
    for plot in ("success_vs_steps.png", "success_vs_tokens.png"):
        assert (tmp_path / plot).read_bytes()[:8] == PNG_MAGIC
    report = (tmp_path / "report.md").read_text()
    assert written["verdict"]["status"].upper() in report and experiment.claim.anchor in report
    assert not list(tmp_path.glob("*/seed-*/checkpoints")), "finished runs drop their checkpoints"


@pytest.mark.slow
def test_an_interrupted_experiment_resumes_and_skips_finished_arms(tmp_path, monkeypatch):
    from feedback_gym.agents import grpo

    trained = []
    real_train = grpo.train

    def train_then_stop(args, **kwargs):
        trained.append(args.out)
        if len(trained) == 2:
            raise KeyboardInterrupt  # the user stops the run while the second arm trains
        return real_train(args, **kwargs)

    monkeypatch.setattr(grpo, "train", train_then_stop)
    with pytest.raises(KeyboardInterrupt):
        _run("textual-vs-binary-v0", tmp_path)
    first = tmp_path / "textual" / "seed-0"
    assert (first / "done.json").exists() and not (tmp_path / "binary" / "seed-0" / "done.json").exists()
    finished = (first / "metrics.jsonl").read_text()

    trained.clear()
    def count_train(args, **kwargs):
        trained.append(args.out)
        return real_train(args, **kwargs)

    monkeypatch.setattr(grpo, "train", count_train)
    results = _run("textual-vs-binary-v0", tmp_path)
    assert trained == [str(tmp_path / "binary" / "seed-0")], "the finished arm is not trained again"
    assert (first / "metrics.jsonl").read_text() == finished
    assert all(run["complete"] for arm in results["arms"].values() for run in arm["runs"].values())


@pytest.mark.slow
def test_a_token_budget_ends_an_arm_early_with_a_final_evaluation(tmp_path):
    results = _run("unary-feedback-v0", tmp_path, arms=["multi-turn-unary"], steps=5, token_budget=1)
    run = results["arms"]["multi-turn-unary"]["runs"]["0"]
    assert run["train"]["steps"] == 1
    assert [e["step"] for e in run["evals"]] == [0, 1]


def test_a_folder_of_another_configuration_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"experiment": "learns-v0", "scale": "cpu"}))
    with pytest.raises(ConfigError, match="another configuration"):
        _run("learns-v0", tmp_path)


def _results(baseline, final, arms=("grpo",)):
    """A results record whose runs went from ``baseline`` to ``final`` solved-turn outcomes (one per task)."""
    run = {"complete": True, "evals": [{"step": 0, "outcomes": [[t] for t in baseline]},
                                       {"step": 4, "outcomes": [[t] for t in final]}]}
    return {"scale": {"seeds": [0]}, "arms": {arm: {"runs": {"0": run}} for arm in arms}}


def test_the_learns_judge_reads_the_direction_and_the_interval():
    judge = get_experiment("learns-v0").judge
    assert judge(_results([0] * 40, [1] * 30 + [0] * 10))["status"] == "reproduced"
    assert judge(_results([1] * 30 + [0] * 10, [0] * 40))["status"] == "not reproduced"
    assert judge(_results([1, 0] * 20, [0, 1] * 20))["status"] == "inconclusive"
    unfinished = _results([0] * 40, [1] * 40)
    unfinished["arms"]["grpo"]["runs"]["0"]["complete"] = False
    assert judge(unfinished)["status"] == "incomplete"


def test_a_few_tasks_won_one_way_do_not_make_a_difference_significant():
    # 4 of 64 tasks solved by one side only: an exact sign test gives p = 0.125. The percentile
    # bootstrap alone puts its interval above zero; the reported interval must not.
    from feedback_gym.benchmarks.experiments.stats import (
        BOOTSTRAP_RESAMPLES,
        excludes_zero,
        paired_difference,
    )

    a, b = [[1]] * 4 + [[0]] * 60, [[0]] * 64
    draws = np.random.default_rng(0).integers(0, 64, size=(BOOTSTRAP_RESAMPLES, 64))
    assert np.quantile((np.array(a)[:, 0] - np.array(b)[:, 0])[draws].mean(axis=1), 0.025) > 0
    few = paired_difference(a, b)
    assert few["difference"] == pytest.approx(4 / 64) and excludes_zero(few) == 0
    many = paired_difference([[1]] * 16 + [[0]] * 48, b)
    assert excludes_zero(many) == 1  # 16 of 64, all one way: clearly above zero
    swapped = paired_difference(b, a)
    assert (swapped["ci_low"], swapped["ci_high"]) == pytest.approx((-few["ci_high"], -few["ci_low"]))


@pytest.mark.slow
def test_tuning_evaluates_on_the_validation_split_only(tmp_path):
    from feedback_gym.benchmarks.experiments.runner import tune

    record = tune(get_experiment("learns-v0"), "tiny", tmp_path, [1e-3, 1e-4], model="tiny-random",
                  device="cpu", progress=False, steps=1)
    assert set(record["scores"]) == {"0.001", "0.0001"} and record["split"] == "validation"
    assert record["best_learning_rate"] in (1e-3, 1e-4)
    split = json.loads((tmp_path / "lr-0.001" / "split.json").read_text())
    results = json.loads((tmp_path / "lr-0.001" / "results.json").read_text())
    for record in results["arms"]["grpo"]["runs"]["0"]["evals"]:
        assert set(record["task_ids"]) <= set(split["validation"])
        assert not set(record["task_ids"]) & set(split["heldout"])


DOCS = Path(__file__).resolve().parents[2] / "docs" / "experiments"


@pytest.mark.parametrize("folder", sorted(p.parent.name for p in DOCS.glob("*/results.json")))
def test_the_committed_reports_are_renderings_of_their_results(folder, tmp_path):
    from feedback_gym.benchmarks.experiments.report import markdown

    results = json.loads((DOCS / folder / "results.json").read_text())
    assert results["split"]["overlap_train_heldout"] == 0
    assert (DOCS / folder / "report.md").read_text() == markdown(results)
    for plot in ("success_vs_steps.png", "success_vs_tokens.png"):
        assert (DOCS / folder / plot).read_bytes()[:8] == PNG_MAGIC


def test_the_docs_index_table_is_generated_from_the_committed_results(tmp_path):
    from feedback_gym.benchmarks.experiments.report import INDEX_END, INDEX_START, index_table

    text = (DOCS / "index.md").read_text()
    block = text.split(INDEX_START, 1)[1].split(INDEX_END, 1)[0].strip()
    folders = sorted(p.parent for p in DOCS.glob("*/results.json"))
    assert block == (index_table(folders) if folders else "")


def test_the_gpu_script_is_valid_bash_and_runs_every_experiment():
    import subprocess

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "experiments" / "gpu_all.sh"
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    text = script.read_text()
    loop = next(line for line in text.splitlines() if line.startswith("for name in"))
    assert loop.split(" in ", 1)[1].rstrip("; do").split() == list(EXPERIMENTS)
    assert "--scale gpu" in text and "feedback_gym.agents.gpu_benchmark" in text and "timeout" in text
