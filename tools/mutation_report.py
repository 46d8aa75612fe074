"""Mutation score per file from mutmut's results: `python -m tools.mutation_report [--min PCT] [--survivors]`.

mutmut 3 keeps one `<file>.meta` JSON per mutated file under mutants/, mapping every mutant to the exit
code of its test run. This reads those files directly (mutmut's own `results` lists mutants, not scores).

Score = (killed + timeout) / (total - skipped - not checked), the definition mutmut's badge uses: a mutant that makes
the tests hang was detected. A mutant no test executes ("no tests") counts against the score, because an
untested line is exactly what the score is meant to show. `--min` makes the exit status fail when any
file, or the total, is below the given percentage; `--survivors` lists the surviving mutants per file.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

# The exit codes mutmut 3.8 records (mutmut/stats.py); anything else it calls "suspicious".
KILLED_CODES = {1, 3}
SURVIVED_CODES = {0}
NO_TESTS_CODES = {5, 33}
SKIPPED_CODES = {34}
TIMEOUT_CODES = {36, 24, -24, 152, 255}
NOT_CHECKED = {None}
CAUGHT_BY_TYPE_CHECK = {37}


@dataclass
class FileScore:
    path: str
    killed: int = 0
    timeout: int = 0
    survived: int = 0
    no_tests: int = 0
    skipped: int = 0
    not_checked: int = 0
    other: int = 0
    survivors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (self.killed + self.timeout + self.survived + self.no_tests + self.skipped
                + self.not_checked + self.other)

    @property
    def detected(self) -> int:
        return self.killed + self.timeout

    @property
    def tested(self) -> int:
        return self.total - self.skipped - self.not_checked

    @property
    def score(self) -> float:
        return 100.0 * self.detected / self.tested if self.tested else 0.0

    def add(self, mutant: str, exit_code: int | None) -> None:
        if exit_code in KILLED_CODES or exit_code in CAUGHT_BY_TYPE_CHECK:
            self.killed += 1
        elif exit_code in TIMEOUT_CODES:
            self.timeout += 1
        elif exit_code in SURVIVED_CODES:
            self.survived += 1
            self.survivors.append(mutant)
        elif exit_code in NO_TESTS_CODES:
            self.no_tests += 1
            self.survivors.append(mutant)
        elif exit_code in SKIPPED_CODES:
            self.skipped += 1
        elif exit_code in NOT_CHECKED:
            self.not_checked += 1
        else:
            # segfaults and "suspicious" runs: neither a clean kill nor a survivor, shown apart
            self.other += 1


def read_scores(mutants_dir: Path) -> list[FileScore]:
    scores = []
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        by_key = data.get("exit_code_by_key") or {}
        if not by_key:
            continue
        score = FileScore(str(meta.relative_to(mutants_dir))[: -len(".meta")])
        for mutant, exit_code in sorted(by_key.items()):
            score.add(mutant, exit_code)
        scores.append(score)
    return scores


def total_of(scores: list[FileScore]) -> FileScore:
    total = FileScore("total")
    for s in scores:
        for name in ("killed", "timeout", "survived", "no_tests", "skipped", "not_checked", "other"):
            setattr(total, name, getattr(total, name) + getattr(s, name))
    return total


def render(scores: list[FileScore], *, survivors: bool = False) -> str:
    width = max([len(s.path) for s in scores] + [len("total")])
    head = (f"{'file':<{width}}  {'mutants':>7}  {'killed':>6}  {'timeout':>7}  {'survived':>8}  "
            f"{'no tests':>8}  {'other':>5}  score")
    lines = [head, "-" * len(head)]
    for s in [*scores, total_of(scores)]:
        if s.path == "total":
            lines.append("-" * len(head))
        lines.append(f"{s.path:<{width}}  {s.total:>7}  {s.killed:>6}  {s.timeout:>7}  {s.survived:>8}  "
                     f"{s.no_tests:>8}  {s.other:>5}  {s.detected}/{s.tested} = {s.score:.1f}%")
    unchecked = sum(s.not_checked for s in scores)
    if unchecked:
        lines.append(f"{unchecked} mutants were not checked (a run limited to MUTANTS=..., or interrupted): "
                     "their files' scores are incomplete.")
    if survivors:
        for s in scores:
            if s.survivors:
                lines.append(f"\n{s.path}: {len(s.survivors)} not detected (`mutmut show NAME` prints the diff)")
                lines.extend(f"  {name}" for name in s.survivors)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# pytest plugin side: pyproject.toml loads this module into every test run mutmut starts
# (`-p tools.mutation_report`); outside mutmut it is never loaded.

def pytest_sessionstart(session) -> None:
    """Start every mutant's test run with cold memo caches.

    mutmut forks each mutant's run from a process that has already run the whole suite, so functools
    caches (the analysed texts in domain/text.py, the parsed catalogue and routing rules, holidays per
    year) come filled in. A mutant in a function behind such a cache would then never execute, and
    would "survive" without any test having had the chance to see it.
    """
    del session
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "chalicelib" or name.startswith("chalicelib.")):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=Path("mutants"), help="mutmut's working folder")
    parser.add_argument("--min", type=float, default=None, help="fail when a file or the total scores below this %%")
    parser.add_argument("--survivors", action="store_true", help="list the mutants the tests did not detect")
    args = parser.parse_args(argv)

    scores = read_scores(args.mutants)
    # A run limited to some mutants leaves whole files unchecked: name them, score the rest.
    skipped_files = [s.path for s in scores if s.not_checked == s.total]
    scores = [s for s in scores if s.not_checked < s.total]
    if not scores:
        print(f"no mutmut results under {args.mutants}/: run `make mutate` first", file=sys.stderr)
        return 2
    print(render(scores, survivors=args.survivors))
    if skipped_files:
        print(f"not run: {', '.join(skipped_files)}")
    if args.min is not None:
        if any(s.not_checked for s in scores):
            print("some mutants were not checked: cannot hold the scores to --min", file=sys.stderr)
            return 1
        below = [s for s in [*scores, total_of(scores)] if s.score < args.min]
        if below:
            print(f"below {args.min:g}%: " + ", ".join(s.path for s in below), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
