"""Pages of the documentation that are generated from the repository, so they cannot go stale.

- :func:`config_reference`: every key of ``schemas/config.schema.yaml`` (the schema the workflow
  validates its config against), with its type, its allowed values and its description;
  :func:`undescribed_keys` lists the keys that have none (``tests/test_docs_site.py`` fails on
  any);
- :func:`results_index`: one row per folder of ``benchmarks/results/``, from the YAML front matter
  of the folder's ``README.md`` (``date``, ``machine``, ``command``, ``headline``; and for a
  result a later method replaced, ``superseded_by``, a folder, and ``superseded_why``);
  :func:`results_problems` lists folders without a README or without those fields.

As a Sphinx extension (``ganplify_docs`` in ``docs/conf.py``) it writes both pages into
``docs/_generated/`` when a build starts; the pages under ``docs/`` include them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "schemas" / "config.schema.yaml"
RESULTS = REPO / "benchmarks" / "results"
#: the front-matter fields every results README carries
RESULT_FIELDS = ("date", "machine", "command", "headline")
#: a results folder: <machine>-<YYYY-MM-DD>[<letter>][-<topic>]
RESULT_FOLDER = re.compile(r"^(?P<machine>[a-z0-9]+(?:-[a-z0-9]+)*?)-(?P<date>\d{4}-\d{2}-\d{2})")


# -- the configuration reference ----------------------------------------------------------------


def _resolve(node: Mapping, schema: Mapping) -> Mapping:
    """``node`` with a ``$ref`` (and ``allOf``) merged in: the keys it actually allows."""
    node = dict(node)
    while "$ref" in node:
        ref = node.pop("$ref")
        target = schema
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **node}  # the referring node's own keys (description) win
    for sub in node.pop("allOf", []):
        sub = _resolve(sub, schema)
        merged = {**node.get("properties", {}), **sub.get("properties", {})}
        node = {**sub, **node, "properties": merged}
    return node


def _type_of(node: Mapping, schema: Mapping) -> str:
    block = _ref_name(node)
    if block and _has_keys(node, schema):
        return f"{{ref}}`{block} block <block-{block}>`"
    node = _resolve(node, schema)
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if "oneOf" in node:
        return " or ".join(_type_of(n, schema) for n in node["oneOf"])
    kind = node.get("type")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        items = node.get("items")
        return f"list of {_type_of(items, schema)}" if items else "list"
    if kind == "object" or "properties" in node:
        if node.get("additionalProperties") not in (None, False) and not node.get("properties"):
            return "mapping of name → " + _type_of(node["additionalProperties"], schema)
        return "mapping"
    if kind is None and node.get("not"):
        return "value"
    bounds = []
    for key, sign in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if key in node:
            bounds.append(f"{sign} {node[key]}")
    text = kind or "value"
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def _ref_name(node: Mapping) -> str | None:
    """The ``$defs`` block a node refers to (directly or through ``allOf``), if any."""
    if "$ref" in node:
        return node["$ref"].rsplit("/", 1)[-1]
    for sub in node.get("allOf", []):
        if "$ref" in sub:
            return sub["$ref"].rsplit("/", 1)[-1]
    return None


def _has_keys(node: Mapping, schema: Mapping) -> bool:
    return bool(_resolve(node, schema).get("properties"))


def schema_keys(schema: Mapping) -> Iterator[tuple[str, Mapping, int, bool]]:
    """Every key of the schema as ``(dotted path, its node, depth, required)``, depth first, in
    file order.

    Named sections whose keys are the user's (``studies``, ``calorimeter.studies``) appear as
    ``<name>``; a key whose value is a shared block of ``$defs`` (a shower sample, a classifier)
    is listed once, and the block's own keys once under ``<block>.key``."""

    def walk(node, prefix, depth):
        required = set(node.get("required", []))
        for sub in node.get("allOf", []):
            required |= set(sub.get("required", []))
        for key, child in (node.get("properties") or {}).items():
            path = f"{prefix}{key}"
            yield path, child, depth, key in required
            if _ref_name(child) and _has_keys(child, schema):
                continue  # a shared block: its keys are listed under <block>
            yield from walk(child, f"{path}.", depth + 1)
        extra = node.get("additionalProperties")
        if isinstance(extra, Mapping) and "properties" in extra:
            path = f"{prefix}<name>"
            yield path, extra, depth, False
            yield from walk(extra, f"{path}.", depth + 1)

    yield from walk(schema, "", 0)
    for name, block in schema.get("$defs", {}).items():
        if _has_keys(block, schema):
            yield f"<{name}>", block, 0, False
            yield from walk(_resolve(block, schema), f"<{name}>.", 1)


def _description(node: Mapping, schema: Mapping) -> str:
    own = node.get("description")
    if own:
        return str(own)
    if "$ref" in node:
        return str(_resolve(node, schema).get("description") or "")
    return ""


def undescribed_keys(schema: Mapping | None = None) -> list[str]:
    """The keys of the schema without a description (neither their own nor their ``$ref``'s)."""
    schema = schema if schema is not None else yaml.safe_load(SCHEMA.read_text())
    return [path for path, node, _, _ in schema_keys(schema) if not _description(node, schema)]


