"""Procedural tool-use tasks: multi-step questions over the bundled databases and corpus.

Each generator is ``f(rng, index) -> Task`` and builds its oracle by *running* the tools it will ask
the agent to run (the real read-only SQL, the real BM25 search, the real calculator), so the answer
is what the tools give, not what a template assumed. Python steps are the exception: their answer is
computed here by trusted code, and the tests check that the oracle's cell prints the same value in the
sandbox. The entities are invented (see ``build_data.py``), so no answer can be recalled instead of
looked up.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from feedback_gym.envs.tools.calculator import calculator
from feedback_gym.envs.tools.search import SearchTool, load_corpus
from feedback_gym.envs.tools.sql import resolve_database, run_query
from feedback_gym.envs.tools.tasks import DATA_DIR, make_tool_task
from feedback_gym.errors import ConfigError
from feedback_gym.tasks import Task, read_jsonl

MONTHS = {1: "January", 2: "February", 3: "March"}
Generator = Callable[[random.Random, int], Task]


@lru_cache(maxsize=4)
def _db(name: str) -> Path:
    return resolve_database(name)


def _rows(database: str, query: str) -> list[tuple]:
    return run_query(_db(database), query, timeout_s=5.0, max_rows=1000)[1]


@lru_cache(maxsize=1)
def _atlas() -> dict[str, dict]:
    return {d["id"]: d for d in read_jsonl(DATA_DIR / "atlas.jsonl")}


def _call(tool: str, **arguments: object) -> dict:
    return {"tool": tool, "arguments": arguments}


def _search_call(query: str, doc_id: str) -> dict:
    """The smallest ``k`` at which ``query`` retrieves ``doc_id`` (so the oracle's call is honest)."""
    tool = SearchTool(load_corpus())
    for k in (1, 3, 5, 10):
        if any(doc.id == doc_id for doc, _ in tool.corpus.search(query, k)):
            return _call("search", query=query, k=k) if k > 1 else _call("search", query=query)
    raise ConfigError(f"the corpus search for {query!r} does not find {doc_id!r}")


def _number(text: str) -> float:
    return float(text)


# ----------------------------------------------------------------------------- sql + calculator


def _calculated(
    task_id: str, kind: str, question: str, expression: str, *, lookups: list[dict], facts: list,
    **options: Any,
) -> Task:
    """A task whose answer is the calculator's value of ``expression``, reached after ``lookups``.

    The oracle makes the lookups, then the calculation; the key facts are the looked-up values and the
    answer. ``options`` go to :func:`make_tool_task` (``tolerance``, ``database``).
    """
    answer = _number(calculator(expression))
    return make_tool_task(
        task_id, question, answer,
        oracle=[*lookups, _call("calculator", expression=expression)],
        key_facts=[*facts, answer], metadata={"source": "generated", "kind": kind}, **options,
    )


def shop_revenue(rng: random.Random, index: int) -> Task:
    """Shipped-order value of one city's customers in one year, after a discount (sql, calculator)."""
    while True:
        city = rng.choice(["Lisbon", "Oslo", "Quito", "Nairobi", "Osaka", "Perth", "Krakow"])
        year = rng.randint(2021, 2024)
        query = (
            "SELECT ROUND(SUM(oi.quantity * p.price), 2) AS total FROM orders o "
            "JOIN customers c ON c.id = o.customer_id JOIN order_items oi ON oi.order_id = o.id "
            "JOIN products p ON p.id = oi.product_id "
            f"WHERE c.city = '{city}' AND o.status = 'shipped' AND o.order_date LIKE '{year}-%'"
        )
        total = _rows("shop", query)[0][0]
        if total:
            break
    discount = rng.choice([5, 10, 12, 15, 20, 25])
    expression = f"round({total} * (1 - {discount} / 100), 2)"
    question = (
        f"In the shop database, what was the total value (quantity times price) of all shipped orders "
        f"placed in {year} by customers from {city}? Give the value after a {discount}% discount, "
        "rounded to 2 decimal places."
    )
    return _calculated(
        f"tools-shop-revenue/{index}", "shop_revenue", question, expression,
        lookups=[_call("sql", query=query)],
        facts=[total], tolerance=0.011, database="shop",
    )


def shop_cancelled_share(rng: random.Random, index: int) -> Task:
    """Share of a category's units that sat in cancelled orders in one year (sql, calculator)."""
    while True:
        category = rng.choice(["books", "garden", "kitchen", "toys", "tools"])
        year = rng.randint(2021, 2024)
        query = (
            "SELECT SUM(CASE WHEN o.status = 'cancelled' THEN oi.quantity ELSE 0 END) AS cancelled_units, "
            "SUM(oi.quantity) AS all_units FROM orders o JOIN order_items oi ON oi.order_id = o.id "
            f"JOIN products p ON p.id = oi.product_id WHERE p.category = '{category}' "
            f"AND o.order_date LIKE '{year}-%'"
        )
        cancelled, units = _rows("shop", query)[0]
        if units and cancelled:
            break
    expression = f"round(100 * {cancelled} / {units}, 1)"
    question = (
        f"In the shop database, what percentage of the units of {category} products ordered in {year} "
        "(counting orders of every status) were in cancelled orders? Round to 1 decimal place."
    )
    return _calculated(
        f"tools-shop-cancelled/{index}", "shop_cancelled_share", question, expression,
        lookups=[_call("sql", query=query)],
        facts=[cancelled, units], tolerance=0.051, database="shop",
    )


def weather_gap(rng: random.Random, index: int) -> Task:
    """Difference of two stations' mean temperatures in one month (sql, calculator)."""
    first, second = rng.sample(
        [r[0] for r in _rows("weather", "SELECT name FROM stations ORDER BY id")], 2
    )
    month = rng.choice(list(MONTHS))
    query = (
        "SELECT s.name, AVG(r.temp_c) AS mean_temp FROM readings r JOIN stations s ON s.id = r.station_id "
        f"WHERE s.name IN ('{first}', '{second}') AND r.day LIKE '2023-{month:02d}-%' GROUP BY s.name"
    )
    means = dict(_rows("weather", query))
    expression = f"round({means[first]} - ({means[second]}), 2)"
    question = (
        f"In the weather database, by how many degrees Celsius did the mean daily temperature at "
        f"{first} exceed that at {second} in {MONTHS[month]} 2023? (Negative if it was lower.) "
        "Round to 2 decimal places."
    )
    return _calculated(
        f"tools-weather-gap/{index}", "weather_gap", question, expression,
        lookups=[_call("sql", query=query)],
        facts=[means[first], means[second]], tolerance=0.011, database="weather",
    )


# ----------------------------------------------------------------------------- search + calculator


def _towns() -> list[dict]:
    return [d for d in _atlas().values() if d["id"].startswith("town/")]


def town_years(rng: random.Random, index: int) -> Task:
    """Years between two towns' foundings (search, search, calculator)."""
    first, second = rng.sample(_towns(), 2)
    a, b = first["facts"]["founded"], second["facts"]["founded"]
    expression = f"abs({a} - {b})"
    question = (
        f"According to the encyclopedia, how many years passed between the founding of {first['title']} "
        f"and the founding of {second['title']}?"
    )
    return _calculated(
        f"tools-town-years/{index}", "town_years", question, expression,
        lookups=[_search_call(first["title"], first["id"]), _search_call(second["title"], second["id"])],
        facts=[a, b],
    )


def town_density(rng: random.Random, index: int) -> Task:
    """A town's population density (search, calculator)."""
    town = rng.choice(_towns())
    facts = town["facts"]
    expression = f"round({facts['population']} / {facts['area_km2']}, 1)"
    question = (
        f"According to the encyclopedia, what is the population density of {town['title']} in "
        "inhabitants per square kilometre? Round to 1 decimal place."
    )
    return _calculated(
        f"tools-town-density/{index}", "town_density", question, expression,
        lookups=[_search_call(town["title"], town["id"])],
        facts=[facts["population"], facts["area_km2"]], tolerance=0.051,
    )


def invention_age(rng: random.Random, index: int) -> Task:
    """Two-hop: the inventor's birth town, then its founding year (search, search, calculator)."""
    person = rng.choice([d for d in _atlas().values() if d["id"].startswith("person/")])
    facts = person["facts"]
    town = _atlas()[f"town/{facts['town'].lower()}"]
    founded = town["facts"]["founded"]
    expression = f"{facts['invented']} - {founded}"
    question = (
        f"The first {facts['invention']} was built by an engineer in some year. How many years before "
        "that was the engineer's home town (the town where they were born) founded? Use the encyclopedia."
    )
    return _calculated(
        f"tools-invention-age/{index}", "invention_age", question, expression,
        lookups=[_search_call(f"first {facts['invention']}", person["id"]),
                 _search_call(town["title"], town["id"])],
        facts=[facts["invented"], founded],
    )


def river_span(rng: random.Random, index: int) -> Task:
    """Long horizon: a river's towns, then each town's founding year, then max - min (up to 8 calls)."""
    rivers = [d for d in _atlas().values()
              if d["id"].startswith("river/") and 2 <= len(d["facts"]["towns"]) <= 6]
    river = rng.choice(sorted(rivers, key=lambda d: d["id"]))
    towns = [_atlas()[f"town/{name.lower()}"] for name in river["facts"]["towns"]]
    years = [t["facts"]["founded"] for t in towns]
    listed = ", ".join(map(str, years))
    expression = f"max({listed}) - min({listed})"
    name = river["title"].split(" (")[0]
    question = (
        f"According to the encyclopedia, how many years separate the founding of the oldest town on the "
        f"river {name} from the founding of the youngest town on it?"
    )
    return _calculated(
        f"tools-river-span/{index}", "river_span", question, expression,
        lookups=[_search_call(f"{name} river", river["id"]),
                 *(_search_call(t["title"], t["id"]) for t in towns)],
        facts=years,
    )


# ----------------------------------------------------------------------------- python


def rain_spread(rng: random.Random, index: int) -> Task:
    """Population standard deviation of one station's daily rain in a month (sql, python)."""
    station = rng.choice([r[0] for r in _rows("weather", "SELECT name FROM stations ORDER BY id")])
    month = rng.choice(list(MONTHS))
    query = (
        "SELECT r.rain_mm FROM readings r JOIN stations s ON s.id = r.station_id "
        f"WHERE s.name = '{station}' AND r.day LIKE '2023-{month:02d}-%' ORDER BY r.day"
    )
    values = [r[0] for r in _rows("weather", query)]
    answer = round(statistics.pstdev(values), 3)
    code = f"import statistics\nrain = {values!r}\nprint(round(statistics.pstdev(rain), 3))"
    question = (
        f"In the weather database, what is the population standard deviation of the daily rainfall (mm) "
        f"at {station} in {MONTHS[month]} 2023? Round to 3 decimal places."
    )
    return make_tool_task(
        f"tools-rain-spread/{index}", question, answer, tolerance=0.0011, database="weather",
        oracle=[_call("sql", query=query), _call("python", code=code)],
        key_facts=[answer], metadata={"source": "generated", "kind": "rain_spread"},
    )


def _primes_below(n: int) -> list[int]:
    sieve = bytearray([1]) * n
    sieve[:2] = b"\x00\x00"
    for p in range(2, int(n**0.5) + 1):
        if sieve[p]:
            sieve[p * p :: p] = bytearray(len(range(p * p, n, p)))
    return [i for i in range(n) if sieve[i]]


def prime_sum(rng: random.Random, index: int) -> Task:
    """The sum of the primes in a range: too long by hand, two lines of Python (python)."""
    low = rng.randint(100, 5000)
    high = low + rng.randint(2000, 40000)
    answer = sum(p for p in _primes_below(high) if p >= low)
    code = (
        "def is_prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n"
        "        if n % i == 0:\n            return False\n        i += 1\n    return True\n"
        f"print(sum(n for n in range({low}, {high}) if is_prime(n)))"
    )
    question = f"What is the sum of all prime numbers p with {low} <= p < {high}?"
    return make_tool_task(
        f"tools-prime-sum/{index}", question, answer,
        oracle=[_call("python", code=code)], key_facts=[answer],
        metadata={"source": "generated", "kind": "prime_sum"},
    )


#: Every generator by kind, and the tools its oracle uses.
GENERATORS: dict[str, Generator] = {
    "shop_revenue": shop_revenue,
    "shop_cancelled_share": shop_cancelled_share,
    "weather_gap": weather_gap,
    "town_years": town_years,
    "town_density": town_density,
    "invention_age": invention_age,
    "river_span": river_span,
    "rain_spread": rain_spread,
    "prime_sum": prime_sum,
}
#: Kinds whose oracle runs code (they need a sandbox).
PYTHON_KINDS = ("rain_spread", "prime_sum")


def mixed_generator(kinds: tuple[str, ...]) -> Generator:
    """A generator cycling through ``kinds`` by index (index 0 -> first kind, and so on)."""
    unknown = [k for k in kinds if k not in GENERATORS]
    if unknown or not kinds:
        raise ConfigError(f"unknown task kinds {unknown}; accepted: {', '.join(GENERATORS)}")

    def generate(rng: random.Random, index: int) -> Task:
        return GENERATORS[kinds[index % len(kinds)]](rng, index)

    return generate
