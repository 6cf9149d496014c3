"""Print the OpenAPI schema (`python -m api.openapi > frontend/openapi.json`) for the typed client."""

from __future__ import annotations

import json
import sys

from api.app import create_app
from services.settings import load_settings


def main() -> None:
    app = create_app(load_settings())
    json.dump(app.openapi(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
