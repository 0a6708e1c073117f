#!/usr/bin/env bash
# Load test on loopback: gunicorn against PostgreSQL, 50 therapists browsing and logging sessions for
# 60 seconds, then a check that every session the run created is in the database exactly once.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/practice_bench loadtest/run.sh
#
# Settings (environment): USERS (50), DURATION (60 s), WORKERS (gunicorn workers, 5), PORT (8765),
# RESULTS (var/loadtest-results.json). The server runs as in production (DEBUG off) on 127.0.0.1 only,
# with two-factor sign-in off for the load-test therapists. Exits non-zero on any error or lost write.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?Set DATABASE_URL to the PostgreSQL database to load, e.g. the bench data set.}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "The load test runs against PostgreSQL (DATABASE_URL=postgres://...)." >&2; exit 2 ;;
esac
USERS=${USERS:-50}
DURATION=${DURATION:-60}
WORKERS=${WORKERS:-5}
PORT=${PORT:-8765}
RESULTS=${RESULTS:-var/loadtest-results.json}
PY=.venv/bin/python

export DEBUG=0 PRACTICE_REQUIRE_2FA=0 SECURE_SSL_REDIRECT=0 ALLOWED_HOSTS=127.0.0.1
export SECRET_KEY="${SECRET_KEY:-loadtest-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}"

echo "== prepare"
$PY manage.py migrate --no-input -v0
$PY manage.py collectstatic --no-input -v0
$PY loadtest/loadtest.py prepare --users "$USERS"

echo "== gunicorn on 127.0.0.1:$PORT ($WORKERS workers)"
LOG=$(mktemp -t loadtest-gunicorn.XXXXXX)
ACCESS=$(mktemp -t loadtest-access.XXXXXX)
# The access log keeps method, path, status and the worker's time in microseconds for each request.
.venv/bin/gunicorn practice.wsgi:application --bind "127.0.0.1:$PORT" --workers "$WORKERS" \
  --timeout 30 --graceful-timeout 10 --error-logfile "$LOG" --log-level warning \
  --access-logfile "$ACCESS" --access-logformat '%(m)s %(U)s %(s)s %(D)s' &
SERVER=$!
stop() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null

echo "== load: $USERS therapists for $DURATION s"
status=0
$PY loadtest/loadtest.py run --base-url "http://127.0.0.1:$PORT" --users "$USERS" --duration "$DURATION" \
  --json "$RESULTS" || status=$?
WORKER_CPU=$(ps --ppid "$SERVER" -o cputime= | awk -F: '{ s += $1 * 3600 + $2 * 60 + $3 } END { print s }')
echo "gunicorn workers used ${WORKER_CPU:-?} s of CPU (sign-ins included)."
stop
trap - EXIT
if [ -s "$LOG" ]; then echo "== gunicorn errors"; tail -n 20 "$LOG"; fi
rm -f "$LOG"

echo "== verify"
$PY loadtest/loadtest.py verify --results "$RESULTS" --server-log "$ACCESS" || status=$?
rm -f "$ACCESS"
exit "$status"
