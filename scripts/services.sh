#!/usr/bin/env bash
# services.sh — start and stop the services that stockd's integration tests use:
# a throw-away PostgreSQL cluster and a single-node Apache Kafka broker (KRaft),
# both listening on 127.0.0.1 only.
#
#   scripts/services.sh up       start what is missing, then print `export VAR=value` lines
#   scripts/services.sh env      print `export VAR=value` lines for the running services
#   scripts/services.sh status   say what runs, where, with which pid
#   scripts/services.sh down     stop what this script started; caches stay
#
# Typical use:  eval "$(scripts/services.sh up)"
#
# A service whose variable (STOCKD_TEST_DATABASE_URL, STOCKD_TEST_KAFKA_BROKERS) is already set
# in the environment is taken as given and not started. Progress goes to stderr; stdout carries
# only the export lines. See docs/SERVICES.md.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${STOCKD_SERVICES_DIR:-$REPO_DIR/.services}
CACHE_DIR=${STOCKD_CACHE_DIR:-$REPO_DIR/.cache}

KAFKA_VERSION=${STOCKD_KAFKA_VERSION:-3.9.2}
KAFKA_HEAP_OPTS=${STOCKD_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
PG_DATABASE=stockd_test
PG_USER=postgres

# Bounds on how long each step may take, in seconds.
MAX_KAFKA_START_SECONDS=90
MAX_PG_START_SECONDS=60
MAX_MAVEN_SECONDS=600

# Ports are drawn from this range (below Linux's ephemeral ports, 32768+) and checked to be free
# on 127.0.0.1.
PORT_RANGE_LOW=20000
PORT_RANGE_HIGH=32000

log() { printf 'services: %s\n' "$*" >&2; }

die() {
	printf 'services: ERROR: %s\n' "$*" >&2
	exit 1
}

# show_tail FILE: print the last lines of a log file to stderr, framed.
show_tail() {
	local file=$1
	if [[ -s $file ]]; then
		printf -- '----- last lines of %s -----\n' "$file" >&2
		tail -n 40 "$file" >&2
		printf -- '----- end of %s -----\n' "$file" >&2
	else
		printf 'services: (%s is empty or missing)\n' "$file" >&2
	fi
}

pid_alive() {
	local pid=$1
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# pid_ours PID NEEDLE: true when PID runs and its command line contains NEEDLE (a path in the
# state dir), so that a recorded pid reused by another process after a restart is never signalled.
pid_ours() {
	local pid=$1 needle=$2
	pid_alive "$pid" && [[ -r /proc/$pid/cmdline && $(tr '\0' ' ' <"/proc/$pid/cmdline") == *"$needle"* ]]
}

# port_answers PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_answers() {
	local port=$1
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

port_free() {
	local port=$1
	if port_answers "$port"; then
		return 1
	fi
	if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Htan "sport = :$port" 2>/dev/null) ]]; then
		return 1
	fi
	return 0
}

# free_port [EXCLUDE...]: print a port on 127.0.0.1 that nothing listens on.
free_port() {
	local port excluded e
	for _ in $(seq 1 200); do
		port=$((PORT_RANGE_LOW + RANDOM % (PORT_RANGE_HIGH - PORT_RANGE_LOW)))
		excluded=0
		for e in "$@"; do
			[[ $e == "$port" ]] && excluded=1
		done
		if [[ $excluded == 0 ]] && port_free "$port"; then
			echo "$port"
			return 0
		fi
	done
	die "no free port found in $PORT_RANGE_LOW-$PORT_RANGE_HIGH after 200 tries"
}

# apt_install WHAT PACKAGE...: install Debian packages (as root) for something that is missing.
apt_install() {
	local what=$1
	shift
	[[ $(id -u) == 0 ]] || die "$what not found, and only root can run: apt-get install -y $*"
	log "$what not found; installing Debian packages: $*"
	local out=$STATE_DIR/apt-install.log
	if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; } >"$out" 2>&1; then
		show_tail "$out"
		die "command failed: apt-get update && apt-get install -y $* (log: $out)"
	fi
}

read_file() {
	local file=$1
	if [[ -f $file ]]; then cat "$file"; fi
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------

PG_STATE=$STATE_DIR/postgres

pg_bindir() {
	local dir
	# Debian installs the server under /usr/lib/postgresql/<major>/bin; take the newest.
	for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4 -n -r); do
		if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
			echo "$dir"
			return 0
		fi
	done
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v pg_ctl)")"
		return 0
	fi
	return 1
}

