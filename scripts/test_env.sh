# Sourced by `make test`: where the tests find the services scripts/ensure_*.sh started.
export TRAINYARD_TEST_POSTGRES_URL="${TRAINYARD_TEST_POSTGRES_URL:-postgresql+psycopg://trainyard:trainyard@127.0.0.1:5432/trainyard_test}"
export TRAINYARD_TEST_CHROMIUM="${TRAINYARD_TEST_CHROMIUM:-/usr/bin/chromium}"
