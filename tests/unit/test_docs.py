"""Every documentation reference in the code leads somewhere: to a docs/ section that exists.

A comment cites `docs/<name>.md §N.M`; a bare `§N.M` in a file means the one docs file that file
names. Nothing may cite the workshop notes the docs replaced: they are not in the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CODE_DIRS = ("bot", "handlers", "storage", "tests", "bench")
# The notes the docs replaced, spelled so that this file does not cite them itself.
GONE = tuple(name + ".md" for name in ("design", "upstream-api", "style"))

_SECTION = r"§(\d+(?:\.\d+)*)"
_HEADING = re.compile(r"^#{2,6}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
# The run of sections after a document's name: "§2.3, §6.1", "§2-§5", "§11 and §13.4".
_ONE = r"[\s,;\-–/]*(?:and\s+)?§\d+(?:\.\d+)*"
_CITATION = re.compile(rf"docs/(?P<doc>[\w-]+)\.md(?P<sections>(?:{_ONE})*)")
# Inside docs/: "providers §6.2" cites the sibling file, a bare "§4.7" the same file.
_SIBLING = re.compile(rf"\b(?P<doc>architecture|providers)(?P<sections>(?:{_ONE})+)")


def sections_of(doc: Path) -> set[str]:
    """The section numbers of a docs file's numbered headings ("4", "4.7", ...)."""
    return set(_HEADING.findall(doc.read_text(encoding="utf-8")))


def code_files() -> Iterator[Path]:
    """Every Python file of the project's code, tests and benchmarks (but this one's examples)."""
    for folder in CODE_DIRS:
        yield from (p for p in sorted((ROOT / folder).rglob("*.py")) if p != Path(__file__))


def citations(source: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(doc, section) pairs cited explicitly, and the bare sections outside those citations."""
    explicit: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    for match in _CITATION.finditer(source):
        spans.append(match.span())
        explicit += [(match["doc"], s) for s in re.findall(_SECTION, match["sections"])]
        if not re.search(_SECTION, match["sections"]):
            explicit.append((match["doc"], ""))
    bare = [
        match[1]
        for match in re.finditer(_SECTION, source)
        if not any(start <= match.start() < end for start, end in spans)
    ]
    return explicit, bare


def broken_references(path: Path, source: str, docs: dict[str, set[str]]) -> list[str]:
    """What in `source` cites a docs file or section that does not exist."""
    explicit, bare = citations(source)
    problems = [
        f"docs/{doc}.md {'§' + section if section else ''}".strip()
        for doc, section in explicit
        if doc not in docs or (section and section not in docs[doc])
    ]
    named = {doc for doc, _ in explicit}
    if bare and len(named) != 1:
        problems += [
            f"bare §{s}: name the docs file (the file cites {sorted(named)})" for s in bare
        ]
    elif bare:
        (doc,) = named
        problems += [f"docs/{doc}.md §{s}" for s in bare if s not in docs.get(doc, set())]
    return [f"{path.relative_to(ROOT)}: {problem}" for problem in problems]


@pytest.fixture(scope="module")
def docs() -> dict[str, set[str]]:
    """Each docs file's name (without .md) and its section numbers."""
    return {doc.stem: sections_of(doc) for doc in DOCS.glob("*.md")}


def test_the_two_documents_exist_with_numbered_sections(docs: dict[str, set[str]]) -> None:
    assert {"4.2", "4.7", "7.2", "13.11"} <= docs["architecture"]
    assert {"2.4", "3.4", "4.4", "7.5", "7.9"} <= docs["providers"]


def test_every_cited_section_exists(docs: dict[str, set[str]]) -> None:
    problems = [
        problem
        for path in code_files()
        for problem in broken_references(path, path.read_text(encoding="utf-8"), docs)
    ]
    assert problems == []


def test_docs_cross_references_exist(docs: dict[str, set[str]]) -> None:
    problems = []
    for doc in DOCS.glob("*.md"):
        body = doc.read_text(encoding="utf-8")
        spans = []
        for match in _SIBLING.finditer(body):
            spans.append(match.span())
            for section in re.findall(_SECTION, match["sections"]):
                if section not in docs[match["doc"]]:
                    problems.append(f"{doc.name}: {match['doc']} §{section}")
        for match in re.finditer(_SECTION, body):
            inside = any(start <= match.start() < end for start, end in spans)
            if not inside and match[1] not in docs[doc.stem]:
                problems.append(f"{doc.name}: §{match[1]}")
    assert problems == []


def test_nothing_cites_the_replaced_notes() -> None:
    files = [*code_files(), ROOT / "README.md", *DOCS.glob("*.md")]
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(name in line for name in GONE)
    ]
    assert hits == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("# see (docs/providers.md §7.5)", []),
        ("# see (docs/providers.md §7.99)", ["docs/providers.md §7.99"]),
        ("# (docs/providers.md §2.3, §6.1) and (§9.9)", ["docs/providers.md §9.9"]),
        ("# (docs/architecture.md §4.7) and (docs/providers.md §5) and (§4.7)", ["bare §4.7"]),
        ("# (docs/nowhere.md §1)", ["docs/nowhere.md §1"]),
        ("# shapes per docs/providers.md §2-§5", []),
        ("# a bare (§2) with no document named", ["bare §2"]),
    ],
)
def test_the_checker_catches_broken_references(source: str, expected: list[str]) -> None:
    docs = {"providers": {"2", "2.3", "3", "4", "5", "6.1", "7.5"}, "architecture": {"4.7"}}
    found = broken_references(ROOT / "x.py", source, docs)
    assert len(found) == len(expected)
    for problem, wanted in zip(found, expected, strict=True):
        assert wanted in problem