def config_reference(schema: Mapping | None = None) -> str:
    """The configuration reference as MyST Markdown: one section per top-level key and per shared
    block, each a table of its keys (path, type, whether required, description)."""
    schema = schema if schema is not None else yaml.safe_load(SCHEMA.read_text())
    keys = list(schema_keys(schema))
    lines = []
    tops = [k for k in keys if k[2] == 0]
    for i, (key, node, _, _) in enumerate(tops):
        block = key.startswith("<")
        if block and not tops[i - 1][0].startswith("<"):
            lines += [
                "## Shared blocks",
                "",
                "Sections that several keys use (a shower sample, a classifier's settings): a key "
                "whose type names a block takes that block's keys.",
                "",
            ]
        label = f"block-{key.strip('<>')}" if block else f"key-{key}"
        lines += [f"({label})=", f"{'###' if block else '##'} `{key}`", ""]
        lines += [_description(node, schema), ""]
        rows = [k for k in keys if k[0] == key or k[0].startswith(key + ".")]
        if block:
            rows = rows[1:]
        lines += ["| key | type | required | what it changes |", "| --- | --- | --- | --- |"]
        for path, child, _, required in rows:
            desc = _description(child, schema).replace("|", "\\|").replace("\n", " ")
            kind = _type_of(child, schema).replace("|", "\\|")
            lines.append(f"| `{path}` | {kind} | {'yes' if required else ''} | {desc} |")
        lines.append("")
    return "\n".join(lines)


# -- the results index ---------------------------------------------------------------------------


def front_matter(readme: Path) -> dict | None:
    """The YAML front matter of a Markdown file (None when it has none)."""
    text = readme.read_text()
    match = re.match(r"^---\n(.*?)\n---\n", text, flags=re.S)
    if not match:
        return None
    data = yaml.safe_load(match.group(1))
    return data if isinstance(data, dict) else None


def results_problems(results: Path = RESULTS) -> list[str]:
    """Why a results folder cannot be indexed: no README, no front matter, a missing or empty
    field, a date that is not the folder's."""
    problems = []
    for folder in sorted(p for p in results.iterdir() if p.is_dir()):
        readme = folder / "README.md"
        if not readme.exists():
            problems.append(f"{folder.name}: no README.md")
            continue
        meta = front_matter(readme)
        if meta is None:
            problems.append(
                f"{folder.name}/README.md: no front matter ({', '.join(RESULT_FIELDS)})"
            )
            continue
        for field in RESULT_FIELDS:
            if not str(meta.get(field) or "").strip():
                problems.append(f"{folder.name}/README.md: front matter without '{field}'")
        later = meta.get("superseded_by")
        if later and not (results / str(later)).is_dir():
            problems.append(f"{folder.name}/README.md: superseded_by {later!r} is no folder")
        named = RESULT_FOLDER.match(folder.name)
        if named is None:
            problems.append(f"{folder.name}: not named <machine>-<YYYY-MM-DD>[-topic]")
        elif str(meta.get("date")) != named.group("date"):
            problems.append(f"{folder.name}/README.md: date {meta.get('date')} is not the folder's")
    return problems


def results_index(results: Path = RESULTS) -> str:
    """The results index as MyST Markdown: one section per folder, newest first."""
    entries = []
    for folder in (p for p in results.iterdir() if p.is_dir()):
        readme = folder / "README.md"
        meta = front_matter(readme) if readme.exists() else None
        if meta and all(meta.get(f) for f in RESULT_FIELDS):
            entries.append((str(meta["date"]), folder.name, meta))
    lines = []
    for date, name, meta in sorted(entries, reverse=True):
        command = str(meta["command"]).replace("`", "")
        lines += [
            f"### `{name}`",
            "",
            f"**{date}** · {meta['machine']}",
            "",
            str(meta["headline"]),
            "",
        ]
        if meta.get("superseded_by"):
            lines += [
                f"**Superseded** by `{meta['superseded_by']}`: {meta.get('superseded_why', '')}",
                "",
            ]
        lines += [f"`benchmarks/results/{name}/README.md` · command: `{command}`", ""]
    return "\n".join(lines)


# -- the Sphinx extension ------------------------------------------------------------------------


def write_generated(outdir: Path) -> None:
    """Write the generated pages into ``outdir`` (only when their text changed: Sphinx then
    rebuilds only what changed)."""
    outdir.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("config_reference.md", config_reference()),
        ("results_index.md", results_index()),
    ):
        path = outdir / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def _builder_inited(app) -> None:
    write_generated(Path(app.srcdir) / "_generated")


def _escape_bars(app, what, name, obj, options, lines) -> None:
    """The docstrings write absolute values and the folded normal as |x| and |N(4, 1)|, which
    reStructuredText reads as substitution references: escape every bar (no docstring holds a
    table)."""
    for i, line in enumerate(lines):
        lines[i] = re.sub(r"(?<!\\)\|", r"\\|", line)


def setup(app):
    app.connect("builder-inited", _builder_inited)
    app.connect("autodoc-process-docstring", _escape_bars)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