pg_install() {
	if pg_bindir >/dev/null; then
		return 0
	fi
	apt_install "the PostgreSQL server (initdb, pg_ctl)" postgresql
	pg_bindir >/dev/null || die "postgresql installed but initdb/pg_ctl still not found under /usr/lib/postgresql/*/bin"
}

# pg_run CMD...: run a PostgreSQL server command as the unprivileged postgres user
# (initdb and postgres refuse to run as root).
pg_run() {
	# From /, since the postgres user may not be allowed into the current directory.
	if [[ $(id -u) == 0 ]]; then
		(cd / && runuser -u "$PG_USER" -- "$@")
	else
		(cd / && "$@")
	fi
}

# pg_cluster_dir: where the cluster's files live. The postgres user must be able to reach
# them; when the state dir sits below a folder it cannot enter (e.g. /root), the cluster
# goes to a per-state-dir folder under /tmp, recorded in the state dir.
pg_cluster_dir() {
	local recorded
	recorded=$(read_file "$PG_STATE/cluster_dir")
	if [[ -n $recorded ]]; then
		echo "$recorded"
		return 0
	fi
	local dir=$PG_STATE/cluster
	if [[ $(id -u) == 0 ]] && ! runuser -u "$PG_USER" -- test -x "$PG_STATE"; then
		dir=/tmp/stockd-pg-$(printf '%s' "$STATE_DIR" | cksum | cut -d' ' -f1)
	fi
	echo "$dir" >"$PG_STATE/cluster_dir"
	echo "$dir"
}

pg_url() {
	local port=$1
	echo "postgres://$PG_USER@127.0.0.1:$port/$PG_DATABASE?sslmode=disable"
}

# pg_running: true when the cluster this script started answers; prints nothing.
pg_running() {
	local pid port cluster
	pid=$(read_file "$PG_STATE/pid")
	port=$(read_file "$PG_STATE/port")
	cluster=$(read_file "$PG_STATE/cluster_dir")
	[[ -n $pid && -n $port && -n $cluster ]] && pid_ours "$pid" "$cluster/data" && port_answers "$port"
}

pg_up() {
	if [[ -n ${STOCKD_TEST_DATABASE_URL:-} ]]; then
		log "postgres: using STOCKD_TEST_DATABASE_URL from the environment; starting nothing"
		return 0
	fi
	mkdir -p "$PG_STATE"
	if pg_running; then
		log "postgres: already running (pid $(read_file "$PG_STATE/pid"), port $(read_file "$PG_STATE/port"))"
		return 0
	fi
	pg_stop_quietly
	pg_install
	local bindir cluster data sock port out
	bindir=$(pg_bindir)
	cluster=$(pg_cluster_dir)
	data=$cluster/data
	sock=$cluster/sock
	out=$cluster/postgres.log # written by the postgres user, who may not reach $PG_STATE
	rm -rf "$cluster"
	mkdir -p "$data" "$sock"
	chmod 700 "$data"
	chmod 755 "$cluster" "$PG_STATE"
	if [[ $(id -u) == 0 ]]; then
		chown -R "$PG_USER": "$cluster"
	fi
	log "postgres: initdb in $data ($bindir)"
	if ! pg_run "$bindir/initdb" -D "$data" -U "$PG_USER" --auth=trust -E UTF8 --locale=C >"$PG_STATE/initdb.log" 2>&1; then
		show_tail "$PG_STATE/initdb.log"
		die "command failed: initdb -D $data (log: $PG_STATE/initdb.log)"
	fi
	port=$(free_port)
	log "postgres: starting on 127.0.0.1:$port"
	if ! pg_run "$bindir/pg_ctl" -D "$data" -l "$out" -w -t "$MAX_PG_START_SECONDS" \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $sock -c max_connections=200" start >"$PG_STATE/pg_ctl.log" 2>&1 9>&-; then
		show_tail "$PG_STATE/pg_ctl.log"
		show_tail "$out"
		# A server that came up after pg_ctl gave up must not outlive this failure.
		pg_run "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
		pg_stop_quietly
		die "command failed: pg_ctl start -D $data (port $port)"
	fi
	head -n 1 "$data/postmaster.pid" >"$PG_STATE/pid"
	echo "$port" >"$PG_STATE/port"
	echo "$bindir" >"$PG_STATE/bindir"
	if ! "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$PG_USER" -d postgres \
		-c "CREATE DATABASE $PG_DATABASE" >"$PG_STATE/createdb.log" 2>&1; then
		show_tail "$PG_STATE/createdb.log"
		show_tail "$out"
		pg_stop_quietly
		die "command failed: psql -c 'CREATE DATABASE $PG_DATABASE' on 127.0.0.1:$port"
	fi
	log "postgres: ready at $(pg_url "$port")"
}

