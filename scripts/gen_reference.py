"""Write the docs site's reference pages: docs/reference/api.md from the OpenAPI schema, cli.md from the Typer app.

Run by `make docs` before `mkdocs build --strict`; the pages are generated, not committed (docs/reference/ is in
.gitignore). The output depends only on the code, so two runs give the same bytes.

    python scripts/gen_reference.py                         # both pages, into docs/reference/
    python scripts/gen_reference.py --openapi frontend/openapi.json --cli-module cli.main:app
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
# Typer adds these to the root command; they are about the shell, not about Headroom.
SKIPPED_PARAMS = {"install_completion", "show_completion"}


# --- Markdown helpers --------------------------------------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def inline(text: str) -> str:
    """Text from a docstring or a schema made safe for one line of Markdown: `<` and `|` escaped outside code spans."""
    text = " ".join(text.split())
    if text.count("`") % 2:  # an unbalanced backtick would swallow the rest of the line
        text = text.replace("`", "'")
    parts = text.split("`")
    for i in range(0, len(parts), 2):  # even parts are outside code spans
        parts[i] = parts[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return "`".join(parts)


def code(text: str) -> str:
    """A code span that may itself contain backticks. Pipes stay as they are: Python-Markdown's tables do not split
    cells inside code spans (GitHub's would, but these pages are only read on the site)."""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def paragraphs(text: str | None) -> str:
    """A docstring as Markdown paragraphs (blank-line separated, lines joined)."""
    if not text:
        return ""
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(inline(block) for block in blocks if block)


# --- API reference -----------------------------------------------------------------------------------------------


def load_schema(path: Path | None) -> dict[str, Any]:
    """The schema from a file, or the one the app serves today (`python -m api.openapi`)."""
    if path is not None:
        text = path.read_text()
    else:
        cmd = [sys.executable, "-m", "api.openapi"]
        text = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True).stdout
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_anchor(name: str) -> str:
    return f"schema-{slug(name)}"


