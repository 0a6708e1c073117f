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

# Worker CPU in seconds (centiseconds from /proc: ps's cputime rounds to whole seconds).
worker_cpu() {
  local total=0 pid
  for pid in $(pgrep -P "$SERVER"); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  echo "$total"
}
COOKIES=$(mktemp -t loadtest-cookies.XXXXXX)
echo "== sign in $USERS therapists (before the clock starts)"
$PY loadtest/loadtest.py sign-in --base-url "http://127.0.0.1:$PORT" --users "$USERS" --cookies "$COOKIES"
CPU_BEFORE=$(worker_cpu)

echo "== load: $USERS therapists for $DURATION s"
status=0
$PY loadtest/loadtest.py run --base-url "http://127.0.0.1:$PORT" --users "$USERS" --duration "$DURATION" \
  --cookies "$COOKIES" --json "$RESULTS" || status=$?
CPU_AFTER=$(worker_cpu)
rm -f "$COOKIES"
REQUESTS=$($PY -c "import json, sys; print(json.load(open(sys.argv[1]))['requests'])" "$RESULTS")
$PY - "$RESULTS" "$CPU_BEFORE" "$CPU_AFTER" "$REQUESTS" "$(getconf CLK_TCK)" <<'EOF'
import json, sys
path, before, after, requests, ticks = sys.argv[1], *map(int, sys.argv[2:])
seconds = (after - before) / ticks
results = json.load(open(path))
results["worker_cpu_s"] = round(seconds, 2)
results["worker_cpu_ms_per_request"] = round(1000 * seconds / max(requests, 1), 1)
open(path, "w").write(json.dumps(results, indent=2) + "\n")
print(f"gunicorn workers used {seconds:.1f} s of CPU in the timed run: "
      f"{results['worker_cpu_ms_per_request']} ms per request over {requests} requests (sign-ins excluded).")
EOF
stop
trap - EXIT
if [ -s "$LOG" ]; then echo "== gunicorn errors"; tail -n 20 "$LOG"; fi
rm -f "$LOG"

echo "== verify"
$PY loadtest/loadtest.py verify --results "$RESULTS" --server-log "$ACCESS" || status=$?
rm -f "$ACCESS"
exit "$status"
