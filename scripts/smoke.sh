#!/usr/bin/env bash
# Smoke test of the embedded runtime, done the way the README's quick start says: `npm start`, read
# the URL and the first admin key from its output, wait for /readyz, start the demo plan with curl,
# poll until the run succeeded, then stop the server with SIGTERM and check that it exited cleanly.
# Data goes to a temporary directory (AAT_DATA_DIR); the server always gets stopped (trap).
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir="$(mktemp -d "${TMPDIR:-/tmp}/aat-smoke-XXXXXX")"
log="$data_dir/server.log"
server_pid=""

say() { printf 'smoke: %s\n' "$*"; }
fail() {
  say "FAILED: $*" >&2
  say "server output:" >&2
  sed 's/^/  | /' "$log" >&2 || true
  exit 1
}

cleanup() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$data_dir"
  exit "$status"
}
trap cleanup EXIT INT TERM

# A JSON field of stdin, read with Node (jq is not everywhere). Prints nothing when absent.
json_field() {
  node -e '
    let text = "";
    process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
      let value = JSON.parse(text);
      for (const key of process.argv[1].split(".")) value = value?.[key];
      if (value !== undefined) process.stdout.write(typeof value === "string" ? value : JSON.stringify(value));
    });
  ' "$1"
}

say "starting: npm start (data in $data_dir, any free port)"
AAT_DATA_DIR="$data_dir" AAT_SERVER_PORT=0 npm start >"$log" 2>&1 &
server_pid=$!

url=""
for _ in $(seq 1 600); do
  kill -0 "$server_pid" 2>/dev/null || fail "npm start exited before listening"
  url="$(sed -n 's/.* is listening on \(http:[^;]*\);.*/\1/p' "$log" | head -n 1)"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || fail "no 'is listening on' line within 60 s"
say "listening on $url"

# The key is generated once the port is ours, so its banner follows the listening line: wait for it.
key=""
for _ in $(seq 1 300); do
  key="$(sed -n 's/^Admin API key: \(aat_[A-Za-z0-9_-]*\)$/\1/p' "$log" | head -n 1)"
  [ -n "$key" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$key" ] || fail "the first start printed no 'Admin API key:' line within 30 s of listening"

ready=""
for _ in $(seq 1 300); do
  if curl -sf "$url/readyz" >/dev/null; then ready=yes; break; fi
  sleep 0.1
done
[ -n "$ready" ] || fail "/readyz did not answer 200 within 30 s"
say "/readyz is 200"

status="$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/v1/runs" -H 'Content-Type: application/json' -d '{}')"
[ "$status" = "401" ] || fail "a call without a key answered $status, expected 401"

# The quick start's commands, as the README shows them.
started="$(curl -sS -X POST "$url/v1/runs" \
  -H "Authorization: Bearer $key" \
  -H 'Content-Type: application/json' \
  -d '{"planId": "automation.hello", "input": {"names": ["Ada", "Grace"]}}')" || fail "POST /v1/runs failed"
run_id="$(printf '%s' "$started" | json_field runId)"
[ -n "$run_id" ] || fail "POST /v1/runs answered without a runId: $started"
say "started run $run_id"

run_status=""
for _ in $(seq 1 600); do
  run="$(curl -sS "$url/v1/runs/$run_id" -H "Authorization: Bearer $key")" || fail "GET /v1/runs/$run_id failed"
  run_status="$(printf '%s' "$run" | json_field run.status)"
  case "$run_status" in
    succeeded) break ;;
    failed | cancelled) fail "the run ended $run_status: $run" ;;
  esac
  sleep 0.1
done
[ "$run_status" = "succeeded" ] || fail "the run did not succeed within 60 s (status '$run_status')"
summary="$(printf '%s' "$run" | json_field run.output.summary)"
[ "$summary" = "Greeted 2 people, a small group; the longest name is Grace." ] ||
  fail "unexpected run output: $run"
say "run succeeded: $summary"

say "stopping the server (SIGTERM)"
kill -TERM "$server_pid"
exit_code=0
wait "$server_pid" || exit_code=$?
server_pid=""
[ "$exit_code" = "0" ] || fail "the server exited with $exit_code after SIGTERM, expected 0"
grep -q '"msg":"stopped"' "$log" || fail "the server did not log a clean stop"
say "server stopped cleanly: OK"
