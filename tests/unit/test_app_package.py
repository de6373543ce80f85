"""The Teams app package: icons, manifest commands, localisation files, validation and the zip."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "appPackage"
ATK = ROOT / "tests" / "browser" / "node_modules" / ".bin" / "atk"

PERSONAL = [
    "help",
    "new case",
    "my cases",
    "quota",
    "mediators",
    "reminders",
    "stats",
    "requests",
    "book",
    "templates",
]
# Sopu registers a family only in personal chat: the team list never offers "new case".
TEAM = ["help", "setup", "my cases", "quota", "mediators"]
TITLES = {
    "fi.json": {
        "help": "ohje",
        "setup": "asetus",
        "new case": "uusi tapaus",
        "my cases": "omat tapaukset",
        "quota": "kiintiö",
        "mediators": "sovittelijat",
        "reminders": "muistutukset",
        "stats": "tilastot",
        "requests": "yhteydenotot",
        "book": "varaa",
        "templates": "viestipohjat",
    },
    "sv.json": {
        "help": "hjälp",
        "setup": "inställning",
        "new case": "nytt ärende",
        "my cases": "mina ärenden",
        "quota": "kvot",
        "mediators": "medlare",
        "reminders": "påminnelser",
        "stats": "statistik",
        "requests": "begäranden",
        "book": "boka",
        "templates": "mallar",
    },
}
OTHER_GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def load_json(name: str) -> dict[str, Any]:
    return json.loads((APP / name).read_text(encoding="utf-8"))


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sopu_app_package_build", APP / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def command_lists() -> dict[str, list[str]]:
    (bot,) = load_json("manifest.json")["bots"]
    lists: dict[str, list[str]] = {}
    for command_list in bot["commandLists"]:
        (scope,) = command_list["scopes"]
        lists[scope] = [command["title"] for command in command_list["commands"]]
    return lists


def test_colour_icon_is_192_square() -> None:
    with Image.open(APP / "color.png") as icon:
        assert icon.format == "PNG"
        assert icon.size == (192, 192)


def test_outline_icon_is_32_square_white_on_transparent() -> None:
    with Image.open(APP / "outline.png") as icon:
        assert icon.format == "PNG"
        assert icon.size == (32, 32)
        rgba = icon.convert("RGBA")
    data = rgba.tobytes()
    pixels = [tuple(data[i : i + 4]) for i in range(0, len(data), 4)]
    drawn = [pixel for pixel in pixels if pixel[3] > 0]
    assert all(pixel[:3] == (255, 255, 255) for pixel in drawn), "outline must be white only"
    assert 0.05 < len(drawn) / len(pixels) < 0.7, "outline must be a glyph on transparency"
    corners = [rgba.getpixel(xy) for xy in [(0, 0), (31, 0), (0, 31), (31, 31)]]
    assert all(pixel[3] == 0 for pixel in corners)  # type: ignore[index]


def test_manifest_names_the_icons_and_languages() -> None:
    manifest = load_json("manifest.json")
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["name"]["short"] == "Sopu"
    languages = manifest["localizationInfo"]["additionalLanguages"]
    assert {language["languageTag"]: language["file"] for language in languages} == {
        "fi-fi": "fi.json",
        "sv-se": "sv.json",
    }


def test_bot_has_personal_and_team_scopes_without_files() -> None:
    (bot,) = load_json("manifest.json")["bots"]
    assert sorted(bot["scopes"]) == ["personal", "team"]
    assert bot["supportsFiles"] is False


def test_command_lists_hold_the_commands_of_each_scope() -> None:
    assert command_lists() == {"personal": PERSONAL, "team": TEAM}


def test_command_texts_fit_every_teams_client() -> None:
    # Manifest v1.22 allows longer texts, but older clients cut titles at 32 and
    # descriptions at 128 characters.
    (bot,) = load_json("manifest.json")["bots"]
    texts = [load_json(name) for name in TITLES]
    for command_list in bot["commandLists"]:
        for command in command_list["commands"]:
            assert len(command["title"]) <= 32
            assert len(command["description"]) <= 128
    for text in texts:
        for key, value in text.items():
            if key.endswith(".title"):
                assert len(value) <= 32, key
            if key.endswith(".description") and key.startswith("bots"):
                assert len(value) <= 128, key


@pytest.mark.parametrize("name", sorted(TITLES))
def test_localisation_translates_every_command(name: str) -> None:
    localised = load_json(name)
    expected: set[str] = set()
    for index, scope in enumerate(["personal", "team"]):
        for position, title in enumerate(command_lists()[scope]):
            prefix = f"bots[0].commandLists[{index}].commands[{position}]"
            expected |= {f"{prefix}.title", f"{prefix}.description"}
            assert localised[f"{prefix}.title"] == TITLES[name][title]
            assert localised[f"{prefix}.description"].strip()
    command_keys = {key for key in localised if key.startswith("bots[")}
    assert command_keys == expected
    for key in ["name.short", "name.full", "description.short", "description.full"]:
        assert localised[key].strip()


def test_localisation_files_have_the_same_keys() -> None:
    keys = [set(load_json(name)) for name in TITLES]
    assert keys[0] == keys[1]


def atk_or_skip() -> Path:
    if ATK.exists():
        return ATK
    reason = f"{ATK} is missing: run `make test-deps`"
    if os.environ.get("SOPU_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def validate(manifest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(atk_or_skip()),
            "validate",
            "--manifest-file",
            str(manifest),
            "--telemetry",
            "false",
            "--interactive",
            "false",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=manifest.parent,
        check=False,
    )


@pytest.mark.browser
def test_manifest_passes_the_offline_validator() -> None:
    result = validate(APP / "manifest.json")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "All passed" in output, output
    assert "Error" not in output, output


@pytest.mark.browser
def test_validator_reports_a_broken_manifest(tmp_path: Path) -> None:
    manifest = load_json("manifest.json")
    manifest["bots"][0]["botId"] = "not-a-guid"
    for name in ["color.png", "outline.png", *TITLES]:
        (tmp_path / name).write_bytes((APP / name).read_bytes())
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = validate(tmp_path / "manifest.json")
    assert result.returncode != 0
    assert "botId" in result.stdout + result.stderr


def test_build_writes_the_package_with_the_given_bot_id(tmp_path: Path) -> None:
    builder = load_builder()
    output = builder.build_package(APP, tmp_path / "app.zip", bot_id=OTHER_GUID.upper())
    with zipfile.ZipFile(output) as package:
        assert sorted(package.namelist()) == sorted(
            ["manifest.json", "color.png", "outline.png", "fi.json", "sv.json"]
        )
        manifest = json.loads(package.read("manifest.json"))
        assert package.read("outline.png") == (APP / "outline.png").read_bytes()
    assert manifest["bots"][0]["botId"] == OTHER_GUID
    assert manifest["id"] == load_json("manifest.json")["id"]


def test_build_is_reproducible(tmp_path: Path) -> None:
    builder = load_builder()
    first = builder.build_package(APP, tmp_path / "one.zip").read_bytes()
    second = builder.build_package(APP, tmp_path / "two.zip").read_bytes()
    assert first == second


def test_build_refuses_a_bot_id_that_is_not_a_guid(tmp_path: Path) -> None:
    builder = load_builder()
    with pytest.raises(builder.PackageError, match="GUID"):
        builder.build_package(APP, tmp_path / "app.zip", bot_id="my-bot")
    assert not (tmp_path / "app.zip").exists()


def test_build_command_takes_the_bot_id_from_the_environment(tmp_path: Path) -> None:
    output = tmp_path / "sopu.zip"
    env = {**os.environ, "BOT_APP_ID": OTHER_GUID}
    env.pop("TEAMS_APP_ID", None)
    result = subprocess.run(
        [sys.executable, str(APP / "build.py"), "--output", str(output)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(output) as package:
        assert json.loads(package.read("manifest.json"))["bots"][0]["botId"] == OTHER_GUID

    bad = subprocess.run(
        [sys.executable, str(APP / "build.py"), "--output", str(tmp_path / "bad.zip")],
        capture_output=True,
        text=True,
        env={**env, "BOT_APP_ID": "nope"},
        check=False,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "GUID" in bad.stderr


def test_build_command_stops_without_a_bot_id_unless_told_it_is_for_development(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_APP_ID", "TEAMS_APP_ID")}

    def build(*extra: str) -> subprocess.CompletedProcess[str]:
        output = str(tmp_path / "sopu.zip")
        command = [sys.executable, str(APP / "build.py"), "--output", output, *extra]
        return subprocess.run(
            command, capture_output=True, text=True, env=env, check=False, timeout=60
        )

    refused = build()
    assert refused.returncode == 2 and "BOT_APP_ID" in refused.stderr
    assert not (tmp_path / "sopu.zip").exists()
    assert build("--development").returncode == 0
    assert (tmp_path / "sopu.zip").exists()


@pytest.mark.browser
def test_built_package_passes_the_offline_validator(tmp_path: Path) -> None:
    builder = load_builder()
    package = builder.build_package(APP, tmp_path / "app.zip", bot_id=OTHER_GUID)
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(unpacked)
    result = validate(unpacked / "manifest.json")
    assert result.returncode == 0, result.stdout + result.stderr