def type_of(schema: dict[str, Any]) -> str:
    """A JSON schema as a short Markdown phrase: `string`, `array of [Name](#schema-name)`, `integer or null`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{schema_anchor(name)})"
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " or ".join(dict.fromkeys(type_of(s) for s in schema[key]))
    if "enum" in schema:
        return "one of " + ", ".join(code(json.dumps(v)) for v in schema["enum"])
    if "const" in schema:
        return code(json.dumps(schema["const"]))
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {type_of(schema['additionalProperties'])}"
    if kind == "string" and "format" in schema:
        return f"string ({schema['format']})"
    return str(kind)


def constraints(schema: dict[str, Any]) -> str:
    """Bounds, lengths, patterns and the default, from a schema or the non-null member of its anyOf."""
    found: list[str] = []
    members = [schema, *[s for s in schema.get("anyOf", []) if s.get("type") != "null"]]
    for s in members:
        for key, label in (
            ("minimum", "≥"),
            ("exclusiveMinimum", ">"),
            ("maximum", "≤"),
            ("exclusiveMaximum", "<"),
            ("minLength", "length ≥"),
            ("maxLength", "length ≤"),
            ("minItems", "items ≥"),
            ("maxItems", "items ≤"),
        ):
            if key in s:
                found.append(f"{label} {s[key]}")
        if "pattern" in s:
            found.append(f"pattern {code(s['pattern'])}")
    if "default" in schema:
        found.append(f"default {code(json.dumps(schema['default'], ensure_ascii=False))}")
    return "; ".join(found)


def describe(schema: dict[str, Any], extra: str | None = None) -> str:
    text = inline(extra or schema.get("description", ""))
    more = constraints(schema)
    return f"{text} ({more})" if text and more else text or more


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in sorted(schema.get("paths", {})):
        item = schema["paths"][path]
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method]


def auth_of(op: dict[str, Any], schema: dict[str, Any]) -> str:
    requirements = op.get("security", schema.get("security", []))
    if not requirements:
        return "none"
    schemes = schema.get("components", {}).get("securitySchemes", {})
    names = []
    for requirement in requirements:
        for name in requirement:
            scheme = schemes.get(name, {})
            if scheme.get("type") == "http" and scheme.get("scheme") == "bearer":
                names.append("bearer token (`Authorization: Bearer hdr_…`)")
            else:
                names.append(code(name))
    return " or ".join(dict.fromkeys(names))


def body_of(op: dict[str, Any]) -> list[str]:
    body = op.get("requestBody")
    if not body:
        return []
    lines = []
    for media, content in body.get("content", {}).items():
        required = "required" if body.get("required") else "optional"
        lines.append(f"**Body** ({code(media)}, {required}): {type_of(content.get('schema', {}))}")
    return lines


def responses_of(op: dict[str, Any]) -> list[str]:
    lines = ["| status | meaning | body |", "|---|---|---|"]
    for status in sorted(op.get("responses", {})):
        response = op["responses"][status]
        bodies = [type_of(c["schema"]) for c in response.get("content", {}).values() if c.get("schema")]
        lines.append(f"| {status} | {inline(response.get('description', ''))} | {' or '.join(bodies) or '—'} |")
    return lines


def parameters_of(op: dict[str, Any]) -> list[str]:
    params = op.get("parameters", [])
    if not params:
        return []
    lines = ["| name | in | type | required | description |", "|---|---|---|---|---|"]
    for p in params:
        s = p.get("schema", {})
        lines.append(
            f"| {code(p['name'])} | {p['in']} | {type_of(s)} | {'yes' if p.get('required') else 'no'} "
            f"| {describe(s, p.get('description'))} |"
        )
    return lines


def api_markdown(schema: dict[str, Any]) -> str:
    info = schema.get("info", {})
    out = [
        "# API reference",
        "",
        f"{inline(info.get('title', 'API'))} {info.get('version', '')}, OpenAPI {schema.get('openapi', '')}. "
        "Generated from the OpenAPI schema by `scripts/gen_reference.py`; do not edit. A running server serves the "
        "same schema at `/api/openapi.json` and an interactive page at `/docs`. How the routes fit together, the roles "
        "they need and the errors they return: [the API guide](../api.md).",
        "",
    ]
    if info.get("description"):
        out += [paragraphs(info["description"]), ""]
    grouped: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for method, path, op in operations(schema):
        grouped.setdefault((op.get("tags") or ["other"])[0], []).append((method, path, op))
    tag_docs = {t["name"]: t.get("description", "") for t in schema.get("tags", [])}
    out += ["| tag | endpoints |", "|---|---|"]
    out += [f"| [{tag}](#tag-{slug(tag)}) | {len(ops)} |" for tag, ops in sorted(grouped.items())]
    out.append("")
    for tag, ops in sorted(grouped.items()):
        out += [f"## {tag} {{ #tag-{slug(tag)} }}", ""]
        if tag_docs.get(tag):
            out += [paragraphs(tag_docs[tag]), ""]
        for method, path, op in ops:
            out += [f"### `{method.upper()} {path}` {{ #{method}-{slug(path)} }}", ""]
            if op.get("summary"):
                out += [f"**{inline(op['summary'])}**" + (" (deprecated)" if op.get("deprecated") else ""), ""]
            if op.get("description"):
                out += [paragraphs(op["description"]), ""]
            others = [t for t in op.get("tags", [])[1:]]
            out += [f"Auth: {auth_of(op, schema)}" + (f". Also tagged: {', '.join(others)}" if others else ""), ""]
            for block in (parameters_of(op), body_of(op), responses_of(op)):
                if block:
                    out += [*block, ""]
    components = schema.get("components", {}).get("schemas", {})
    if components:
        out += ["## Schemas { #schemas }", ""]
    for name in sorted(components):
        s = components[name]
        out += [f"### {name} {{ #{schema_anchor(name)} }}", ""]
        if s.get("description"):
            out += [paragraphs(s["description"]), ""]
        props = s.get("properties", {})
        if not props:
            out += [f"Type: {type_of(s)}", ""]
            continue
        required = set(s.get("required", []))
        out += ["| field | type | required | description |", "|---|---|---|---|"]
        for field, fs in props.items():
            out.append(f"| {code(field)} | {type_of(fs)} | {'yes' if field in required else 'no'} | {describe(fs)} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# --- CLI reference -----------------------------------------------------------------------------------------------


def load_cli(spec: str) -> Any:
    """The click command of a Typer app given as `module` or `module:attribute` (default attributes: app, cli)."""
    import typer

    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    for name in [attr] if attr else ["app", "cli"]:
        candidate = getattr(module, name, None)
        if isinstance(candidate, typer.Typer):
            return typer.main.get_command(candidate)
    raise SystemExit(f"{spec}: no typer.Typer named {attr or 'app or cli'} in module {module_name}")


def commands(command: Any, name: str, parent: Any = None) -> Iterator[tuple[Any, Any]]:
    """(command, context) for a command and every visible subcommand, depth first, in the order --help lists them."""
    ctx = command.context_class(command, info_name=name, parent=parent)
    yield command, ctx
    if hasattr(command, "list_commands"):
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is not None and not sub.hidden:
                yield from commands(sub, sub_name, ctx)


def command_anchor(ctx: Any) -> str:
    return slug(ctx.command_path)


def params_of(command: Any, ctx: Any, kind: str) -> list[str]:
    lines = []
    for param in command.params:
        if param.param_type_name != kind or param.hidden or param.name in SKIPPED_PARAMS:
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        signature, text = record
        lines.append(f"- {code(signature)}" + (f": {inline(text)}" if text else ""))
    return lines


def cli_markdown(root: Any, prog: str, spec: str) -> str:
    out = [
        "# CLI reference",
        "",
        f"Generated from the Typer app ({code(spec)}) by `scripts/gen_reference.py`; do not edit. "
        f"`{prog} COMMAND --help` prints the same. What the commands are for: [the first look](../getting-started.md).",
        "",
    ]
    for command, ctx in commands(root, prog):
        depth = ctx.command_path.count(" ")
        level = "#" * min(2 + max(depth - 1, 0), 4)
        out += [f"{level} `{ctx.command_path}` {{ #{command_anchor(ctx)} }}", ""]
        if command.deprecated:
            out += ["*Deprecated.*", ""]
        if command.help:
            out += [paragraphs(command.help), ""]
        out += ["```text", command.get_usage(ctx).strip(), "```", ""]
        for title, kind in (("Arguments", "argument"), ("Options", "option")):
            lines = params_of(command, ctx, kind)
            if lines:
                out += [f"**{title}**", "", *lines, ""]
        if hasattr(command, "list_commands"):
            subs = [(n, command.get_command(ctx, n)) for n in command.list_commands(ctx)]
            subs = [(n, c) for n, c in subs if c is not None and not c.hidden]
            if subs:
                out += ["**Commands**", "", "| command | what it does |", "|---|---|"]
                for sub_name, sub in subs:
                    path = f"{ctx.command_path} {sub_name}"
                    out.append(f"| [`{path}`](#{slug(path)}) | {inline(sub.get_short_help_str(limit=120))} |")
                out.append("")
    return "\n".join(out).rstrip() + "\n"


# --- main --------------------------------------------------------------------------------------------------------


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:  # unchanged files keep their mtime: `mkdocs serve` stays calm
        path.write_text(text)
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "reference", help="folder for api.md and cli.md")
    parser.add_argument(
        "--openapi",
        type=Path,
        default=None,
        help="read the schema from this JSON file instead of running `python -m api.openapi`",
    )
    parser.add_argument(
        "--cli-module",
        default="cli.main",
        help="the Typer app as module or module:attribute (default cli.main, attribute app or cli)",
    )
    parser.add_argument("--prog", default="headroom", help="the installed command's name")
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    write(args.out / "api.md", api_markdown(load_schema(args.openapi)))
    write(args.out / "cli.md", cli_markdown(load_cli(args.cli_module), args.prog, args.cli_module))


if __name__ == "__main__":
    main()