# pg_stop_quietly: stop the cluster this script started, if any, and forget it.
pg_stop_quietly() {
	local pid bindir cluster
	pid=$(read_file "$PG_STATE/pid")
	bindir=$(read_file "$PG_STATE/bindir")
	cluster=$(read_file "$PG_STATE/cluster_dir")
	if [[ -n $cluster ]] && pid_ours "$pid" "$cluster/data"; then
		if [[ -n $bindir ]]; then
			pg_run "$bindir/pg_ctl" -D "$cluster/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
		fi
		if pid_ours "$pid" "$cluster/data"; then
			kill -TERM "$pid" 2>/dev/null || true
			wait_gone "$pid" "$cluster/data" 30 || kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	if [[ -n $cluster && -d $cluster ]]; then
		if [[ -f $cluster/postgres.log ]]; then
			cp "$cluster/postgres.log" "$PG_STATE/postgres.last.log"
		fi
		rm -rf "$cluster"
	fi
	rm -f "$PG_STATE/pid" "$PG_STATE/port" "$PG_STATE/cluster_dir"
}

pg_env() {
	if [[ -n ${STOCKD_TEST_DATABASE_URL:-} ]]; then
		echo "export STOCKD_TEST_DATABASE_URL='$STOCKD_TEST_DATABASE_URL'"
	elif pg_running; then
		echo "export STOCKD_TEST_DATABASE_URL='$(pg_url "$(read_file "$PG_STATE/port")")'"
	fi
}

# ---------------------------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------------------------

KAFKA_STATE=$STATE_DIR/kafka
KAFKA_LIB=$CACHE_DIR/kafka-$KAFKA_VERSION/lib

kafka_major() {
	echo "${KAFKA_VERSION%%.*}"
}

# kafka_resolve: fetch the broker's jars from Maven Central into the cache, once per version
# and content of scripts/kafka/pom.xml.
kafka_resolve() {
	local logging=reload4j
	if (($(kafka_major) >= 4)); then
		logging=log4j2
	fi
	local stamp
	stamp="$(sha256sum <"$REPO_DIR/scripts/kafka/pom.xml" | cut -d' ' -f1) $KAFKA_VERSION $logging"
	if [[ -f $KAFKA_LIB/.complete && $(cat "$KAFKA_LIB/.complete") == "$stamp" ]]; then
		return 0
	fi
	command -v mvn >/dev/null 2>&1 || apt_install "Maven (mvn)" maven
	local tmp=$KAFKA_LIB.tmp out=$CACHE_DIR/kafka-$KAFKA_VERSION/mvn.log
	rm -rf "$tmp"
	mkdir -p "$tmp"
	log "kafka: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven Central into $KAFKA_LIB"
	if ! timeout "$MAX_MAVEN_SECONDS" mvn -B -q -f "$REPO_DIR/scripts/kafka/pom.xml" \
		-Dkafka.version="$KAFKA_VERSION" -Dlogging="$logging" -DoutputDirectory="$tmp" \
		dependency:copy-dependencies >"$out" 2>&1; then
		show_tail "$out"
		die "command failed: mvn -f scripts/kafka/pom.xml -Dkafka.version=$KAFKA_VERSION dependency:copy-dependencies"
	fi
	[[ -f $tmp/kafka_2.13-$KAFKA_VERSION.jar ]] || die "maven finished but $tmp/kafka_2.13-$KAFKA_VERSION.jar is missing"
	echo "$stamp" >"$tmp/.complete"
	rm -rf "$KAFKA_LIB"
	mv "$tmp" "$KAFKA_LIB"
}

kafka_running() {
	local pid port
	pid=$(read_file "$KAFKA_STATE/pid")
	port=$(read_file "$KAFKA_STATE/port")
	[[ -n $pid && -n $port ]] && pid_ours "$pid" "$KAFKA_STATE/server.properties" && port_answers "$port"
}

kafka_write_config() {
	local port=$1 cport=$2 dir=$KAFKA_STATE
	cat >"$dir/server.properties" <<EOF
# Single-node KRaft broker for stockd's tests; written by scripts/services.sh.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
EOF
	cat >"$dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
	cat >"$dir/log4j2.properties" <<EOF
rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.request.name=kafka.request.logger
logger.request.level=WARN
logger.statechange.name=state.change.logger
logger.statechange.level=WARN
EOF
}

