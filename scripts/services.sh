#!/usr/bin/env bash
# Make sure the real servers the integration tests use answer on loopback; start the ones that do not
# from their installed binaries (Debian packages). Idempotent; loopback only; never installs anything.
#   scripts/services.sh            check and start redis, nats, rabbitmq, moto, pubsub
#   scripts/services.sh redis nats only those
# moto (AWS emulator for SQS, S3, DynamoDB) answers on 127.0.0.1:5055 unless that port is taken by
# something else; then on a random free port. Either way its URL is written to $AAT_MOTO_URL_FILE
# (default /tmp/aat-moto.url), where the tests look when AWS_ENDPOINT_URL is not set.
# pubsub (Google's Pub/Sub emulator, Java) likewise: 127.0.0.1:8085 or a random free port, its host:port
# written to $AAT_PUBSUB_HOST_FILE (default /tmp/aat-pubsub.host) for when PUBSUB_EMULATOR_HOST is not set.
set -uo pipefail

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(redis nats rabbitmq moto pubsub)

say() { printf 'services: %s\n' "$*"; }

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 150); do
    port_open 127.0.0.1 "$port" && { say "$name is up on 127.0.0.1:$port"; return 0; }
    sleep 0.2
  done
  say "$name did not come up on 127.0.0.1:$port within 30 s"
  return 1
}

start_redis() {
  command -v redis-server >/dev/null || { say "redis-server is not installed (apt-get install redis-server)"; return 1; }
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

start_nats() {
  [ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null || { say "nats-server is not installed (apt-get install nats-server)"; return 1; }
  local bin; bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  mkdir -p /var/lib/nats-server 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec "$bin" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}

start_rabbitmq() {
  command -v rabbitmq-server >/dev/null || { say "rabbitmq-server is not installed (apt-get install rabbitmq-server)"; return 1; }
  rabbitmq-server -detached
}

# Emulators may run on another port than their default (when the default is taken); the port in use is
# recorded in a file the tests read. Each one has: a probe that tells it apart from other servers, a start
# command, and a record format (a URL for moto, host:port for Pub/Sub).
MOTO_URL_FILE=${AAT_MOTO_URL_FILE:-/tmp/aat-moto.url}
PUBSUB_HOST_FILE=${AAT_PUBSUB_HOST_FILE:-/tmp/aat-pubsub.host}
PUBSUB_BIN=/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator

# is_moto PORT: moto's management API answers there. is_pubsub PORT: the emulator's root answers "Ok".
is_moto() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/moto-api/data.json" 2>/dev/null; }
is_pubsub() { [ "$(curl -fsS --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null)" = "Ok" ]; }

# A free port picked by the kernel (bind to port 0 and read it back).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# emulator_settings NAME: sets FILE (record), SCHEME (record prefix), DEFAULT_PORT.
emulator_settings() {
  case "$1" in
    moto) FILE=$MOTO_URL_FILE SCHEME=http:// DEFAULT_PORT=5055 ;;
    pubsub) FILE=$PUBSUB_HOST_FILE SCHEME= DEFAULT_PORT=8085 ;;
  esac
}

# find_emulator NAME: the emulator answers on its recorded port or its default one; sets PORT and rewrites
# the record.
find_emulator() {
  emulator_settings "$1"
  local recorded candidate
  recorded=$(sed -n "s#^${SCHEME}127.0.0.1:\\([0-9]*\\)\$#\\1#p" "$FILE" 2>/dev/null)
  for candidate in $recorded $DEFAULT_PORT; do
    if "is_$1" "$candidate"; then
      PORT=$candidate
      echo "${SCHEME}127.0.0.1:$PORT" >"$FILE"
      return 0
    fi
  done
  return 1
}

# start_emulator NAME: starts it on its default port, or on a free one when that is taken; sets PORT.
start_emulator() {
  emulator_settings "$1"
  PORT=$DEFAULT_PORT
  port_open 127.0.0.1 "$PORT" && PORT=$(free_port)
  case "$1" in
    moto)
      local bin; bin=$(command -v moto_server || echo /root/.pyenv/shims/moto_server)
      [ -x "$bin" ] || { say "moto_server is not installed (pip install 'moto[server]')"; return 1; }
      nohup "$bin" -H 127.0.0.1 -p "$PORT" >/tmp/aat-moto.log 2>&1 &
      ;;
    pubsub)
      [ -x "$PUBSUB_BIN" ] || { say "the Pub/Sub emulator is not installed (gcloud components install pubsub-emulator)"; return 1; }
      nohup "$PUBSUB_BIN" --host=127.0.0.1 --port="$PORT" >/tmp/aat-pubsub.log 2>&1 &
      ;;
  esac
  echo "${SCHEME}127.0.0.1:$PORT" >"$FILE"
}

status=0
for name in "${wanted[@]}"; do
  case "$name" in
    redis) port=6379 ;;
    nats) port=4222 ;;
    rabbitmq) port=5672 ;;
    moto | pubsub)
      if find_emulator "$name"; then say "$name already answers on 127.0.0.1:$PORT"; continue; fi
      say "starting $name"
      start_emulator "$name" || { status=1; continue; }
      wait_port "$name" "$PORT" || status=1
      continue
      ;;
    *) say "unknown service $name (known: redis nats rabbitmq moto pubsub)"; status=1; continue ;;
  esac
  if port_open 127.0.0.1 "$port"; then
    say "$name already answers on 127.0.0.1:$port"
    continue
  fi
  say "starting $name"
  "start_$name" || { status=1; continue; }
  # RabbitMQ takes a while to boot its Erlang node.
  wait_port "$name" "$port" || status=1
done
exit $status
