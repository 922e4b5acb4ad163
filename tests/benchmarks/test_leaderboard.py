"""Leaderboards: the Markdown table, and the HTML page in a real headless Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from feedback_gym.benchmarks.leaderboard import env_rows, render_html, render_markdown, run_rows
from feedback_gym.benchmarks.runner import BenchConfig, run_benchmark, write_reports
from feedback_gym.benchmarks.suites import Suite, SuiteEntry
from feedback_gym.benchmarks.summary import load_summaries
from feedback_gym.errors import ConfigError

SUITE = Suite("board-v0", (
    SuiteEntry("Countdown-v0", {"feedback": "tests", "max_turns": 3}, (0, 1, 2)),
    SuiteEntry("Countdown-v0", {"feedback": "binary", "max_turns": 2}, (0, 1, 2)),
))
POLICIES = ("oracle", "random", "python:tests.benchmarks.policies:WrongThenOracle")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for i, policy in enumerate(POLICIES):
        run_benchmark(BenchConfig(policy, SUITE, root / f"run{i}", workers=1), progress=False)
    return root


def test_summaries_merge_into_one_row_per_run_and_per_env(runs):
    summaries = load_summaries([runs])
    assert len(summaries) == 3
    rows = run_rows(summaries)
    assert [r["policy"] for r in rows][0] in ("oracle", POLICIES[2]) and rows[-1]["policy"] == "random"
    assert len(env_rows(summaries)) == 6
    text = render_markdown(summaries)
    for policy in POLICIES:
        assert text.count(f"| {policy} | board-v0 |") == 1
        assert text.count(f"| {policy} | Countdown-v0[") == 2
    wrong_then_right = next(r for r in rows if r["policy"] == POLICIES[2])
    assert wrong_then_right["success@1"] == 0.0 and wrong_then_right["success@k"] == 1.0
    assert wrong_then_right["best_of_n"] == 0.0 and wrong_then_right["gain"] == 1.0


def test_load_summaries_rejects_what_is_not_a_summary(tmp_path):
    (tmp_path / "summary.json").write_text('{"hello": 1}')
    with pytest.raises(ConfigError, match="not a feedback-gym benchmark summary"):
        load_summaries([tmp_path])
    with pytest.raises(ConfigError, match="neither"):
        load_summaries([tmp_path / "missing"])


def test_html_escapes_what_it_shows(runs):
    summaries = load_summaries([runs])
    summaries[0]["policy"]["spec"] = "<script>alert(1)</script>"
    page = render_html(summaries)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _chromium():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        if os.environ.get("FEEDBACK_GYM_REQUIRE_BROWSER") == "1":
            raise
        pytest.skip("needs selenium (pip install 'feedback-gym[test]')")
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.fail("Chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
    return webdriver, Service(executable_path=driver_path), binary


@pytest.mark.browser
def test_the_html_leaderboard_renders_every_row_and_sorts_in_chromium(runs, tmp_path):
    board = tmp_path / "board"
    write_reports(load_summaries([runs]), board)
    webdriver, service, binary = _chromium()
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
                 "--window-size=1500,1300"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.get((board / "leaderboard.html").resolve().as_uri())
        assert driver.title == "feedback-gym leaderboard"

        def column(table, key):
            headers = [h.get_attribute("data-key")
                       for h in driver.find_elements(By.CSS_SELECTOR, f"#{table} th")]
            index = headers.index(key) + 1
            cells = driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr td:nth-child({index})")
            return [c.get_attribute("data-value") for c in cells], [c.text for c in cells]

        policies, shown = column("runs", "policy")
        assert sorted(policies) == sorted(POLICIES) and shown == policies  # every run row is rendered
        assert len(driver.find_elements(By.CSS_SELECTOR, "#envs tbody tr")) == 6
        assert all(row.is_displayed() for row in driver.find_elements(By.CSS_SELECTOR, "tbody tr"))

        header = driver.find_element(By.CSS_SELECTOR, '#runs th[data-key="success@1"]')
        header.click()
        values = [float(v) for v in column("runs", "success@1")[0]]
        assert values == sorted(values) and header.get_attribute("aria-sort") == "ascending"
        header.click()
        values = [float(v) for v in column("runs", "success@1")[0]]
        assert values == sorted(values, reverse=True) and header.get_attribute("aria-sort") == "descending"
        assert column("runs", "policy")[0][0] == "oracle"  # the only run solving on turn 1

        driver.find_element(By.CSS_SELECTOR, '#envs th[data-key="env"]').click()
        envs, shown = column("envs", "env")
        assert envs == sorted(envs) and shown == envs

        image = driver.find_element(By.CSS_SELECTOR, "img")
        assert driver.execute_script("return arguments[0].naturalWidth", image) > 0  # the plot loaded
        shot = Path(os.environ.get("FEEDBACK_GYM_SCREENSHOT_DIR", tmp_path)) / "leaderboard.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 20_000
    finally:
        driver.quit()
