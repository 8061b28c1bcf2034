"""The documentation's generated pages cannot go stale: every config key is described, every
results folder carries the fields of the index, every repository path the pages name exists.
(`make docs` builds the site itself, warnings as errors; CI runs it.)"""

import re
import sys

import pytest
import yaml
from conftest import REPO

sys.path.insert(0, str(REPO / "docs" / "_ext"))
import ganplify_docs as gd  # noqa: E402


def test_every_config_key_has_a_description():
    missing = gd.undescribed_keys()
    assert not missing, (
        "schemas/config.schema.yaml: keys without a description (say what the key changes):\n"
        + "\n".join(missing)
    )


def test_the_description_check_finds_a_missing_one():
    schema = yaml.safe_load(
        """
        type: object
        properties:
          a: {type: integer, description: the a}
          b:
            type: object
            properties:
              c: {type: number}
              d: {$ref: "#/$defs/block"}
        $defs:
          block:
            type: object
            description: a block
            properties:
              e: {type: string}
        """
    )
    assert gd.undescribed_keys(schema) == ["b", "b.c", "<block>.e"]


def test_the_reference_lists_the_keys_with_their_types():
    text = gd.config_reference()
    for row in (
        "| `gan.training.epochs` | integer (≥ 1) | yes |",
        "| `calorimeter.studies.<name>.truth` | {ref}`shower_sample block <block-shower_sample>` |",
        "| `<shower_sample>.kind` | one of `simulator`, `fastsim`, `file`, `trained` | yes |",
    ):
        assert row in text, row
    # config.yaml's keys are the schema's (additionalProperties: false; tests/test_config.py)


def test_every_results_folder_is_indexed():
    problems = gd.results_problems()
    assert not problems, "benchmarks/results: " + "\n".join(problems)
    index = gd.results_index()
    for folder in (REPO / "benchmarks" / "results").iterdir():
        if folder.is_dir():
            assert f"### `{folder.name}`" in index, folder.name


def test_the_results_check_finds_what_the_index_needs(tmp_path):
    (tmp_path / "cpu-2core-2026-01-02").mkdir()  # no README
    bare = tmp_path / "cpu-2core-2026-01-03-bare"
    bare.mkdir()
    (bare / "README.md").write_text("# A title\n")
    partial = tmp_path / "cpu-2core-2026-01-04-partial"
    partial.mkdir()
    (partial / "README.md").write_text("---\ndate: '2026-01-05'\nmachine: x\ncommand: y\n---\n")
    good = tmp_path / "h100-2026-01-06-good"
    good.mkdir()
    (good / "README.md").write_text(
        "---\ndate: '2026-01-06'\nmachine: one H100\ncommand: make demo\nheadline: it ran\n---\n"
    )
    assert gd.results_problems(tmp_path) == [
        "cpu-2core-2026-01-02: no README.md",
        "cpu-2core-2026-01-03-bare/README.md: no front matter (date, machine, command, headline)",
        "cpu-2core-2026-01-04-partial/README.md: front matter without 'headline'",
        "cpu-2core-2026-01-04-partial/README.md: date 2026-01-05 is not the folder's",
    ]
    index = gd.results_index(tmp_path)
    assert "### `h100-2026-01-06-good`" in index and "it ran" in index and "bare" not in index


#: a repository path in a page: a top folder of the repository, then a path
PATH = re.compile(
    r"(?<![\w/.])((?:src|rules|workflow_scripts|tests|profiles|schemas|benchmarks|config|docs|envs"
    r"|report)/[\w./-]*[\w])"
)


@pytest.mark.parametrize("page", sorted((REPO / "docs").glob("*.md")), ids=lambda p: p.name)
def test_every_path_a_page_names_exists(page):
    missing = []
    for path in PATH.findall(page.read_text()):
        if "<" in path or path.startswith("docs/_build"):
            continue
        if not (REPO / path).exists():
            missing.append(path)
    assert not missing, f"{page.name} names paths that do not exist: {missing}"
