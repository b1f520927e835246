#!/usr/bin/env bash
# run_cluster.sh: start, inspect and stop a local N-peer Qdrant cluster (or lagrace's simulated
# cluster) on 127.0.0.1, in the form `lagrace run --nodes ... --logs ...` and the reproduction
# scripts take. See docs/real-cluster.md.
#
#   run_cluster.sh N [--dir DIR] [--base-port P] [--timeout S]      start N real peers ($QDRANT_BIN)
#         [--grpc-timeout-ms MS] [--random-peer-ids]
#   run_cluster.sh N --sim [--mode buggy|fixed] [--seed S] [--dir DIR] start the simulated cluster
#         [--grpc-timeout-ms MS]
#   run_cluster.sh status [--dir DIR]                                 what runs, and the command line
#   run_cluster.sh stop [--dir DIR] [--grace S]                       end exactly what was started
#   run_cluster.sh kill K [--dir DIR]                                 kill -9 peer K (real peers only)
#   run_cluster.sh restart K [--dir DIR] [--timeout S]                start peer K again
#
# Peer ids: peer K gets id 100+K (101, 102, ... as in the original report: node 2 is peer 102,
# node N the write-ordering leader, the highest id); --random-peer-ids lets Qdrant pick them.
# --grpc-timeout-ms sets QDRANT__CLUSTER__GRPC_TIMEOUT_MS (Qdrant's default 60000 keeps a peer
# frozen by the lock pile-up ~3 min; 5000 makes it ~21 s: notes §4.8).
#
# Port scheme (real peers, K = 1..N): p2p = P + 3(K-1), gRPC = P + 3(K-1) + 1,
# HTTP = P + 3(K-1) + 2; P defaults to 26300. The simulated cluster picks free ports.
#
# Directory (default $LAGRACE_CLUSTER_DIR or ./cluster):
#   cluster.env          what was started (sourced by status/stop/kill/restart)
#   peer-K/              peer K's working directory: storage/, snapshots/ (no config/ inside)
#   peer-K.log           peer K's stdout+stderr (the Qdrant log lagrace reads)
#   peer-K.pid           peer K's pid (real peers)
#   sim.pid, sim.json, sim.stderr    the simulated cluster's pid, ready line, diagnostics
#
# Exit codes: 0 done; 1 the cluster did not come up, or status found a peer down;
# 3 usage or environment error (no binary, binary without `staging`, busy port, ...).
set -euo pipefail

PROG=run_cluster.sh
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$SCRIPT_DIR")
DEFAULT_BASE_PORT=26300
DEFAULT_LOG_LEVEL="INFO,storage::content_manager::consensus_manager=debug,storage::content_manager::staging=debug,storage::content_manager::toc=debug,collection::collection=debug,collection::shards::replica_set=debug"
MAX_NODES=32

usage() {
    sed -n '/^#   run_cluster.sh/s/^#   //p' "${BASH_SOURCE[0]}"
}

fail_usage() { # one line, exit 3
    echo "$PROG: $*" >&2
    exit 3
}

fail() { # one line, exit 1
    echo "$PROG: $*" >&2
    exit 1
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# ---------------------------------------------------------------------------------------------
# processes

# alive PID: the process exists and is not a zombie
alive() {
    local pid=$1 state
    [[ -r /proc/$pid/stat ]] || return 1
    state=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z && $state != X ]]
}

# ours PID MARKER...: alive, and its command line contains every marker
ours() {
    local pid=$1 cmdline marker
    shift
    alive "$pid" || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    for marker in "$@"; do
        [[ $cmdline == *"$marker"* ]] || return 1
    done
}

# the markers that identify the process behind a pid file
markers_for() { # pidfile
    case $(basename "$1") in
    sim.pid) printf '%s\n' lagrace sim "$CLUSTER_DIR" ;;
    *) printf '%s\n' "$QDRANT_BIN" ;;
    esac
}

read_pid() { # pidfile -> pid on stdout, or nothing
    local pid=""
    if [[ -f $1 ]]; then read -r pid <"$1" || true; fi
    is_uint "${pid:-x}" && echo "$pid"
    return 0
}

