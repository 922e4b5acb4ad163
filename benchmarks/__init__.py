"""Benchmark suites, the runner, leaderboards and performance benchmarks."""