# kafka_java_args: print, one a line, the java options that run a Kafka class from the cached
# classpath with a bounded heap and logging to stdout.
kafka_java_args() {
	# shellcheck disable=SC2206
	local heap=($KAFKA_HEAP_OPTS)
	printf '%s\n' "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
		"-Dlog4j.configuration=file:$KAFKA_STATE/log4j.properties" \
		"-Dlog4j2.configurationFile=$KAFKA_STATE/log4j2.properties" \
		"-Dkafka.logs.dir=$KAFKA_STATE/logs" \
		-cp "$KAFKA_LIB/*"
}

kafka_up() {
	if [[ -n ${STOCKD_TEST_KAFKA_BROKERS:-} ]]; then
		log "kafka: using STOCKD_TEST_KAFKA_BROKERS from the environment; starting nothing"
		return 0
	fi
	mkdir -p "$KAFKA_STATE"
	if kafka_running; then
		log "kafka: already running (pid $(read_file "$KAFKA_STATE/pid"), port $(read_file "$KAFKA_STATE/port"))"
		return 0
	fi
	kafka_stop_quietly
	command -v java >/dev/null 2>&1 || apt_install "Java (java)" openjdk-17-jre-headless
	kafka_resolve
	local port cport out cluster_id
	local -a jargs
	mapfile -t jargs < <(kafka_java_args)
	port=$(free_port)
	cport=$(free_port "$port")
	rm -rf "$KAFKA_STATE/data" "$KAFKA_STATE/logs"
	mkdir -p "$KAFKA_STATE/data" "$KAFKA_STATE/logs"
	kafka_write_config "$port" "$cport"
	# A cluster id is a base64url-encoded 16-byte UUID without padding, as `random-uuid` prints;
	# like Kafka, avoid a leading '-', which the tool's argument parser would take for an option.
	cluster_id=-
	while [[ $cluster_id == -* ]]; do
		cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
	done
	log "kafka: formatting storage (Kafka $KAFKA_VERSION, cluster id $cluster_id)"
	if ! java "${jargs[@]}" kafka.tools.StorageTool format -t "$cluster_id" \
		-c "$KAFKA_STATE/server.properties" >"$KAFKA_STATE/format.log" 2>&1; then
		show_tail "$KAFKA_STATE/format.log"
		die "command failed: java kafka.tools.StorageTool format -t $cluster_id -c $KAFKA_STATE/server.properties"
	fi
	out=$KAFKA_STATE/kafka.log
	log "kafka: starting broker on 127.0.0.1:$port (controller 127.0.0.1:$cport), log $out"
	# In its own session, so that a Ctrl-C or a timeout aimed at the caller's process group does
	# not reach it. This script has no job control, so setsid execs java and $! is java's pid.
	setsid java "${jargs[@]}" kafka.Kafka "$KAFKA_STATE/server.properties" </dev/null >"$out" 2>&1 9>&- &
	local pid=$!
	echo "$pid" >"$KAFKA_STATE/pid"
	echo "$port" >"$KAFKA_STATE/port"
	local waited=0
	until port_answers "$port" && grep -q 'Kafka Server started' "$out"; do
		if ! pid_alive "$pid"; then
			show_tail "$out"
			rm -f "$KAFKA_STATE/pid"
			die "kafka broker exited during start-up: java kafka.Kafka $KAFKA_STATE/server.properties"
		fi
		if ((waited >= MAX_KAFKA_START_SECONDS * 2)); then
			show_tail "$out"
			kafka_stop_quietly
			die "kafka broker not ready on 127.0.0.1:$port after ${MAX_KAFKA_START_SECONDS}s"
		fi
		sleep 0.5
		waited=$((waited + 1))
	done
	log "kafka: ready at 127.0.0.1:$port (pid $pid, $((waited / 2))s)"
}

# wait_gone PID NEEDLE SECONDS: wait until PID has exited (a zombie counts as gone); false if
# it outlives the bound.
wait_gone() {
	local pid=$1 needle=$2 seconds=$3 i
	for ((i = 0; i < seconds * 10; i++)); do
		pid_ours "$pid" "$needle" || return 0
		sleep 0.1
	done
	return 1
}

