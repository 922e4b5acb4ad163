# The two commands of the README. Both install everything first (.ci/setup, idempotent).
.PHONY: setup test bench

setup: .venv/.installed

.venv/.installed: pyproject.toml setup.py .ci/setup
	bash .ci/setup

# The tests, for real: Docker engine, sandbox image, headless browser (see .ci/test).
test: setup
	bash .ci/test

# The main job: the quick-v0 leaderboard benchmark with the embedded default policy.
bench: setup
	.venv/bin/feedback-gym bench --policy smollm2 --suite quick-v0 --out runs/quick-v0 --policy-kwarg max_new_tokens=128
