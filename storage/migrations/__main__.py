"""Alembic's command line without an alembic.ini: ``python -m storage.migrations <command>``.

The database comes from DATABASE_URL, e.g.
``DATABASE_URL=sqlite:///var/sopu.db python -m storage.migrations revision -m "add x"``.
"""

from __future__ import annotations

from alembic.config import CommandLine

from storage.db import alembic_config


def main(argv: list[str] | None = None) -> None:
    cli = CommandLine(prog="python -m storage.migrations")
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    config = alembic_config()
    config.cmd_opts = options
    cli.run_cmd(config, options)


if __name__ == "__main__":
    main()
