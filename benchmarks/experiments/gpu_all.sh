#!/usr/bin/env bash
# Every GPU check of issue 16 in one call: the three experiments at --scale gpu, then the trainer
# benchmark (reference GRPO vs TRL's GRPOTrainer, s/step and rollout tokens/s on the same GPU).
#
#   bash benchmarks/experiments/gpu_all.sh [OUT]        # from the repository root, with a CUDA GPU
#
# Each command has its own timeout (EXPERIMENT_TIMEOUT, BENCHMARK_TIMEOUT seconds), so one slow
# experiment cannot eat the others' time. The experiments run in runs/gpu/ and resume: run the
# script again and a timed-out experiment continues from its newest checkpoint. The reports
# (results.json, plots, report.md, logs) are copied to OUT/<experiment>/, the benchmark's figures to
# OUT/gpu_benchmark/benchmark.json; checkpoints stay behind.
set -uo pipefail
out=${1:-${OUT:-runs/gpu-reports}}
work=runs/gpu
python=${PYTHON:-.venv/bin/python}
experiment_timeout=${EXPERIMENT_TIMEOUT:-150}
benchmark_timeout=${BENCHMARK_TIMEOUT:-240}
mkdir -p "$out"
{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; } > "$out/machine.txt" 2>&1
for name in learns-v0 unary-feedback-v0 textual-vs-binary-v0; do
  timeout "$experiment_timeout" "$python" -m feedback_gym.cli experiment "$name" --scale gpu --device cuda \
    --no-progress --out "$work/$name" > "$out/$name.log" 2>&1
  echo "$name exit $?" | tee -a "$out/status.txt"
  mkdir -p "$out/$name"
  cp "$work/$name"/{results.json,report.md,success_vs_steps.png,success_vs_tokens.png} "$out/$name/" 2>/dev/null
done
timeout "$benchmark_timeout" "$python" -m feedback_gym.agents.gpu_benchmark --model smollm2 --device cuda \
  --out "$out/gpu_benchmark" > "$out/gpu_benchmark.log" 2>&1
echo "gpu_benchmark exit $?" | tee -a "$out/status.txt"
