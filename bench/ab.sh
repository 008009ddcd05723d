#!/usr/bin/env bash
# Side-by-side CPU comparison for performance work: two venuecast builds (or configs) and the nginx-rtmp relay run
# AT THE SAME TIME on the same feeds, so the shared machine's noise hits all of them alike (sequential runs on this
# VM swing by ±20 %; B÷A measured side by side is stable to a few %). Not a replacement for scripts/bench.sh, whose
# full run is what BENCHMARKS.md reports; this is the instrument for deciding whether one change helps.
#
#   bench/ab.sh [--venues N] [--outputs M] [--warmup S] [--window S] [--rounds R] [--no-nginx]
#               [--a BINARY] [--b BINARY] [--a-extra YAML] [--b-extra YAML] [--a-env VAR=VALUE] [--b-env VAR=VALUE]
#
# --a/--b: venuecast binaries (default: build/venuecast for both; copy the old build away first to compare builds).
# --a-extra/--b-extra: YAML appended to each of that candidate's venues (e.g. "    slate: off").
# --a-env/--b-env: environment for that candidate (repeatable), e.g. GLIBC_TUNABLES=glibc.malloc.mxfast=0.
# Prints each round's CPU (% of one core per output, from /proc utime+stime of the process) and B÷A, A÷nginx, B÷nginx.
# Everything runs on 127.0.0.1 and is stopped by PID. Needs the clip scripts/bench.sh caches in build/bench-cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
n=4 m=3 warmup=10 window=25 rounds=3 with_nginx=1
a_bin=$ROOT/build/venuecast b_bin=$ROOT/build/venuecast a_extra="" b_extra="" a_env=() b_env=()
while (($#)); do
  case "$1" in
    --venues) n=$2; shift 2 ;;
    --outputs) m=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --no-nginx) with_nginx=0; shift ;;
    --a) a_bin=$(realpath "$2"); shift 2 ;;
    --b) b_bin=$(realpath "$2"); shift 2 ;;
    --a-extra) a_extra=$2; shift 2 ;;
    --b-extra) b_extra=$2; shift 2 ;;
    --a-env) a_env+=("$2"); shift 2 ;;
    --b-env) b_env+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "ab: unknown option $1" >&2; exit 2 ;;
  esac
done
CLIP=$(ls "$ROOT"/build/bench-cache/clip-v1-*.flv 2>/dev/null | head -1 || true)
[[ -s $CLIP ]] || { echo "ab: no cached clip; run scripts/bench.sh --quick once" >&2; exit 1; }
for b in "$a_bin" "$b_bin"; do [[ -x $b ]] || { echo "ab: $b is not executable" >&2; exit 1; }; done

DIR=$(mktemp -d /tmp/venuecast-ab.XXXXXX)
pids=()
start() {  # LOG CMD...
  local log=$1; shift
  (exec setsid "$@" </dev/null >"$log" 2>&1) &
  pids+=("$!")
}
cleanup() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -s CONT "${pids[i]}" 2>/dev/null || true
    kill -s TERM "${pids[i]}" 2>/dev/null || true
  done
  sleep 1
  for p in "${pids[@]}"; do kill -s KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

taken=()
free_port() {
  local i
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + RANDOM % 12000))
    [[ " ${taken[*]} " == *" $port "* ]] && continue
    (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null && continue
    taken+=("$port"); return 0
  done
  return 1
}
nginx_start() {  # NAME APPLICATION_BLOCK -> sets rtmp_port
  local d=$DIR/$1
  mkdir -p "$d/tmp"
  free_port; rtmp_port=$port
  cat >"$d/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
pid "$d/nginx.pid";
error_log "$d/error.log" crit;
events { worker_connections 1024; }
rtmp { server { listen 127.0.0.1:$rtmp_port;
$2
} }
EOF
  start "$d/out.log" nginx -p "$d/" -e "$d/error.log" -c "$d/nginx.conf"
  local i
  for ((i = 0; i < 50; i++)); do (: </dev/tcp/127.0.0.1/"$rtmp_port") 2>/dev/null && return 0; sleep 0.1; done
  echo "ab: nginx $1 did not start" >&2; return 1
}

