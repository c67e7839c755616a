#!/usr/bin/env bash
# All tests: the whole solution on SQLite, then every store and service test again on PostgreSQL.
# PostgreSQL comes from PORTAL_TEST_POSTGRES (an admin connection string); without it that pass is skipped,
# loudly — and .ci/run always sets it, so CI never skips it.
set -euo pipefail
cd "$(dirname "$0")"

# A test that hangs fails after 10 minutes with a dump of where it hung, instead of holding CI until its deadline.
hang=(--blame-hang-timeout 10m --blame-hang-dump-type mini)

dotnet build PublisherPortal.sln -c Release
dotnet test PublisherPortal.sln -c Release --no-build "${hang[@]}"

if [ -z "${PORTAL_TEST_POSTGRES:-}" ]; then
    echo "SKIPPED: PostgreSQL pass (set PORTAL_TEST_POSTGRES to an admin connection string, or run .ci/run)" >&2
    exit 0
fi

PORTAL_TEST_PROVIDER=Postgres dotnet test tests/PublisherPortal.Tests -c Release --no-build "${hang[@]}" \
    --filter "Category!=SqliteOnly"
