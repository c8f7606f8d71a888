#!/usr/bin/env bash
# The main job on the bundled samples, with the embedded SQLite store.
set -euo pipefail
cd "$(dirname "$0")/.."
export COUNCILREG_DATABASE_URL="sqlite:///$PWD/demo/councilreg.sqlite3"
mkdir -p demo
.venv/bin/councilreg ingest samples/
.venv/bin/councilreg status
echo "Register stored in ${COUNCILREG_DATABASE_URL#sqlite:///}"