apps="application live { live on; }"
for ((k = 0; k < m; k++)); do apps+=" application live$k { live on; }"; done
nginx_start endpoint "$apps"; ep=$rtmp_port
relay=0 nginx_pid=""
if ((with_nginx)); then
  # nginx-rtmp's push keeps the stream name: one endpoint application per output keeps them apart.
  pushes=""
  for ((k = 0; k < m; k++)); do pushes+="push rtmp://127.0.0.1:$ep/live$k;"$'\n'; done
  nginx_start relay "application relay { live on;
$pushes}"; relay=$rtmp_port nginx_pid=${pids[-1]}
fi
nginx_start source "application venue { live on; $( ((relay)) && echo "push rtmp://127.0.0.1:$relay/relay; push_reconnect 100ms;") }"
src=$rtmp_port
for ((v = 0; v < n; v++)); do
  start "$DIR/feed-$v.log" ffmpeg -hide_banner -nostdin -nostats -loglevel error -re -stream_loop -1 -i "$CLIP" \
    -c copy -f flv "rtmp://127.0.0.1:$src/venue/v$v"
  sleep "0.$((500 / n))"
done

config() {  # NAME EXTRA
  echo "venues:"
  for ((v = 0; v < n; v++)); do
    printf '  - id: v%d\n    url: rtmp://127.0.0.1:%d/venue/v%d\n' "$v" "$src" "$v"
    [[ -n $2 ]] && printf '%s\n' "$2"
  done
  echo "outputs:"
  for ((v = 0; v < n; v++)); do
    for ((k = 0; k < m; k++)); do
      printf '  - id: v%d-e%d\n    venue: v%d\n    url: rtmp://127.0.0.1:%d/live\n    key: %s-v%d-e%d\n' "$v" "$k" "$v" "$ep" "$1" "$v" "$k"
    done
  done
}
config a "$a_extra" >"$DIR/a.yaml"
config b "$b_extra" >"$DIR/b.yaml"
start "$DIR/a.log" env "${a_env[@]}" "$a_bin" run "$DIR/a.yaml"; a_pid=${pids[-1]}
start "$DIR/b.log" env "${b_env[@]}" "$b_bin" run "$DIR/b.yaml"; b_pid=${pids[-1]}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Context switches of all the process's threads (each is a wake-up: on a paravirtualised VM they cost more than
# the work they do).
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'; }
hz=$(getconf CLK_TCK)
echo "ab: $n venues x $m outputs, A=$a_bin${a_extra:+ [$a_extra]} (pid $a_pid), B=$b_bin${b_extra:+ [$b_extra]} (pid $b_pid), nginx relay pid ${nginx_pid:-none}; results in $DIR"
sleep "$warmup"
printf '%-6s %9s %9s %9s %8s %8s %8s %9s %9s %9s\n' round A% B% nginx% 'B/A' 'A/ngx' 'B/ngx' 'A cs/s' 'B cs/s' 'ngx cs/s'
for ((r = 1; r <= rounds; r++)); do
  a0=$(ticks "$a_pid") b0=$(ticks "$b_pid") g0=0 as0=$(switches "$a_pid") bs0=$(switches "$b_pid") gs0=0
  [[ -n $nginx_pid ]] && g0=$(ticks "$nginx_pid") gs0=$(switches "$nginx_pid")
  sleep "$window"
  a1=$(ticks "$a_pid") b1=$(ticks "$b_pid") g1=0 as1=$(switches "$a_pid") bs1=$(switches "$b_pid") gs1=0
  [[ -n $nginx_pid ]] && g1=$(ticks "$nginx_pid") gs1=$(switches "$nginx_pid")
  awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v g=$((g1 - g0)) -v hz="$hz" -v w="$window" -v outs=$((n * m)) -v r="$r" \
      -v as=$((as1 - as0)) -v bs=$((bs1 - bs0)) -v gs=$((gs1 - gs0)) 'BEGIN {
    pa = 100 * a / hz / w / outs; pb = 100 * b / hz / w / outs; pg = 100 * g / hz / w / outs
    printf "%-6s %9.3f %9.3f %9.3f %8.3f %8s %8s %9.0f %9.0f %9.0f\n", r, pa, pb, pg, (a ? b / a : 0),
      (g ? sprintf("%.3f", a / g) : "-"), (g ? sprintf("%.3f", b / g) : "-"), as / w, bs / w, gs / w }'
done
