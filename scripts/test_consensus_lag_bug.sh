#!/usr/bin/env bash
# test_consensus_lag_bug.sh: the consensus-lag reproduction as first described, with bash + curl
# (python3 -c only to read JSON). Works against a run_cluster.sh cluster, the simulated cluster
# or any Qdrant cluster built with the `staging` feature.
#
#   test_consensus_lag_bug.sh [--nodes URL,URL,...|URL URL ...] [--logs LOG,LOG,...]
#       [--cluster-dir DIR] [--duration S] [--settle S] [--interval S] [--create-offset S]
#       [--workers N] [--rate R] [--ordering weak|medium|strong] [--through K|round-robin]
#       [--recreate] [--keep] [--quiet] [--api-key KEY]
#
# 1. creates existing_collection (3 shards, replication factor 3) through node 1 and waits until
#    every replica is Active in every peer's view (refuses if it exists, unless --recreate);
# 2. starts upserts into it (bounded, --workers loops, --rate writes/s in all, default 8 and 25,
#    10 points each, wait=true, --ordering strong, all through --through node 2, the lagging
#    one): the recipe that reproduced on real Qdrant v1.16.2 (notes §4.8); --ordering weak is
#    the control that does not;
# 3. sends test_slow_down for node 2's peer for --duration seconds (default 20) through node 1;
# 4. --create-offset seconds later (default 1) creates new_collection through node 1;
# 5. every --interval seconds (default 0.5) reads GET /collections/existing_collection/cluster on
#    every node and greps the logs (if given) for the two WARNs, until the lag is over and the
#    cluster has settled (all Active, same commit, nothing pending, for 5 s), or --settle seconds
#    (default 60) after the lag;
# 6. prints a timeline and the verdict, and deletes both collections unless --keep.
#    (Events are also shown live on stderr as they happen, unless --quiet.)
#
# Without --nodes it reads NODES/LOGS from the run_cluster.sh directory (--cluster-dir, else
# $LAGRACE_CLUSTER_DIR, else ./cluster).
#
# Exit codes: 0 not reproduced; 1 reproduced (a replica of existing_collection left Active in
# some peer's view, or a WARN appeared); 2 inconclusive (the slow-down failed, the collection
# never became Active, or the cluster did not settle); 3 usage or environment error.
#
# Not `set -e`: the monitor loop tests every status itself (grep finding nothing is normal).
set -uo pipefail

PROG=test_consensus_lag_bug.sh
EXISTING=existing_collection
NEW=new_collection
WARN_RE='WARN .*(Replica [0-9]+ of shard [0-9]+ has state Some\(Dead\), but expected Some\(Active\)|Cannot deactivate the last active replica [0-9]+ of shard [0-9]+)'
SLEEP_RE='TestSlowDown: (sleeping for [0-9]+ms|finished sleeping) on peer [0-9]+'

usage() {
    sed -n '/^#   test_consensus_lag_bug.sh/,/^#$/s/^#   //p' "${BASH_SOURCE[0]}"
}

fail_usage() {
    echo "$PROG: $*" >&2
    exit 3
}

is_number() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }

# ---------------------------------------------------------------------------------------------
# options

NODES_ARG="" LOGS_ARG="" CLUSTER_DIR="" DURATION=20 SETTLE=60 INTERVAL=0.5 CREATE_OFFSET=1
WORKERS=8 RATE=25 ORDERING=strong THROUGH=2 RECREATE=0 KEEP=0 QUIET=0 API_KEY=${QDRANT_API_KEY:-}
declare -a POSITIONAL=()

need_value() { (($1 >= 2)) || fail_usage "$2 needs a value"; }

