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
.venv/bin/councilreg export demo/register.xlsx
.venv/bin/councilreg export --occurrences demo/occurrences.csv
.venv/bin/councilreg status
echo "Register stored in ${COUNCILREG_DATABASE_URL#sqlite:///}; the register in demo/register.csv and demo/register.xlsx"
cat <<NEXT

Matches the machine was unsure of wait for a person. Add yourself, then open the review UI:
    COUNCILREG_DATABASE_URL=$COUNCILREG_DATABASE_URL .venv/bin/councilreg users add ${USER:-me} --role admin
    COUNCILREG_DATABASE_URL=$COUNCILREG_DATABASE_URL .venv/bin/councilreg review
NEXT
