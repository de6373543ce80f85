"""The Agents Playground config: generated from the demo registry, valid for the playground."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot import demo, playground
from mediation.model import Role
from mediation.registry import parse_registry

ROOT = Path(__file__).resolve().parents[2]
NODE_TOOLS = ROOT / "tests" / "browser"
PLAYGROUND_PACKAGE = NODE_TOOLS / "node_modules" / "@microsoft" / "m365agentsplayground"
USER_FIELDS = ["id", "name", "userPrincipleName", "aadObjectId", "givenName", "surname", "email"]

needs_playground = pytest.mark.skipif(
    shutil.which("node") is None or not (PLAYGROUND_PACKAGE / "dist" / "index.js").is_file(),
    reason="needs Node.js and `npm ci` in tests/browser",
)


def test_the_current_user_and_exactly_five_users() -> None:
    config = playground.config()
    assert config["version"] == "0.1.1"
    assert len(config["users"]) == 5
    assert config["currentUser"]["id"] not in {u["id"] for u in config["users"]}


def test_users_have_exactly_the_fields_the_schema_allows() -> None:
    config = playground.config()
    for user in [config["currentUser"], *config["users"]]:
        assert list(user) == USER_FIELDS
        assert user["email"].endswith("@example.org")
        assert user["userPrincipleName"] == user["email"]


def test_the_six_people_are_the_demo_registrys_first_six() -> None:
    config = playground.config()
    people = [config["currentUser"], *config["users"]]
    registry = {row.aad_object_id: row for row in parse_registry(demo.registry_csv())}
    for user, person in zip(people, demo.PLAYGROUND_PEOPLE, strict=True):
        row = registry[user["aadObjectId"]]
        assert (row.name, row.email) == (user["name"], user["email"]) == (person.name, person.email)


def test_the_current_user_is_an_experienced_bilingual_coordinator() -> None:
    aad = playground.config()["currentUser"]["aadObjectId"]
    row = next(r for r in parse_registry(demo.registry_csv()) if r.aad_object_id == aad)
    assert row.role is Role.COORDINATOR
    assert row.experienced
    assert row.languages == {"fi", "sv"}


def test_the_playground_people_include_new_and_experienced_mediators() -> None:
    others = demo.PLAYGROUND_PEOPLE[1:]
    mediators = [p for p in others if p.role is Role.MEDIATOR]
    assert any(p.experienced for p in mediators) and any(not p.experienced for p in mediators)
    assert any("sv" in p.languages.split() for p in mediators)


def test_the_team_has_general_and_one_channel_named_for_the_ui_tests() -> None:
    team = playground.config()["team"]
    assert team["name"] == "Mediation Team"
    assert [c["name"] for c in team["channels"]] == ["Cases"]


def test_aad_ids_are_guids_and_unique() -> None:
    ids = [p.aad_object_id for p in demo.DEMO_PEOPLE]
    assert len(set(ids)) == len(ids)
    parse_registry(demo.registry_csv())  # refuses anything that is not a GUID


def test_the_config_needs_six_distinct_people() -> None:
    with pytest.raises(ValueError, match="exactly 6"):
        playground.config(demo.PLAYGROUND_PEOPLE[:5])
    twice = (*demo.PLAYGROUND_PEOPLE[:5], demo.PLAYGROUND_PEOPLE[0])
    with pytest.raises(ValueError, match="unique"):
        playground.config(twice)


def _load_subset(text: str) -> dict[str, Any]:
    """Read back the YAML subset to_yaml writes: mappings, lists of mappings, JSON strings."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    root: dict[str, Any] = {}
    stack: list[tuple[int, Any]] = [(-1, root)]
    for n, raw in enumerate(lines):
        indent = len(raw) - len(raw.lstrip())
        line = raw.strip()
        while stack[-1][0] >= indent:
            stack.pop()
        if line.startswith("- "):
            item: dict[str, Any] = {}
            stack[-1][1].append(item)
            stack.append((indent, item))
            line, indent = line[2:], indent + 2
        key, _, value = line.partition(":")
        if value.strip():
            stack[-1][1][key] = json.loads(value)
            continue
        following = lines[n + 1].strip() if n + 1 < len(lines) else ""
        child: Any = [] if following.startswith("- ") else {}
        stack[-1][1][key] = child
        stack.append((indent, child))
    return root


def test_the_yaml_reads_back_as_the_config() -> None:
    assert _load_subset(playground.render_config()) == playground.config()


@pytest.mark.parametrize(
    "tricky", ['Ö"zil: #1', "yes", "0001", "null", "- x", "Ålund \\ 'q'", "a\nb"]
)
def test_yaml_strings_are_quoted_whatever_they_contain(tricky: str) -> None:
    text = playground.to_yaml({"bot": {"id": "x", "name": tricky}})
    assert _load_subset(text)["bot"]["name"] == tricky


def test_write_config_creates_the_folder(tmp_path: Path) -> None:
    path = playground.write_config(tmp_path / "var" / "playground" / playground.CONFIG_FILE)
    assert path.read_text(encoding="utf-8") == playground.render_config()


# The schema the playground validates with ajv is bundled in its dist/index.js; this
# script pulls it out and validates our file exactly as the playground does.
_VALIDATE = r"""
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv");
const addFormats = require("ajv-formats");
const YAML = require("yaml");
const pkg = path.join("node_modules", "@microsoft", "m365agentsplayground", "dist", "index.js");
const bundle = fs.readFileSync(pkg, "utf8");
const marker = "JSON.parse('{\"$id\":\"https://aka.ms/teams-app-test-tool-config/0.1.1/";
const at = bundle.indexOf(marker);
if (at < 0) { console.error("schema not found in the bundle"); process.exit(3); }
const literal = bundle.slice(at + "JSON.parse(".length, bundle.indexOf("')", at) + 1);
const schema = JSON.parse(new Function("return " + literal)());
const config = YAML.parse(fs.readFileSync(process.argv[1], "utf8"));
const ajv = new Ajv({ strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
if (!validate(config)) { console.error(JSON.stringify(validate.errors)); process.exit(1); }
process.stdout.write(JSON.stringify(config));
"""


@needs_playground
def test_the_playgrounds_own_schema_accepts_the_file(tmp_path: Path) -> None:
    path = playground.write_config(tmp_path / playground.CONFIG_FILE)
    done = subprocess.run(
        ["node", "-e", _VALIDATE, str(path)],
        cwd=NODE_TOOLS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == playground.config()