while (($# > 0)); do
    case $1 in
    --nodes)
        need_value $# "$1"
        NODES_ARG=$2
        shift 2
        ;;
    --logs)
        need_value $# "$1"
        LOGS_ARG=$2
        shift 2
        ;;
    --cluster-dir)
        need_value $# "$1"
        CLUSTER_DIR=$2
        shift 2
        ;;
    --duration | --settle | --interval | --create-offset)
        need_value $# "$1"
        is_number "$2" || fail_usage "$1 must be a number of seconds, got $2"
        case $1 in
        --duration) DURATION=$2 ;;
        --settle) SETTLE=$2 ;;
        --interval) INTERVAL=$2 ;;
        --create-offset) CREATE_OFFSET=$2 ;;
        esac
        shift 2
        ;;
    --workers)
        need_value $# "$1"
        if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 > 16)); then
            fail_usage "--workers must be 0..16, got $2"
        fi
        WORKERS=$2
        shift 2
        ;;
    --rate)
        need_value $# "$1"
        if ! is_number "$2" || [[ $2 =~ ^0+([.]0+)?$ ]]; then
            fail_usage "--rate must be a positive number of writes per second, got $2"
        fi
        RATE=$2
        shift 2
        ;;
    --ordering)
        need_value $# "$1"
        [[ $2 == weak || $2 == medium || $2 == strong ]] || fail_usage "--ordering must be weak, medium or strong, got $2"
        ORDERING=$2
        shift 2
        ;;
    --through)
        need_value $# "$1"
        [[ $2 == round-robin || $2 =~ ^[1-9][0-9]*$ ]] || fail_usage "--through must be a node number or round-robin, got $2"
        THROUGH=$2
        shift 2
        ;;
    --api-key)
        need_value $# "$1"
        API_KEY=$2
        shift 2
        ;;
    --recreate)
        RECREATE=1
        shift
        ;;
    --keep)
        KEEP=1
        shift
        ;;
    --quiet)
        QUIET=1
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    -*) fail_usage "unknown option: $1 (try --help)" ;;
    *)
        POSITIONAL+=("$1")
        shift
        ;;
    esac
done

command -v curl >/dev/null || fail_usage "curl is required"
command -v python3 >/dev/null || fail_usage "python3 is required (to read JSON)"