# signal_ours PIDFILE SIGNAL: signal the recorded process if it is still ours; prints the pid
signal_ours() {
    local pidfile=$1 sig=$2 pid
    local -a markers
    pid=$(read_pid "$pidfile")
    [[ -n $pid ]] || return 1
    mapfile -t markers < <(markers_for "$pidfile")
    if ours "$pid" "${markers[@]}"; then
        kill "-$sig" "$pid" 2>/dev/null || true
        echo "$pid"
        return 0
    fi
    return 1
}

# wait_gone SECONDS PID...: 0 when every pid is gone within the time
wait_gone() {
    local deadline=$((SECONDS + $1)) pid any
    shift
    while :; do
        any=0
        for pid in "$@"; do
            alive "$pid" && any=1
        done
        ((any == 0)) && return 0
        ((SECONDS >= deadline)) && return 1
        sleep 0.1
    done
}

# running_pids: the recorded pids that are still ours (space separated)
running_pids() {
    local pidfile pid out=""
    local -a markers
    shopt -s nullglob
    for pidfile in "$CLUSTER_DIR"/peer-*.pid "$CLUSTER_DIR"/sim.pid; do
        pid=$(read_pid "$pidfile")
        mapfile -t markers < <(markers_for "$pidfile")
        if [[ -n $pid ]] && ours "$pid" "${markers[@]}"; then
            out+="${out:+ }$pid"
        fi
    done
    shopt -u nullglob
    echo "$out"
}

