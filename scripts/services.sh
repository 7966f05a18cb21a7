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

MOTO_URL_FILE=${AAT_MOTO_URL_FILE:-/tmp/aat-moto.url}
MOTO_PORT=5055

# is_moto PORT: the server on that port is moto (its management API answers).
is_moto() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/moto-api/data.json" 2>/dev/null; }

# A free port picked by the kernel (bind to port 0 and read it back).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_moto() {
  local bin; bin=$(command -v moto_server || echo /root/.pyenv/shims/moto_server)
  [ -x "$bin" ] || { say "moto_server is not installed (pip install 'moto[server]')"; return 1; }
  if port_open 127.0.0.1 "$MOTO_PORT"; then MOTO_PORT=$(free_port); fi
  nohup "$bin" -H 127.0.0.1 -p "$MOTO_PORT" >/tmp/aat-moto.log 2>&1 &
  echo "http://127.0.0.1:$MOTO_PORT" >"$MOTO_URL_FILE"
}

# moto answers on the recorded port (or the default one): reuse it.
find_moto() {
  local recorded
  recorded=$(sed -n 's#^http://127.0.0.1:\([0-9]*\)$#\1#p' "$MOTO_URL_FILE" 2>/dev/null)
  for candidate in $recorded 5055; do
    if is_moto "$candidate"; then
      MOTO_PORT=$candidate
      echo "http://127.0.0.1:$candidate" >"$MOTO_URL_FILE"
      return 0
    fi
  done
  return 1
}

PUBSUB_HOST_FILE=${AAT_PUBSUB_HOST_FILE:-/tmp/aat-pubsub.host}
PUBSUB_PORT=8085
PUBSUB_BIN=/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator

# is_pubsub PORT: the server on that port is the Pub/Sub emulator (its root answers "Ok").
is_pubsub() { [ "$(curl -fsS --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null)" = "Ok" ]; }

start_pubsub() {
  [ -x "$PUBSUB_BIN" ] || { say "the Pub/Sub emulator is not installed (gcloud components install pubsub-emulator)"; return 1; }
  if port_open 127.0.0.1 "$PUBSUB_PORT"; then PUBSUB_PORT=$(free_port); fi
  nohup "$PUBSUB_BIN" --host=127.0.0.1 --port="$PUBSUB_PORT" >/tmp/aat-pubsub.log 2>&1 &
  echo "127.0.0.1:$PUBSUB_PORT" >"$PUBSUB_HOST_FILE"
}

find_pubsub() {
  local recorded
  recorded=$(sed -n 's#^127.0.0.1:\([0-9]*\)$#\1#p' "$PUBSUB_HOST_FILE" 2>/dev/null)
  for candidate in $recorded 8085; do
    if is_pubsub "$candidate"; then
      PUBSUB_PORT=$candidate
      echo "127.0.0.1:$candidate" >"$PUBSUB_HOST_FILE"
      return 0
    fi
  done
  return 1
}

status=0
for name in "${wanted[@]}"; do
  case "$name" in
    redis) port=6379 ;;
    nats) port=4222 ;;
    rabbitmq) port=5672 ;;
    moto)
      if find_moto; then say "moto already answers on 127.0.0.1:$MOTO_PORT"; continue; fi
      say "starting moto"
      start_moto || { status=1; continue; }
      wait_port moto "$MOTO_PORT" || status=1
      continue
      ;;
    pubsub)
      if find_pubsub; then say "pubsub already answers on 127.0.0.1:$PUBSUB_PORT"; continue; fi
      say "starting pubsub"
      start_pubsub || { status=1; continue; }
      wait_port pubsub "$PUBSUB_PORT" || status=1
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
