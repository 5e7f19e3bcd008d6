"""Write docs/api.md and docs/openapi.json from the endpoint catalog, and docs/sdk.md from the SDK.

python scripts/gen_docs.py          write the files
python scripts/gen_docs.py --check  exit 1 if the committed files differ from the catalog
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aster_account.client._docs import render_sdk_md
from aster_account.protocol.apidocs import (
    COMMAND,
    render_api_md,
    render_openapi,
    render_openapi_json,
)

__all__ = [
    "main",
    "render_api_md",
    "render_openapi",
    "render_openapi_json",
    "render_sdk_md",
    "rendered",
]

ROOT = Path(__file__).resolve().parent.parent
API_MD = ROOT / "docs" / "api.md"
OPENAPI_JSON = ROOT / "docs" / "openapi.json"
SDK_MD = ROOT / "docs" / "sdk.md"


def rendered() -> dict[Path, str]:
    return {
        API_MD: render_api_md(),
        OPENAPI_JSON: render_openapi_json(),
        SDK_MD: render_sdk_md(),
    }


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are stale")
    args = parser.parse_args(argv)
    files = rendered()
    if args.check:
        stale = [
            path
            for path, text in files.items()
            if not path.exists() or path.read_text(encoding="utf-8") != text
        ]
        for path in stale:
            print(f"{_shown(path)} is stale: run `{COMMAND}`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {_shown(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
