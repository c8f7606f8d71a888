#!/usr/bin/env bash
# The main job on the bundled samples, with the embedded SQLite store:
# ingest → match across years → export the register.
set -euo pipefail
cd "$(dirname "$0")/.."
export COUNCILREG_DATABASE_URL="sqlite:///$PWD/demo/councilreg.sqlite3"
mkdir -p demo
.venv/bin/councilreg ingest samples/
.venv/bin/councilreg match
.venv/bin/councilreg export demo/register.csv
.venv/bin/councilreg export --occurrences demo/occurrences.csv
.venv/bin/councilreg status
echo "Register stored in ${COUNCILREG_DATABASE_URL#sqlite:///}; CSV in demo/register.csv"