if ((${#POSITIONAL[@]} > 0)); then
    [[ -z $NODES_ARG ]] || fail_usage "give the nodes either as arguments or with --nodes, not both"
    NODES_ARG=$(IFS=,; echo "${POSITIONAL[*]}")
fi
if [[ -z $NODES_ARG ]]; then
    dir=${CLUSTER_DIR:-${LAGRACE_CLUSTER_DIR:-./cluster}}
    [[ -f $dir/cluster.env ]] || fail_usage "no nodes given (--nodes URL,URL,URL) and no run_cluster.sh cluster in $dir"
    # shellcheck source=/dev/null  # written by run_cluster.sh, values quoted with %q
    NODES_ARG=$(source "$dir/cluster.env" && echo "$NODES")
    # shellcheck source=/dev/null
    [[ -n $LOGS_ARG ]] || LOGS_ARG=$(source "$dir/cluster.env" && echo "$LOGS")
elif [[ -n $CLUSTER_DIR ]]; then
    fail_usage "--cluster-dir and --nodes exclude each other"
fi

declare -a URLS=() LOGFILES=()
IFS=, read -r -a URLS <<<"$NODES_ARG"
for i in "${!URLS[@]}"; do
    URLS[i]=${URLS[i]%/}
    [[ ${URLS[i]} =~ ^https?://[^/]+$ ]] || fail_usage "not a node URL: ${URLS[i]}"
done
N=${#URLS[@]}
((N >= 2)) || fail_usage "need at least 2 nodes (node 2 is slowed down through node 1), got $N"
if [[ $THROUGH != round-robin ]] && ((THROUGH > N)); then
    fail_usage "--through $THROUGH: there are only $N nodes"
fi
if [[ -n $LOGS_ARG ]]; then
    IFS=, read -r -a LOGFILES <<<"$LOGS_ARG"
    ((${#LOGFILES[@]} == N)) || fail_usage "--logs has ${#LOGFILES[@]} files for $N nodes"
    for f in "${LOGFILES[@]}"; do
        [[ -r $f ]] || fail_usage "log file not readable: $f"
    done
fi
awk -v d="$DURATION" 'BEGIN { exit !(d > 0 && d <= 300) }' || fail_usage "--duration must be in (0, 300] (Qdrant's limit), got $DURATION"
awk -v i="$INTERVAL" 'BEGIN { exit !(i >= 0.05) }' || fail_usage "--interval must be at least 0.05, got $INTERVAL"

# ---------------------------------------------------------------------------------------------
# clock, timeline, HTTP

T0_US=${EPOCHREALTIME/./}
now_ms() { echo $(((${EPOCHREALTIME/./} - T0_US) / 1000)); }
fmt_ms() { printf '+%d.%03ds' $(($1 / 1000)) $(($1 % 1000)); }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lagbug.XXXXXX")
TIMELINE=$WORK/timeline
: >"$TIMELINE"

# event TEXT: a timeline entry at the current instant (also shown live on stderr)
event() {
    local ms
    ms=$(now_ms)
    printf '%012d\t%s\n' "$ms" "$1" >>"$TIMELINE"
    ((QUIET)) || printf '%s %s\n' "$(fmt_ms "$ms")" "$1" >&2
}

declare -a CURL_AUTH=()
[[ -z $API_KEY ]] || CURL_AUTH=(-H "api-key: $API_KEY")

# api METHOD URL OUTFILE [BODY] [MAX_TIME]: prints the HTTP status (000 when no answer)
api() {
    local method=$1 url=$2 out=$3 body=${4:-} max=${5:-10}
    local -a data=()
    [[ -z $body ]] || data=(-H 'Content-Type: application/json' --data-binary "$body")
    curl -sS -o "$out" -w '%{http_code}' --max-time "$max" -X "$method" "${CURL_AUTH[@]}" \
        "${data[@]}" "$url" 2>"$out.err" || true
}

# json_get FILE EXPR: evaluate a Python expression on the parsed body `r` (empty on failure)
json_get() {
    python3 -c '
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    v = eval(sys.argv[2], {}, {"r": r})
except (ValueError, KeyError, TypeError, IndexError, AttributeError, OSError):
    sys.exit(0)
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else v))
' "$1" "$2"
}

# error_text FILE: the Qdrant error message of a response body, or its first 200 bytes
error_text() {
    local text
    text=$(json_get "$1" 'r["status"]["error"]')
    if [[ -z $text ]]; then
        text=$(head -c 200 "$1" 2>/dev/null | tr '\n' ' ')
        [[ -n $text ]] || text=$(head -c 200 "$1.err" 2>/dev/null | tr '\n' ' ')
    fi
    echo "$text"
}

# ---------------------------------------------------------------------------------------------
# background jobs and cleanup

declare -a UPSERT_PIDS=()
CREATE_PID="" CREATED_EXISTING=0 CREATE_SENT=0 CLEANED=0

stop_background() {
    : >"$WORK/stop"
    local pid deadline=$((SECONDS + 40))  # in-flight writes drain before any delete
    local -a pids=("${UPSERT_PIDS[@]}")
    [[ -z $CREATE_PID ]] || pids+=("$CREATE_PID")
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    UPSERT_PIDS=()
    CREATE_PID=""
}

delete_collection() { # name
    local code
    code=$(api DELETE "${URLS[0]}/collections/$1?timeout=60" "$WORK/delete" "" 70)
    if [[ $code == 200 ]]; then
        echo "deleted $1" >&2
    else
        echo "$PROG: warning: could not delete $1 (HTTP $code: $(error_text "$WORK/delete"))" >&2
    fi
}

cleanup_collections() {
    ((CLEANED)) && return 0
    CLEANED=1
    if ((KEEP)); then
        ((CREATED_EXISTING || CREATE_SENT)) && echo "kept $EXISTING and $NEW (--keep); the next run needs --recreate" >&2
        return 0
    fi
    if ((CREATE_SENT)); then delete_collection "$NEW"; fi
    if ((CREATED_EXISTING)); then delete_collection "$EXISTING"; fi
}

# shellcheck disable=SC2317  # invoked by the traps below
on_exit() {
    stop_background
    rm -rf "$WORK"
}

# shellcheck disable=SC2317  # invoked by the traps below
on_signal() {
    echo "$PROG: interrupted; cleaning up" >&2
    stop_background
    cleanup_collections
    exit 2
}

trap on_exit EXIT
trap on_signal INT TERM

# ---------------------------------------------------------------------------------------------
# preflight: every node answers /cluster in cluster mode; peer ids

declare -a PEERS=()
for ((k = 1; k <= N; k++)); do
    code=$(api GET "${URLS[k - 1]}/cluster" "$WORK/cluster")
    [[ $code == 200 ]] || fail_usage "node $k (${URLS[k - 1]}) does not answer GET /cluster (HTTP $code: $(error_text "$WORK/cluster"))"
    [[ $(json_get "$WORK/cluster" 'r["result"]["status"]') == enabled ]] || fail_usage "node $k (${URLS[k - 1]}) is not in cluster mode"
    PEERS[k]=$(json_get "$WORK/cluster" 'r["result"]["peer_id"]')
    [[ ${PEERS[k]} =~ ^[0-9]+$ ]] || fail_usage "node $k (${URLS[k - 1]}): no peer_id in GET /cluster"
done
if (($(printf '%s\n' "${PEERS[@]}" | sort -u | wc -l) != N)); then
    fail_usage "two node URLs lead to the same peer (peer ids: ${PEERS[*]})"
fi
code=$(api GET "${URLS[0]}/telemetry?details_level=1" "$WORK/telemetry")
if [[ $code == 200 && $(json_get "$WORK/telemetry" 'r["result"]["app"]["features"]["staging"]') == False ]]; then
    fail_usage "node 1 runs Qdrant without the staging feature (no test_slow_down); build it with --features staging"
fi
TARGET_PEER=${PEERS[2]}
echo "nodes: $(for ((k = 1; k <= N; k++)); do printf '%s=peer %s  ' "$k" "${PEERS[k]}"; done)" >&2

# ---------------------------------------------------------------------------------------------
# the existing collection

for name in "$EXISTING" "$NEW"; do
    code=$(api GET "${URLS[0]}/collections/$name" "$WORK/get")
    case $code in
    404) ;;
    200)
        ((RECREATE)) || fail_usage "$name already exists (an earlier run with --keep?); rerun with --recreate to delete it first"
        code=$(api DELETE "${URLS[0]}/collections/$name?timeout=60" "$WORK/delete" "" 70)
        [[ $code == 200 ]] || fail_usage "could not delete $name (HTTP $code: $(error_text "$WORK/delete"))"
        echo "deleted the previous $name (--recreate)" >&2
        ;;
    *) fail_usage "GET /collections/$name on node 1 answered HTTP $code: $(error_text "$WORK/get")" ;;
    esac
done

COLLECTION_BODY='{"vectors":{"size":4,"distance":"Cosine"},"shard_number":3,"replication_factor":3}'
code=$(api PUT "${URLS[0]}/collections/$EXISTING?timeout=60" "$WORK/create" "$COLLECTION_BODY" 130)
CREATED_EXISTING=1 # even a failed create may be applied later; clean it up either way
if [[ $code != 200 ]]; then
    echo "$PROG: creating $EXISTING failed (HTTP $code: $(error_text "$WORK/create"))" >&2
    cleanup_collections
    exit 3
fi
event "created $EXISTING (3 shards, replication factor 3) through node 1"

# snapshot: one line per node: K <TAB> ok|down|http-CODE|bad <TAB> shard:peer=State,... <TAB> commit
snapshot() {
    local k
    local -a pids=()
    for ((k = 1; k <= N; k++)); do
        api GET "${URLS[k - 1]}/collections/$EXISTING/cluster" "$WORK/view-$k" "" 2 >"$WORK/view-$k.code" &
        pids+=($!)
        api GET "${URLS[k - 1]}/cluster" "$WORK/raft-$k" "" 2 >"$WORK/raft-$k.code" &
        pids+=($!)
    done
    wait "${pids[@]}"
    python3 -c '
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
def load(name):
    try:
        code = open(f"{work}/{name}.code").read().strip()
        if code != "200":
            return ("down" if code in ("", "000") else f"http-{code}"), None
        return "ok", json.load(open(f"{work}/{name}"))["result"]
    except (OSError, ValueError, KeyError, TypeError):
        return "bad", None
for k in range(1, n + 1):
    status, view = load(f"view-{k}")
    states = []
    if view is not None:
        try:
            me = view["peer_id"]
            for s in view.get("local_shards", []):
                states.append((s["shard_id"], me, s["state"]))
            for s in view.get("remote_shards", []):
                states.append((s["shard_id"], s["peer_id"], s["state"]))
        except (KeyError, TypeError):
            status, states = "bad", []
    _, raft = load(f"raft-{k}")
    try:
        commit = str(raft["raft_info"]["commit"])
        # a peer with operations pending is still applying (or frozen inside one): not settled
        if raft["raft_info"].get("pending_operations", 0):
            commit = "-"
    except (KeyError, TypeError):
        commit = "-"
    text = ",".join(f"{s}:{p}={st}" for s, p, st in sorted(states)) or "-"
    print(f"{k}\t{status}\t{text}\t{commit}")
' "$WORK" "$N"
}

# all_entries_active "shard:peer=State,...": every state is Active (and there is at least one)
all_entries_active() {
    local entry
    local -a entries
    [[ $1 != - ]] || return 1
    IFS=, read -r -a entries <<<"$1"
    for entry in "${entries[@]}"; do
        [[ ${entry#*=} == Active ]] || return 1
    done
}

# wait until every replica is Active in every node's view (bounded)
deadline=$((SECONDS + 60))
while :; do
    all_active=1
    while IFS=$'\t' read -r _ status states _; do
        if [[ $status != ok ]] || ! all_entries_active "$states"; then all_active=0; fi
    done < <(snapshot)
    ((all_active)) && break
    if ((SECONDS >= deadline)); then
        echo "$PROG: $EXISTING did not become Active on every peer within 60 s" >&2
        cleanup_collections
        exit 2
    fi
    sleep 0.5
done
event "every replica of $EXISTING is Active in every node's view"

# ---------------------------------------------------------------------------------------------
# upserts (bounded)

RUN_BOUND_S=$(awk -v d="$DURATION" -v s="$SETTLE" 'BEGIN { printf "%d", d + s + 60 }')
CALM_POLLS=$(awk -v i="$INTERVAL" 'BEGIN { n = int(5 / i + 0.999); print (n < 2 ? 2 : n) }')

# each loop's i-th write is due at start + i * WORKERS/RATE seconds, the same schedule for every
# loop (so the writes go out in bursts, as lagrace's open-loop hammer sends them) and kept
# whatever the answers take (a late loop sends at once); a write that hangs in a frozen peer
# still holds its loop, as a client would be held. A write may take Qdrant's internal timeouts
# to answer (~21 s with grpc_timeout_ms 5000), so curl waits up to 240 s: a client that gave up
# earlier would drop the request and its table-of-contents guard with it
PACE_MS=$(awk -v w="$WORKERS" -v r="$RATE" 'BEGIN { printf "%d", 1000 * (w > 0 ? w : 1) / r }')

upsert_loop() { # worker
    local w=$1 i=0 k code ms points j id due wait_ms
    local end=$((SECONDS + RUN_BOUND_S)) start
    start=$(now_ms)
    while [[ ! -e $WORK/stop ]] && ((SECONDS < end)); do
        if [[ $THROUGH == round-robin ]]; then k=$(((i + w) % N + 1)); else k=$THROUGH; fi
        points=""
        for ((j = 0; j < 10; j++)); do
            id=$(((w * 100000 + i * 10 + j) % 1000000))
            points+="${points:+,}{\"id\":$id,\"vector\":[0.1,0.2,0.3,0.4],\"payload\":{\"w\":$w}}"
        done
        code=$(api PUT "${URLS[k - 1]}/collections/$EXISTING/points?wait=true&ordering=$ORDERING" \
            "$WORK/up-$w" "{\"points\":[$points]}" 240)
        ms=$(now_ms)
        if [[ $code == 200 ]]; then
            echo "$ms ok $k" >>"$WORK/upserts-$w"
        else
            echo "$ms fail $k $code $(error_text "$WORK/up-$w" | head -c 160)" >>"$WORK/upserts-$w"
        fi
        i=$((i + 1))
        due=$((start + i * PACE_MS))
        wait_ms=$((due - $(now_ms)))
        if ((wait_ms > 0)); then sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"; fi
    done
}

for ((w = 0; w < WORKERS; w++)); do
    : >"$WORK/upserts-$w"
    upsert_loop "$w" &
    UPSERT_PIDS+=($!)
done
((WORKERS > 0)) && event "started $WORKERS upsert loop(s) on $EXISTING (10 points per request, wait=true, ordering=$ORDERING, through node $THROUGH, $RATE/s in all)"

# ---------------------------------------------------------------------------------------------
# logs: scan new complete lines since the start

declare -a LOG_OFFSETS=()
for ((k = 1; k <= N; k++)); do
    if ((${#LOGFILES[@]} > 0)); then
        LOG_OFFSETS[k]=$(stat -c %s "${LOGFILES[k - 1]}" 2>/dev/null || echo 0)
    fi
done
WARNS=0
: >"$WORK/warns"

scan_logs() {
    ((${#LOGFILES[@]} > 0)) || return 0
    local k f size off len partial line
    for ((k = 1; k <= N; k++)); do
        f=${LOGFILES[k - 1]}
        size=$(stat -c %s "$f" 2>/dev/null || echo 0)
        off=${LOG_OFFSETS[k]}
        ((size < off)) && off=0 # truncated or replaced
        ((size > off)) || continue
        tail -c +"$((off + 1))" "$f" | head -c "$((size - off))" >"$WORK/chunk"
        len=$(wc -c <"$WORK/chunk")
        partial=0
        if [[ $(tail -c 1 "$WORK/chunk" | od -An -c | tr -d ' ') != '\n' ]]; then
            partial=$(tail -n 1 "$WORK/chunk" | wc -c)
        fi
        len=$((len - partial))
        LOG_OFFSETS[k]=$((off + len))
        ((len > 0)) || continue
        while IFS= read -r line; do
            if [[ $line =~ $WARN_RE ]]; then
                WARNS=$((WARNS + 1))
                event "node $k (peer ${PEERS[k]}) WARN at ${line%% *}: ${BASH_REMATCH[1]}"
                printf 'node %s: %s\n' "$k" "$line" >>"$WORK/warns"
            elif [[ $line =~ $SLEEP_RE ]]; then
                event "node $k (peer ${PEERS[k]}) log: ${BASH_REMATCH[0]}"
            fi
        done < <(head -c "$len" "$WORK/chunk" | grep -E -e "$WARN_RE" -e "$SLEEP_RE")
    done
}

# ---------------------------------------------------------------------------------------------
# the race: slow-down, create, monitor

SLOW_BODY=$(printf '{"test_slow_down":{"peer_id":%s,"duration":%s}}' "$TARGET_PEER" "$DURATION")
code=$(api POST "${URLS[0]}/collections/$EXISTING/cluster?timeout=30" "$WORK/slow" "$SLOW_BODY" 40)
SLOW_MS=$(now_ms)
SLOW_FAILED=0
if [[ $code == 200 ]]; then
    event "test_slow_down sent through node 1: node 2 (peer $TARGET_PEER) sleeps ${DURATION}s -> HTTP 200"
else
    SLOW_FAILED=1
    event "test_slow_down through node 1 FAILED: HTTP $code: $(error_text "$WORK/slow")"
fi

create_new() {
    local code err=""
    code=$(api PUT "${URLS[0]}/collections/$NEW" "$WORK/create-new" "$COLLECTION_BODY" 120)
    [[ $code == 200 ]] || err=$(error_text "$WORK/create-new" | head -c 200)
    printf '%s\t%s\t%s\n' "$(now_ms)" "$code" "$err" >"$WORK/create.done"
}

DURATION_MS=$(awk -v d="$DURATION" 'BEGIN { printf "%d", d * 1000 }')
SETTLE_MS=$(awk -v s="$SETTLE" 'BEGIN { printf "%d", s * 1000 }')
OFFSET_MS=$(awk -v o="$CREATE_OFFSET" 'BEGIN { printf "%d", o * 1000 }')
declare -A SEEN=()    # "node|shard:peer" -> last state seen
declare -A STATUS=()  # node -> last view status
DISRUPTIONS=0 CREATE_DONE=0 SETTLED=0 CALM=0

while ((!SLOW_FAILED)); do
    ms=$(now_ms)
    if ((!CREATE_SENT && ms - SLOW_MS >= OFFSET_MS)); then
        CREATE_SENT=1
        event "creating $NEW (3 shards, replication factor 3) through node 1"
        create_new &
        CREATE_PID=$!
    fi
    if ((CREATE_SENT && !CREATE_DONE)) && [[ -s $WORK/create.done ]]; then
        CREATE_DONE=1
        IFS=$'\t' read -r done_ms done_code done_err <"$WORK/create.done"
        printf '%012d\t%s\n' "$done_ms" "create of $NEW returned HTTP $done_code${done_err:+: $done_err}" >>"$TIMELINE"
        ((QUIET)) || printf '%s %s\n' "$(fmt_ms "$done_ms")" "create of $NEW returned HTTP $done_code" >&2
    fi
    all_active=1
    commits=""
    declare -A CHANGES=() # "node|replica peer|from|to" -> shard ids, grouped per poll
    while IFS=$'\t' read -r k status states commit; do
        if [[ ${STATUS[$k]:-ok} != "$status" ]]; then
            event "node $k (peer ${PEERS[k]}): GET /collections/$EXISTING/cluster -> $status"
        fi
        STATUS[$k]=$status
        commits+="$commit "
        [[ $status == ok ]] || {
            all_active=0
            continue
        }
        IFS=, read -r -a entries <<<"$states"
        for entry in "${entries[@]}"; do
            [[ $entry == - ]] && continue
            key=${entry%%=*}
            state=${entry#*=}
            prev=${SEEN["$k|$key"]:-Active}
            if [[ $state != "$prev" ]]; then
                change="$k|${key#*:}|$prev|$state"
                CHANGES[$change]="${CHANGES[$change]:+${CHANGES[$change]},}${key%%:*}"
            fi
            SEEN["$k|$key"]=$state
            if [[ $state != Active ]]; then
                all_active=0
                if [[ $prev == Active ]]; then DISRUPTIONS=$((DISRUPTIONS + 1)); fi
            fi
        done
    done < <(snapshot)
    for change in "${!CHANGES[@]}"; do
        IFS='|' read -r k replica from to <<<"$change"
        event "node $k (peer ${PEERS[k]}) sees the replica on peer $replica of shard(s) ${CHANGES[$change]}: $from -> $to"
    done
    unset CHANGES
    scan_logs
    same_commit=0
    if [[ $commits != *-* ]] && (($(tr ' ' '\n' <<<"$commits" | sed '/^$/d' | sort -u | wc -l) == 1)); then
        same_commit=1
    fi
    if ((ms - SLOW_MS >= DURATION_MS && CREATE_DONE && all_active && same_commit)); then
        CALM=$((CALM + 1))
        # held for 5 s: a peer that woke may freeze on the create a moment later (notes §4.8)
        if ((CALM >= CALM_POLLS)); then
            SETTLED=1
            event "settled: the lag is over, $NEW's create returned, every replica of $EXISTING Active everywhere, same commit and nothing pending on every node, for 5 s"
            break
        fi
    else
        CALM=0
    fi
    if ((ms - SLOW_MS >= DURATION_MS + SETTLE_MS)); then
        event "not settled ${SETTLE}s after the lag (bound reached)"
        break
    fi
    sleep "$INTERVAL"
done

stop_background
if ((CREATE_SENT && !CREATE_DONE)) && [[ -s $WORK/create.done ]]; then
    IFS=$'\t' read -r done_ms done_code done_err <"$WORK/create.done"
    printf '%012d\t%s\n' "$done_ms" "create of $NEW returned HTTP $done_code${done_err:+: $done_err}" >>"$TIMELINE"
fi
scan_logs

# ---------------------------------------------------------------------------------------------
# report

ok=0 failed=0
for ((w = 0; w < WORKERS; w++)); do
    while read -r ms result k rest; do
        if [[ $result == ok ]]; then
            ok=$((ok + 1))
        else
            failed=$((failed + 1))
            ((failed <= 10)) && printf '%012d\t%s\n' "$ms" "upsert through node $k failed: $rest" >>"$TIMELINE"
        fi
    done <"$WORK/upserts-$w"
done

echo
echo "timeline (seconds since the script started; node K = the K-th URL):"
sort -n "$TIMELINE" | while IFS=$'\t' read -r ms text; do
    printf '  %s  %s\n' "$(fmt_ms "$((10#$ms))")" "$text"
done
echo
echo "upserts on $EXISTING: $((ok + failed)) requests, $ok ok, $failed failed"
if ((${#LOGFILES[@]} == 0)); then
    echo "logs: not given (--logs); only the replica states were watched"
fi
if ((WARNS > 0)); then
    echo "WARN lines ($WARNS):"
    sed 's/^/  /' "$WORK/warns"
fi

if ((DISRUPTIONS > 0 || WARNS > 0)); then
    echo "verdict: REPRODUCED: $DISRUPTIONS replica state change(s) away from Active in $EXISTING, $WARNS WARN line(s)"
    rc=1
elif ((SLOW_FAILED)); then
    echo "verdict: INCONCLUSIVE: the slow-down request failed"
    rc=2
elif ((!SETTLED)); then
    echo "verdict: INCONCLUSIVE: no anomaly seen, but the cluster did not settle within ${SETTLE}s after the lag"
    rc=2
else
    echo "verdict: NOT REPRODUCED: every replica of $EXISTING stayed Active in every view, no WARN"
    rc=0
fi
cleanup_collections
exit "$rc"