# stop_all: SIGTERM what the pid files name (verified), SIGKILL after the grace; quiet on none
stop_all() {
    local grace=$1 pidfile pid
    local -a pids=() files=()
    shopt -s nullglob
    files=("$CLUSTER_DIR"/peer-*.pid "$CLUSTER_DIR"/sim.pid)
    shopt -u nullglob
    for pidfile in "${files[@]}"; do
        if pid=$(signal_ours "$pidfile" TERM); then
            pids+=("$pid")
        else
            pid=$(read_pid "$pidfile")
            [[ -n $pid ]] && echo "$PROG: $(basename "$pidfile"): pid $pid is not running (or no longer ours); not signalled" >&2
        fi
    done
    if ((${#pids[@]} > 0)) && ! wait_gone "$grace" "${pids[@]}"; then
        for pid in "${pids[@]}"; do
            if alive "$pid"; then
                echo "$PROG: pid $pid did not stop within ${grace}s; SIGKILL" >&2
                kill -KILL "$pid" 2>/dev/null || true
            fi
        done
        wait_gone 10 "${pids[@]}" || echo "$PROG: some processes survived SIGKILL: ${pids[*]}" >&2
    fi
    if ((${#files[@]} > 0)); then
        rm -f "${files[@]}"
    fi
    STOPPED=${#pids[@]}
}

# ---------------------------------------------------------------------------------------------
# HTTP + JSON (curl for the request, python3 only to read the JSON)

http_get() { # url -> body on stdout; non-zero on any failure
    curl -fsS --max-time "${2:-2}" "$1" 2>/dev/null
}

# cluster_line URL: "peer_id leader npeers role commit" from GET /cluster, or "down"
cluster_line() {
    local body
    if ! body=$(http_get "$1/cluster"); then
        echo down
        return 0
    fi
    python3 -c '
import json, sys
try:
    r = json.loads(sys.argv[1])["result"]
    if r.get("status") != "enabled":
        print("disabled")
    else:
        info = r.get("raft_info") or {}
        print(r["peer_id"], info.get("leader") or 0, len(r.get("peers") or {}),
              info.get("role") or "-", info.get("commit", "-"))
except (ValueError, KeyError, TypeError, AttributeError):
    print("bad")
' "$body"
}

# staging URL: prints true / false / unknown: from GET /telemetry?details_level=1 where it reports
# app.features.staging (v1.17.0+), else by the side-effect-free probe of notes §4.8 (v1.16.x):
# test_slow_down with duration 0 on a collection that does not exist answers 404 with staging,
# 400 "did not match any variant" without it
staging_of() {
    local body answer
    if ! body=$(http_get "$1/telemetry?details_level=1" 5); then
        echo unknown
        return 0
    fi
    answer=$(python3 -c '
import json, sys
try:
    features = json.loads(sys.argv[1])["result"]["app"]["features"]
    value = features.get("staging")
    print("probe" if value is None else ("true" if value is True else "false"))
except (ValueError, KeyError, TypeError, AttributeError):
    print("unknown")
' "$body")
    if [[ $answer == probe ]]; then
        local code
        code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
            -H 'Content-Type: application/json' \
            -d '{"test_slow_down":{"peer_id":1,"duration":0}}' \
            "$1/collections/lagrace_staging_probe_does_not_exist/cluster" 2>/dev/null) || code=000
        case $code in
        404) answer=true ;;
        400) answer=false ;;
        *) answer=unknown ;;
        esac
    fi
    echo "$answer"
}

# version URL: the version GET / reports, or "?"
version_of() {
    local body
    body=$(http_get "$1/" 2) || {
        echo "?"
        return 0
    }
    python3 -c '
import json, sys
try:
    print(json.loads(sys.argv[1]).get("version", "?"))
except (ValueError, AttributeError):
    print("?")
' "$body"
}

# ---------------------------------------------------------------------------------------------
# state file

write_state() {
    {
        printf 'KIND=%q\n' "$KIND"
        printf 'NODES_COUNT=%q\n' "$NODES_COUNT"
        printf 'BASE_PORT=%q\n' "$BASE_PORT"
        printf 'QDRANT_BIN=%q\n' "$QDRANT_BIN"
        printf 'NODES=%q\n' "$NODES"
        printf 'LOGS=%q\n' "$LOGS"
        printf 'LOG_LEVEL=%q\n' "$LOG_LEVEL"
        printf 'GRPC_TIMEOUT_MS=%q\n' "$GRPC_TIMEOUT_MS"
        printf 'RANDOM_PEER_IDS=%q\n' "$RANDOM_PEER_IDS"
    } >"$CLUSTER_DIR/cluster.env.tmp"
    mv "$CLUSTER_DIR/cluster.env.tmp" "$CLUSTER_DIR/cluster.env"
}

load_state() {
    [[ -f $CLUSTER_DIR/cluster.env ]] || fail_usage "no cluster in $CLUSTER_DIR (start one with: $PROG N --dir $CLUSTER_DIR)"
    KIND="" NODES_COUNT="" BASE_PORT="" QDRANT_BIN="" NODES="" LOGS="" LOG_LEVEL=""
    GRPC_TIMEOUT_MS="" RANDOM_PEER_IDS=0
    # shellcheck source=/dev/null  # written by write_state, values quoted with %q
    source "$CLUSTER_DIR/cluster.env"
}

# quote WORD: as is when it is plain, else shell-quoted
quote() {
    if [[ $1 =~ ^[A-Za-z0-9_./:,=@%+-]+$ ]]; then
        printf '%s' "$1"
    else
        printf '%q' "$1"
    fi
}

print_commands() {
    echo "NODES=$(quote "$NODES")"
    echo "LOGS=$(quote "$LOGS")"
    echo "lagrace run --nodes $(quote "$NODES") --logs $(quote "$LOGS")"
    echo "$(quote "$SCRIPT_DIR/test_consensus_lag_bug.sh") --nodes $(quote "$NODES") --logs $(quote "$LOGS")"
}

# ---------------------------------------------------------------------------------------------
# real peers

p2p_port() { echo $((BASE_PORT + 3 * ($1 - 1))); }
grpc_port() { echo $((BASE_PORT + 3 * ($1 - 1) + 1)); }
http_port() { echo $((BASE_PORT + 3 * ($1 - 1) + 2)); }
http_url() { echo "http://127.0.0.1:$(http_port "$1")"; }

# start_peer K: background peer K in its own session; its pid lands in peer-K.pid
start_peer() {
    local k=$1 pdir="$CLUSTER_DIR/peer-$1" pidfile="$CLUSTER_DIR/peer-$1.pid"
    local -a args=(--uri "http://127.0.0.1:$(p2p_port "$k")")
    if ((k > 1)); then
        args+=(--bootstrap "http://127.0.0.1:$(p2p_port 1)")
    fi
    mkdir -p "$pdir/storage" "$pdir/snapshots"
    rm -f "$pidfile"
    (
        cd "$pdir"
        export RUN_MODE=production \
            QDRANT__CLUSTER__ENABLED=true \
            QDRANT__SERVICE__HOST=127.0.0.1 \
            QDRANT__CLUSTER__P2P__PORT=$((BASE_PORT + 3 * (k - 1))) \
            QDRANT__SERVICE__GRPC_PORT=$((BASE_PORT + 3 * (k - 1) + 1)) \
            QDRANT__SERVICE__HTTP_PORT=$((BASE_PORT + 3 * (k - 1) + 2)) \
            QDRANT__STORAGE__STORAGE_PATH="$pdir/storage" \
            QDRANT__STORAGE__SNAPSHOTS_PATH="$pdir/snapshots" \
            QDRANT__LOG_LEVEL="$LOG_LEVEL" \
            QDRANT__TELEMETRY_DISABLED=true
        if ! ((RANDOM_PEER_IDS)); then export QDRANT__CLUSTER__PEER_ID=$((100 + k)); fi
        if [[ -n $GRPC_TIMEOUT_MS ]]; then export QDRANT__CLUSTER__GRPC_TIMEOUT_MS=$GRPC_TIMEOUT_MS; fi
        # bash writes its own pid, then becomes nohup, then qdrant (exec keeps the pid)
        # shellcheck disable=SC2016  # $$ and "$@" expand in the inner bash
        exec setsid -f bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec nohup "$@"' \
            "$pidfile" "$QDRANT_BIN" "${args[@]}" >>"$CLUSTER_DIR/peer-$k.log" 2>&1 </dev/null
    )
    local deadline=$((SECONDS + 5))
    until [[ -s $pidfile ]]; do
        ((SECONDS < deadline)) || fail "peer $k: no pid file after 5 s"
        sleep 0.05
    done
}

# died K: peer K's process is gone; say so with the tail of its log
died() {
    local k=$1 pid
    pid=$(read_pid "$CLUSTER_DIR/peer-$k.pid")
    if [[ -z $pid ]] || ! alive "$pid"; then
        echo "$PROG: peer $k exited; last lines of $CLUSTER_DIR/peer-$k.log:" >&2
        tail -n 5 "$CLUSTER_DIR/peer-$k.log" | sed 's/^/    /' >&2
        return 0
    fi
    return 1
}

# wait_uniform TIMEOUT K...: every listed peer reports N peers and the same known leader
wait_uniform() {
    local timeout=$1 deadline k line leader peers last=""
    shift
    deadline=$((SECONDS + timeout))
    while :; do
        local ok=1 leaders=""
        last=""
        for k in "$@"; do
            died "$k" && return 2
            line=$(cluster_line "$(http_url "$k")")
            last+=" peer $k: $line;"
            read -r _ leader peers _ <<<"$line"
            if [[ $line == down || $line == bad || $line == disabled || ${leader:-0} == 0 || ${peers:-0} != "$WANT_PEERS" ]]; then
                ok=0
            else
                leaders+="$leader "
            fi
        done
        if ((ok)) && (($(tr ' ' '\n' <<<"$leaders" | sed '/^$/d' | sort -u | wc -l) == 1)); then
            return 0
        fi
        if ((SECONDS >= deadline)); then
            echo "$PROG: not settled after ${timeout}s (want $WANT_PEERS peers and one leader):$last" >&2
            return 1
        fi
        sleep 0.2
    done
}

check_ports_free() {
    python3 -c '
import socket, sys
busy = []
for port in map(int, sys.argv[1:]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is fine
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        busy.append(str(port))
    finally:
        s.close()
print(" ".join(busy))
' "$@"
}

resolve_qdrant_bin() {
    if [[ -z ${QDRANT_BIN:-} ]]; then
        fail_usage "QDRANT_BIN is not set: point it at a qdrant binary built with --features staging (or use --sim)"
    fi
    local resolved
    resolved=$(command -v -- "$QDRANT_BIN" 2>/dev/null || true)
    if [[ -z $resolved || -d $resolved || ! -x $resolved ]]; then
        fail_usage "QDRANT_BIN=$QDRANT_BIN is not an executable file"
    fi
    QDRANT_BIN=$(realpath -s -- "$resolved")
}

start_qdrant() {
    local last_port=$((BASE_PORT + 3 * NODES_COUNT - 1))
    ((BASE_PORT >= 1024 && last_port <= 65535)) || fail_usage "ports $BASE_PORT..$last_port are out of range (1024..65535)"
    local -a ports=()
    local p
    for ((p = BASE_PORT; p <= last_port; p++)); do ports+=("$p"); done
    local busy
    busy=$(check_ports_free "${ports[@]}")
    [[ -z $busy ]] || fail_usage "port(s) in use: $busy (pick another --base-port)"

    local k urls=() logs=()
    for ((k = 1; k <= NODES_COUNT; k++)); do
        urls+=("$(http_url "$k")")
        logs+=("$CLUSTER_DIR/peer-$k.log")
    done
    NODES=$(IFS=,; echo "${urls[*]}")
    LOGS=$(IFS=,; echo "${logs[*]}")
    write_state

    trap 'stop_all 5; exit 130' INT TERM
    start_peer 1
    WANT_PEERS=1
    if ! wait_uniform "$TIMEOUT" 1; then
        stop_all "$GRACE"
        fail "peer 1 did not come up (log: $CLUSTER_DIR/peer-1.log); stopped"
    fi
    for ((k = 2; k <= NODES_COUNT; k++)); do start_peer "$k"; done
    WANT_PEERS=$NODES_COUNT
    local -a all=()
    for ((k = 1; k <= NODES_COUNT; k++)); do all+=("$k"); done
    if ! wait_uniform "$TIMEOUT" "${all[@]}"; then
        stop_all "$GRACE"
        fail "the cluster did not settle (logs: $CLUSTER_DIR/peer-*.log); stopped"
    fi
    for ((k = 1; k <= NODES_COUNT; k++)); do
        local staging
        staging=$(staging_of "$(http_url "$k")")
        if [[ $staging != true ]]; then
            stop_all "$GRACE"
            fail_usage "$QDRANT_BIN lacks the staging feature (peer $k: staging is $staging by telemetry or the test_slow_down probe); build it with cargo build --bin qdrant --features staging; cluster stopped"
        fi
    done
    trap - INT TERM
    echo "started $NODES_COUNT Qdrant $(version_of "$(http_url 1)") peers in $CLUSTER_DIR (ports from $BASE_PORT: p2p, gRPC, HTTP per peer; $(ids_text); grpc_timeout_ms $(timeout_text))"
    print_commands
}

# ---------------------------------------------------------------------------------------------
# simulated cluster

sim_python() {
    if [[ -n ${LAGRACE_PYTHON:-} ]]; then
        echo "$LAGRACE_PYTHON"
    elif [[ -x $REPO_DIR/.venv/bin/python ]]; then
        echo "$REPO_DIR/.venv/bin/python"
    else
        echo python3
    fi
}

start_sim() {
    local py pidfile="$CLUSTER_DIR/sim.pid"
    py=$(sim_python)
    local -a args=(-m lagrace sim --nodes "$NODES_COUNT" --json --log-dir "$CLUSTER_DIR")
    if [[ -n $SIM_MODE ]]; then args+=(--mode "$SIM_MODE"); fi
    if [[ -n $SIM_SEED ]]; then args+=(--seed "$SIM_SEED"); fi
    if [[ -n $GRPC_TIMEOUT_MS ]]; then args+=(--grpc-timeout-ms "$GRPC_TIMEOUT_MS"); fi
    QDRANT_BIN=""
    (
        cd "$CLUSTER_DIR"
        # shellcheck disable=SC2016  # $$ and "$@" expand in the inner bash
        exec setsid -f bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec nohup "$@"' \
            "$pidfile" "$py" "${args[@]}" >"$CLUSTER_DIR/sim.json" 2>"$CLUSTER_DIR/sim.stderr" </dev/null
    )
    trap 'stop_all 5; exit 130' INT TERM
    local deadline=$((SECONDS + TIMEOUT)) pid=""
    while :; do
        pid=$(read_pid "$pidfile")
        # the ready line is complete once it ends with a newline
        if [[ -s $CLUSTER_DIR/sim.json && $(tail -c 1 "$CLUSTER_DIR/sim.json" | od -An -c | tr -d ' ') == '\n' ]]; then
            break
        fi
        if [[ -n $pid ]] && ! alive "$pid"; then
            echo "$PROG: the simulated cluster exited before it was ready; $CLUSTER_DIR/sim.stderr says:" >&2
            tail -n 5 "$CLUSTER_DIR/sim.stderr" | sed 's/^/    /' >&2
            rm -f "$pidfile"
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            stop_all "$GRACE"
            fail "the simulated cluster was not ready within ${TIMEOUT}s (see $CLUSTER_DIR/sim.stderr); stopped"
        fi
        sleep 0.1
    done
    local parsed
    if ! parsed=$(python3 -c '
import json, sys
obj = json.loads(open(sys.argv[1]).readline())
nodes = sorted(obj["nodes"], key=lambda n: int(n["node"]))
print(",".join(n["url"] for n in nodes))
print(",".join(n["log"] for n in nodes))
print(obj.get("mode", "?"), obj.get("seed", "?"))
' "$CLUSTER_DIR/sim.json" 2>&1); then
        stop_all "$GRACE"
        fail "unexpected ready line from the simulated cluster: $(head -c 300 "$CLUSTER_DIR/sim.json")"
    fi
    local mode_seed
    { read -r NODES; read -r LOGS; read -r mode_seed; } <<<"$parsed"
    write_state
    trap - INT TERM
    echo "started the simulated cluster ($NODES_COUNT peers, mode/seed $mode_seed) in $CLUSTER_DIR"
    print_commands
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_start() {
    ((NODES_COUNT >= 1 && NODES_COUNT <= MAX_NODES)) || fail_usage "N must be 1..$MAX_NODES, got $NODES_COUNT"
    [[ $CLUSTER_DIR != *,* ]] || fail_usage "the directory path must not contain a comma (it goes into --logs): $CLUSTER_DIR"
    if ! ((SIM)); then resolve_qdrant_bin; fi
    if [[ -e $CLUSTER_DIR && ! -d $CLUSTER_DIR ]]; then
        fail_usage "$CLUSTER_DIR exists and is not a directory"
    fi
    if [[ -d $CLUSTER_DIR ]]; then
        if [[ -f $CLUSTER_DIR/cluster.env ]]; then
            local running
            running=$(
                load_state
                running_pids
            )
            if [[ -n $running ]]; then
                fail_usage "a cluster is already running in $CLUSTER_DIR (pid $running); run: $PROG stop --dir $CLUSTER_DIR"
            fi
            # a previous cluster of ours: start afresh
            rm -rf "$CLUSTER_DIR"/peer-* "$CLUSTER_DIR"/sim.* "$CLUSTER_DIR/cluster.env"
        elif [[ -n $(ls -A "$CLUSTER_DIR") ]]; then
            fail_usage "$CLUSTER_DIR is not empty and holds no cluster.env; refusing to use it"
        fi
    fi
    mkdir -p "$CLUSTER_DIR"
    if ((SIM)); then
        KIND=sim
        start_sim
    else
        KIND=qdrant
        start_qdrant
    fi
}

ids_text() {
    if ((RANDOM_PEER_IDS)); then echo "peer ids chosen by Qdrant"; else echo "peer ids 101..$((100 + NODES_COUNT))"; fi
}

timeout_text() {
    if [[ -n $GRPC_TIMEOUT_MS ]]; then echo "$GRPC_TIMEOUT_MS"; else echo "60000 (Qdrant's default)"; fi
}

cmd_status() {
    load_state
    local k pid state line rc=0
    local -a urls logs
    IFS=, read -r -a urls <<<"$NODES"
    IFS=, read -r -a logs <<<"$LOGS"
    if [[ $KIND == sim ]]; then
        echo "cluster in $CLUSTER_DIR: $KIND, $NODES_COUNT peer(s), grpc_timeout_ms $(timeout_text)"
    else
        echo "cluster in $CLUSTER_DIR: $KIND, $NODES_COUNT peer(s), $(ids_text), grpc_timeout_ms $(timeout_text)"
    fi
    if [[ $KIND == sim ]]; then
        pid=$(read_pid "$CLUSTER_DIR/sim.pid")
        if [[ -n $pid ]] && ours "$pid" lagrace sim "$CLUSTER_DIR"; then
            echo "simulated cluster: pid $pid running"
        else
            echo "simulated cluster: not running"
            rc=1
        fi
    fi
    for ((k = 1; k <= NODES_COUNT; k++)); do
        state=""
        if [[ $KIND == qdrant ]]; then
            pid=$(read_pid "$CLUSTER_DIR/peer-$k.pid")
            if [[ -n $pid ]] && ours "$pid" "$QDRANT_BIN"; then
                state="pid $pid running"
            else
                state="not running"
                rc=1
            fi
            state+=", "
        fi
        line=$(cluster_line "${urls[k - 1]}")
        local peer_id leader npeers role commit
        read -r peer_id leader npeers role commit <<<"$line"
        case $line in
        down | bad | disabled)
            state+="GET /cluster: $line"
            rc=1
            ;;
        *) state+="peer_id $peer_id, role $role, leader $leader, peers $npeers, commit $commit" ;;
        esac
        echo "peer $k: ${urls[k - 1]}: $state; log ${logs[k - 1]}"
    done
    print_commands
    return "$rc"
}

cmd_stop() {
    [[ -f $CLUSTER_DIR/cluster.env ]] || fail_usage "no cluster in $CLUSTER_DIR"
    load_state
    STOPPED=0
    stop_all "$GRACE"
    echo "stopped $STOPPED process(es) in $CLUSTER_DIR (data and logs kept)"
}

peer_arg() {
    is_uint "${PEER_K:-x}" || fail_usage "$COMMAND needs a peer number K (1..$NODES_COUNT)"
    ((PEER_K >= 1 && PEER_K <= NODES_COUNT)) || fail_usage "peer $PEER_K is not 1..$NODES_COUNT"
    [[ $KIND == qdrant ]] || fail_usage "$COMMAND works on real peers only; the simulated cluster is one process (use stop)"
}

cmd_kill() {
    load_state
    peer_arg
    local pid
    if ! pid=$(signal_ours "$CLUSTER_DIR/peer-$PEER_K.pid" KILL); then
        fail "peer $PEER_K is not running"
    fi
    wait_gone 10 "$pid" || fail "peer $PEER_K (pid $pid) survived SIGKILL"
    rm -f "$CLUSTER_DIR/peer-$PEER_K.pid"
    echo "killed peer $PEER_K (pid $pid, SIGKILL)"
}

cmd_restart() {
    load_state
    peer_arg
    local pid
    pid=$(read_pid "$CLUSTER_DIR/peer-$PEER_K.pid")
    if [[ -n $pid ]] && ours "$pid" "$QDRANT_BIN"; then
        fail_usage "peer $PEER_K is running (pid $pid); kill it first: $PROG kill $PEER_K --dir $CLUSTER_DIR"
    fi
    [[ -x $QDRANT_BIN ]] || fail_usage "QDRANT_BIN=$QDRANT_BIN (recorded in cluster.env) is not executable"
    start_peer "$PEER_K"
    WANT_PEERS=$NODES_COUNT
    if ! wait_uniform "$TIMEOUT" "$PEER_K"; then
        fail "peer $PEER_K restarted (pid $(read_pid "$CLUSTER_DIR/peer-$PEER_K.pid")) but did not rejoin within ${TIMEOUT}s"
    fi
    echo "restarted peer $PEER_K (pid $(read_pid "$CLUSTER_DIR/peer-$PEER_K.pid")): $(http_url "$PEER_K")"
}

# ---------------------------------------------------------------------------------------------
# arguments

COMMAND="" NODES_COUNT="" PEER_K="" SIM=0 SIM_MODE="" SIM_SEED=""
GRPC_TIMEOUT_MS="" RANDOM_PEER_IDS=0
CLUSTER_DIR=${LAGRACE_CLUSTER_DIR:-./cluster}
BASE_PORT=$DEFAULT_BASE_PORT
TIMEOUT=60
GRACE=10
LOG_LEVEL=${LAGRACE_QDRANT_LOG_LEVEL:-$DEFAULT_LOG_LEVEL}
QDRANT_BIN=${QDRANT_BIN:-}
KIND="" NODES="" LOGS="" STOPPED=0 WANT_PEERS=0

need_value() { (($1 >= 2)) || fail_usage "$2 needs a value"; }

(($# > 0)) || {
    usage >&2
    exit 3
}
case $1 in
-h | --help)
    usage
    exit 0
    ;;
stop | status)
    COMMAND=$1
    shift
    ;;
kill | restart)
    COMMAND=$1
    shift
    (($# > 0)) || fail_usage "$COMMAND needs a peer number K"
    PEER_K=$1
    shift
    ;;
*)
    is_uint "$1" || fail_usage "unknown command or node count: $1 (try --help)"
    COMMAND=start
    NODES_COUNT=$1
    shift
    ;;
esac
while (($# > 0)); do
    case $1 in
    --dir)
        need_value $# "$1"
        CLUSTER_DIR=$2
        shift 2
        ;;
    --base-port)
        need_value $# "$1"
        is_uint "$2" || fail_usage "--base-port must be a number, got $2"
        BASE_PORT=$2
        shift 2
        ;;
    --timeout)
        need_value $# "$1"
        if ! is_uint "$2" || (($2 == 0)); then
            fail_usage "--timeout must be a positive number of seconds, got $2"
        fi
        TIMEOUT=$2
        shift 2
        ;;
    --grace)
        need_value $# "$1"
        is_uint "$2" || fail_usage "--grace must be a number of seconds, got $2"
        GRACE=$2
        shift 2
        ;;
    --sim)
        SIM=1
        shift
        ;;
    --grpc-timeout-ms)
        need_value $# "$1"
        if ! is_uint "$2" || (($2 < 100)); then
            fail_usage "--grpc-timeout-ms must be a number of milliseconds >= 100, got $2"
        fi
        GRPC_TIMEOUT_MS=$2
        shift 2
        ;;
    --random-peer-ids)
        RANDOM_PEER_IDS=1
        shift
        ;;
    --mode)
        need_value $# "$1"
        [[ $2 == buggy || $2 == fixed ]] || fail_usage "--mode must be buggy or fixed, got $2"
        SIM_MODE=$2
        shift 2
        ;;
    --seed)
        need_value $# "$1"
        is_uint "$2" || fail_usage "--seed must be a number, got $2"
        SIM_SEED=$2
        shift 2
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) fail_usage "unknown argument: $1 (try --help)" ;;
    esac