kafka_stop_quietly() {
	local pid
	pid=$(read_file "$KAFKA_STATE/pid")
	if pid_ours "$pid" "$KAFKA_STATE/server.properties"; then
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_gone "$pid" "$KAFKA_STATE/server.properties" 30; then
			kill -KILL "$pid" 2>/dev/null || true
			wait_gone "$pid" "$KAFKA_STATE/server.properties" 10 || true
		fi
	fi
	rm -f "$KAFKA_STATE/pid" "$KAFKA_STATE/port"
	rm -rf "$KAFKA_STATE/data"
}

kafka_env() {
	if [[ -n ${STOCKD_TEST_KAFKA_BROKERS:-} ]]; then
		echo "export STOCKD_TEST_KAFKA_BROKERS='$STOCKD_TEST_KAFKA_BROKERS'"
	elif kafka_running; then
		echo "export STOCKD_TEST_KAFKA_BROKERS='127.0.0.1:$(read_file "$KAFKA_STATE/port")'"
	fi
}

# ---------------------------------------------------------------------------------------------

status_line() {
	local name=$1 var=$2 dir=$3 running=$4
	if [[ -n ${!var:-} ]]; then
		echo "$name: external ($var=${!var})"
	elif $running; then
		echo "$name: running pid $(read_file "$dir/pid") on 127.0.0.1:$(read_file "$dir/port")"
	else
		echo "$name: stopped"
	fi
}

# with_lock CMD...: serialise up/down across concurrent invocations on the same state dir.
# The lock is fd 9; the servers are started with fd 9 closed so that they do not hold it.
with_lock() {
	mkdir -p "$STATE_DIR"
	exec 9>"$STATE_DIR/.lock"
	if ! flock -w 300 9; then
		die "another services.sh holds $STATE_DIR/.lock for more than 300s"
	fi
	"$@"
}

cmd_up() {
	pg_up
	kafka_up
	cmd_env
}

cmd_env() {
	pg_env
	kafka_env
}

cmd_down() {
	if [[ -z ${STOCKD_TEST_KAFKA_BROKERS:-} ]]; then
		kafka_stop_quietly
		log "kafka: stopped"
	fi
	if [[ -z ${STOCKD_TEST_DATABASE_URL:-} ]]; then
		pg_stop_quietly
		log "postgres: stopped"
	fi
}

cmd_status() {
	local pg=false kafka=false
	pg_running && pg=true
	kafka_running && kafka=true
	status_line postgres STOCKD_TEST_DATABASE_URL "$PG_STATE" "$pg"
	status_line kafka STOCKD_TEST_KAFKA_BROKERS "$KAFKA_STATE" "$kafka"
}

# cmd_crash_postgres: stop the cluster this script started as a crash would (immediate
# shutdown, no checkpoint), then start it again on the same port and data. For fault tests.
cmd_crash_postgres() {
	pg_running || die "postgres: no cluster started by this script is running; an external database cannot be crashed"
	local port bindir cluster data
	port=$(read_file "$PG_STATE/port")
	bindir=$(read_file "$PG_STATE/bindir")
	cluster=$(read_file "$PG_STATE/cluster_dir")
	data=$cluster/data
	if [[ -n ${STOCKD_TEST_DATABASE_URL:-} && $STOCKD_TEST_DATABASE_URL != *"127.0.0.1:$port/"* ]]; then
		die "postgres: STOCKD_TEST_DATABASE_URL is not the cluster this script started (port $port)"
	fi
	log "postgres: crashing (immediate stop) and restarting on 127.0.0.1:$port"
	pg_run "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop >"$PG_STATE/pg_ctl.log" 2>&1 9>&- ||
		die "command failed: pg_ctl stop -m immediate -D $data"
	if ! pg_run "$bindir/pg_ctl" -D "$data" -l "$cluster/postgres.log" -w -t "$MAX_PG_START_SECONDS" \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $cluster/sock -c max_connections=200" start >"$PG_STATE/pg_ctl.log" 2>&1 9>&-; then
		show_tail "$PG_STATE/pg_ctl.log"
		die "command failed: pg_ctl start -D $data after the crash"
	fi
	head -n 1 "$data/postmaster.pid" >"$PG_STATE/pid"
	log "postgres: back on 127.0.0.1:$port"
}

usage() {
	echo "usage: $0 up|down|env|status|crash-postgres" >&2
	exit 2
}

main() {
	[[ $# == 1 ]] || usage
	case $1 in
	up) with_lock cmd_up ;;
	down) with_lock cmd_down ;;
	env) cmd_env ;;
	status) cmd_status ;;
	crash-postgres) with_lock cmd_crash_postgres ;;
	*) usage ;;
	esac
}

main "$@"
