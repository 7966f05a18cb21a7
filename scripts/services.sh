#!/usr/bin/env bash
# Make sure the real servers the integration tests use answer on loopback; start the ones that do not
# from their installed binaries (Debian packages). Idempotent; loopback only; never installs anything.
#   scripts/services.sh            check and start redis, nats, rabbitmq
#   scripts/services.sh redis nats only those
set -uo pipefail

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(redis nats rabbitmq)

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

status=0
for name in "${wanted[@]}"; do
  case "$name" in
    redis) port=6379 ;;
    nats) port=4222 ;;
    rabbitmq) port=5672 ;;
    *) say "unknown service $name (known: redis nats rabbitmq)"; status=1; continue ;;
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