done
if [[ $COMMAND != start ]] && { ((SIM)) || [[ -n $SIM_MODE || -n $SIM_SEED || -n $GRPC_TIMEOUT_MS ]] || ((RANDOM_PEER_IDS)); }; then
    fail_usage "--sim/--mode/--seed/--grpc-timeout-ms/--random-peer-ids only go with starting a cluster (N)"
fi
if ((SIM && RANDOM_PEER_IDS)); then
    fail_usage "--random-peer-ids is for real peers (the simulated cluster has its own --peer-ids)"
fi
if [[ $COMMAND == start ]] && ! ((SIM)) && [[ -n $SIM_MODE || -n $SIM_SEED ]]; then
    fail_usage "--mode/--seed need --sim"
fi
command -v curl >/dev/null || fail_usage "curl is required"
command -v python3 >/dev/null || fail_usage "python3 is required (to read JSON)"
mkdir_parent=$(dirname -- "$CLUSTER_DIR")
[[ -d $mkdir_parent ]] || fail_usage "the parent of $CLUSTER_DIR does not exist"
CLUSTER_DIR=$(realpath -m -- "$CLUSTER_DIR")

case $COMMAND in
start) cmd_start ;;
status) cmd_status ;;
stop) cmd_stop ;;
kill) cmd_kill ;;
restart) cmd_restart ;;
esac
