"""Build the Teams app package (a zip of the manifest, icons and localisation files).

Usage: python appPackage/build.py [--output ZIP] [--bot-id GUID] [--app-id GUID]
(the default output is build/sopu-teams-app.zip).

The bot id comes from --bot-id, else from the environment variable BOT_APP_ID; without
either the build stops, unless --development keeps the development id in manifest.json (a
package with it would reach no bot of yours). The Teams app id comes from --app-id or
TEAMS_APP_ID, else the development id stays.
Standard library only, so it runs before any virtual environment exists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE.parent / "build" / "sopu-teams-app.zip"
GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# A fixed timestamp keeps the zip byte-for-byte the same for the same inputs.
ZIP_DATE = (2024, 1, 1, 0, 0, 0)


class PackageError(Exception):
    """The app package cannot be built from what was given."""


def check_guid(value: str, what: str) -> str:
    """Return value if it is a GUID, else raise PackageError naming what it was for."""
    if not GUID.match(value):
        raise PackageError(
            f"{what} must be a GUID like 00000000-0000-0000-0000-000000000000, got {value!r}"
        )
    return value.lower()


def referenced_files(manifest: dict[str, Any]) -> list[str]:
    """The files the manifest names: icons and localisation files, in a stable order."""
    names = [manifest["icons"]["color"], manifest["icons"]["outline"]]
    localization = manifest.get("localizationInfo", {})
    if "defaultLanguageFile" in localization:
        names.append(localization["defaultLanguageFile"])
    names += [language["file"] for language in localization.get("additionalLanguages", [])]
    for name in names:
        if "/" in name or "\\" in name or name.startswith("."):
            raise PackageError(f"Teams wants every file at the root of the package, got {name!r}")
    return names


def build_package(
    source: Path = HERE,
    output: Path = DEFAULT_OUTPUT,
    bot_id: str | None = None,
    app_id: str | None = None,
) -> Path:
    """Write the app package zip to output and return its path."""
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    if bot_id:
        bot_id = check_guid(bot_id, "the bot id")
        for bot in manifest.get("bots", []):
            bot["botId"] = bot_id
    if app_id:
        manifest["id"] = check_guid(app_id, "the Teams app id")
    files = referenced_files(manifest)
    missing = [name for name in files if not (source / name).is_file()]
    if missing:
        raise PackageError(f"files named in manifest.json are missing: {', '.join(missing)}")

    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as package:
        entry = zipfile.ZipInfo("manifest.json", date_time=ZIP_DATE)
        entry.compress_type = zipfile.ZIP_DEFLATED
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        package.writestr(entry, text.encode("utf-8"))
        for name in files:
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(entry, (source / name).read_bytes())
    partial.replace(output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--source", type=Path, default=HERE)
    parser.add_argument("--bot-id", default=os.environ.get("BOT_APP_ID") or None)
    parser.add_argument("--app-id", default=os.environ.get("TEAMS_APP_ID") or None)
    parser.add_argument(
        "--development",
        action="store_true",
        help="keep the development bot id of manifest.json when no bot id is given",
    )
    args = parser.parse_args(argv)
    if not args.bot_id and not args.development:
        print(
            "build.py: no bot id: set BOT_APP_ID (or pass --bot-id) to the Azure Bot's app id; "
            "--development keeps the development id of manifest.json",
            file=sys.stderr,
        )
        return 2
    try:
        path = build_package(args.source, args.output, args.bot_id, args.app_id)
    except PackageError as error:
        print(f"build.py: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
