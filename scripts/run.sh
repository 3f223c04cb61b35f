#!/usr/bin/env bash
# Start the web server (and, with REDIS_URL, a Celery worker with beat); stop both on exit.
set -euo pipefail
PY=$1; HOST=$2; PORT=$3
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
if [[ -n "${REDIS_URL:-}" ]]; then
  "$(dirname "$PY")/celery" -A forensics worker -Q ingest,correlate,exports -B --loglevel=WARNING &
  pids+=($!)
  echo "Celery worker started (broker: REDIS_URL)."
fi
login=$("$PY" manage.py demo_login)
echo
echo "  forensics is running at http://$HOST:$PORT/"
echo "  log in with: $login"
echo
"$PY" manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
wait "${pids[-1]}"
