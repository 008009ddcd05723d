#!/usr/bin/env bash
# Benchmarks venuecast against an nginx-rtmp relay and ffmpeg's tee muxer on this machine, all on 127.0.0.1.
# For every scenario it starts a source nginx-rtmp, N venue feeds (ffmpeg -re -stream_loop -1 -c copy of a
# generated 1080p30 6 Mbit/s clip) and M endpoint nginx-rtmp instances, then runs the candidates one after
# another on them: venuecast; nginx-rtmp as the relay (source push -> relay nginx push -> endpoints); ffmpeg
# with the tee muxer, one process per venue. build/bench/venuecast-bench-probe starts each candidate and
# measures it (CPU, RSS/PSS, delivery, latency, time to first keyframe); BENCHMARKS.md describes how.
# Everything this script starts is stopped by PID on exit or Ctrl-C; it touches nothing else.
#
#   scripts/bench.sh                 full run: 4x3, 16x4, stall-4x3, push-4x3; writes BENCHMARKS.md
#   scripts/bench.sh --quick         4x3 with a short window (under 3 minutes); prints the table only
#     --scenarios LIST    comma-separated, each NxM (N venues, M endpoints), stall-NxM (the last endpoint is
#                         SIGSTOPped 15 s into the window for 15 s) or push-NxM (the venues publish to the
#                         candidate: venuecast's push ingest vs nginx-rtmp); default 4x3,16x4,stall-4x3,push-4x3
#     --candidates LIST   subset of venuecast,nginx,ffmpeg (default all three)
#     --warmup S          seconds from a candidate's start to the window (default 10, --quick 8)
#     --window S          measuring window in seconds (default 60, --quick 20; a stall needs at least 35)
#     --no-write          do not write BENCHMARKS.md (the report stays in the results directory)
#   VENUECAST_BENCH_CLIP=FILE  use this FLV (H.264 + AAC) instead of the generated clip, e.g. a small one to
#                         try the script out; the report then describes FILE, not the standard clip
#   VENUECAST_BENCH_LOG=LEVEL  venuecast's --log-level (e.g. debug: the timeline of a start in its log)
#   VENUECAST_BENCH_BINARY=FILE  run this venuecast instead of build/venuecast (a wrapper, e.g. strace, or an older build)
#   Results (JSON per candidate, configs, logs, report.md) go to build/bench-results/<UTC time>[-quick]/.
#   The clip is generated once into build/bench-cache/ (delete it to regenerate). The script exits 0 if every
#   target passed, 3 if a target failed, 1 if something broke.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ORIG_ARGS=("$@")

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

quick=0 scenarios="" candidates="venuecast,nginx,ffmpeg" warmup="" window="" write_md=1
while (($#)); do
  case "$1" in
    --quick) quick=1; shift ;;
    --scenarios) scenarios=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --scenarios=*) scenarios=${1#*=}; shift ;;
    --candidates) candidates=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --candidates=*) candidates=${1#*=}; shift ;;
    --warmup) warmup=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --warmup=*) warmup=${1#*=}; shift ;;
    --window) window=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --window=*) window=${1#*=}; shift ;;
    --no-write) write_md=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
# BENCHMARKS.md holds the latest *full* run: all scenarios and candidates, the standard clip.
[[ -n $scenarios || $candidates != venuecast,nginx,ffmpeg || -n ${VENUECAST_BENCH_CLIP:-} || -n ${VENUECAST_BENCH_BINARY:-} ]] && write_md=0
if ((quick)); then
  : "${scenarios:=4x3}" "${warmup:=8}" "${window:=20}"
  write_md=0
else
  : "${scenarios:=4x3,16x4,stall-4x3,push-4x3}" "${warmup:=10}" "${window:=60}"
fi
[[ $warmup =~ ^[0-9]+$ && $window =~ ^[0-9]+$ ]] || { echo "bench: --warmup/--window: whole seconds" >&2; exit 2; }
IFS=, read -r -a SCENARIOS <<<"$scenarios"
IFS=, read -r -a CANDIDATES <<<"$candidates"
for s in "${SCENARIOS[@]}"; do
  [[ $s =~ ^(stall-|push-)?([0-9]+)x([0-9]+)$ ]] || { echo "bench: bad scenario '$s' (NxM, stall-NxM or push-NxM)" >&2; exit 2; }
  ((BASH_REMATCH[2] >= 1 && BASH_REMATCH[3] >= 1)) || { echo "bench: bad scenario '$s'" >&2; exit 2; }
  if [[ ${BASH_REMATCH[1]} == stall- ]] && ((window < 35)); then echo "bench: a stall scenario needs --window >= 35" >&2; exit 2; fi
done
for c in "${CANDIDATES[@]}"; do
  [[ $c =~ ^(venuecast|nginx|ffmpeg)$ ]] || { echo "bench: unknown candidate '$c'" >&2; exit 2; }
done
STALL_AT=15 STALL_FOR=15

if [[ -t 1 ]]; then c_on=$'\033[1;36m' w_on=$'\033[1;33m' c_off=$'\033[0m'; else c_on="" w_on="" c_off=""; fi
say() { printf '%sbench:%s %s\n' "$c_on" "$c_off" "$*"; }
warn() { printf '%sbench:%s %s\n' "$w_on" "$c_off" "$*" >&2; }
T_START=$SECONDS

# ---- 1. packages + build ----------------------------------------------------------------------
say "installing packages and building (scripts/setup.sh) ..."
scripts/setup.sh
VENUECAST=${VENUECAST_BENCH_BINARY:-$ROOT/build/venuecast}
PROBE=$ROOT/build/bench/venuecast-bench-probe
if [[ ! -x $PROBE ]]; then  # a build directory configured with -DVENUECAST_BENCH=OFF
  cmake -S . -B build -DVENUECAST_BENCH=ON >/dev/null
  cmake --build build -j "$(nproc)" --target venuecast-bench-probe
fi
for f in "$VENUECAST" "$PROBE"; do [[ -x $f ]] || { echo "bench: $f is missing; did the build fail?" >&2; exit 1; }; done
[[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ]] || { echo "bench: nginx-rtmp is missing; run scripts/setup.sh" >&2; exit 1; }

# ---- 2. the clip (generated once, cached) -----------------------------------------------------
CACHE=$ROOT/build/bench-cache
CLIP=$CACHE/clip-v1-1080p30-h264high-bf2-g60-cbr6M-aac128k48k-20s.flv
CLIP_DESC="20 s 1080p30 H.264 High (x264 veryfast, 2 B-frames, closed 60-frame GOP, 6 Mbit/s CBR nal-hrd), testsrc2 + temporal noise; AAC-LC 128 kbit/s 48 kHz stereo (pink noise)"
if [[ -n ${VENUECAST_BENCH_CLIP:-} ]]; then
  CLIP=$(realpath "$VENUECAST_BENCH_CLIP")
  CLIP_DESC="$CLIP (VENUECAST_BENCH_CLIP, not the standard clip): $(ffprobe -v error -show_entries stream=codec_name,width,height,bit_rate -of csv=p=0 "$CLIP" | tr '\n' ' ')"
elif [[ ! -s $CLIP ]]; then
  mkdir -p "$CACHE"
  say "generating the clip (once): $CLIP ..."
  tmp=$CLIP.tmp.$$.flv
  ffmpeg -hide_banner -nostdin -loglevel error -y \
    -f lavfi -i "testsrc2=size=1920x1080:rate=30,noise=alls=24:allf=t+u" \
    -f lavfi -i "anoisesrc=color=pink:sample_rate=48000:amplitude=0.25" \
    -t 20 -map 0:v -map 1:a \
    -c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p \
    -bf 2 -g 60 -keyint_min 60 -sc_threshold 0 -flags +cgop \
    -b:v 6M -maxrate 6M -bufsize 6M -x264-params nal-hrd=cbr:open-gop=0 \
    -c:a aac -b:a 128k -ar 48000 -ac 2 \
    -f flv "$tmp"
  mv "$tmp" "$CLIP"
fi

# ---- 3. bookkeeping: everything started here, stopped by PID ----------------------------------
STAMP=$(date -u +%Y%m%dT%H%M%SZ) STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
RESULTS=$ROOT/build/bench-results/$STAMP
((quick)) && RESULTS+=-quick
mkdir -p "$RESULTS"
pids=() labels=()
probe_pid=""

# start LABEL LOG DIR CMD...: runs CMD in DIR in a session of its own (the terminal's Ctrl-C reaches only
# this script, which then stops things in order).
start() {
  local label=$1 log=$2 dir=$3; shift 3
  (cd "$dir" && exec setsid "$@" </dev/null >"$log" 2>&1) &
  last_pid=$!
  pids+=("$last_pid"); labels+=("$label")
}
alive() { kill -0 "$1" 2>/dev/null; }
# stop PID SIGNAL GRACE_SECONDS: signal (after SIGCONT, in case it is stopped), wait, then SIGKILL.
stop() {
  local pid=$1 sig=$2 grace=$3 i
  if alive "$pid"; then
    kill -s CONT "$pid" 2>/dev/null || true
    kill -s "$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -s KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
}
# stop_all_from INDEX: stops pids[INDEX..] newest first and forgets them.
stop_all_from() {
  local from=$1 i
  for ((i = ${#pids[@]} - 1; i >= from; i--)); do
    stop "${pids[i]}" TERM 3
    unset 'pids[i]' 'labels[i]'
  done
  pids=("${pids[@]}") labels=("${labels[@]}")
}
cleaned=0
# shellcheck disable=SC2317  # called from the traps
cleanup() {
  ((cleaned)) && return 0
  cleaned=1
  trap '' INT TERM
  # The probe tool first: it stops its candidate and continues a stopped endpoint itself.
  [[ -n $probe_pid ]] && stop "$probe_pid" TERM 10
  stop_all_from 0
}
# shellcheck disable=SC2317  # called from the traps
on_signal() { warn "got SIG$1; stopping everything this script started"; cleanup; exit $((128 + $2)); }
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap cleanup EXIT

# ---- helpers: free ports, nginx ---------------------------------------------------------------
taken=()
port_in_use() { (: </dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
free_port() {  # sets $port to an unused one below Linux's ephemeral range
  local i
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + RANDOM % 12000))
    [[ " ${taken[*]} " == *" $port "* ]] && continue
    port_in_use "$port" && continue
    taken+=("$port"); return 0
  done
  echo "bench: found no free port" >&2; return 1
}
http_get() {  # PORT PATH -> body on stdout
  local fd
  exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&"$fd"
  timeout 5 cat <&"$fd" || true
  exec {fd}>&-
}
# Prints app/stream for every stream that has a publisher, from nginx-rtmp's /stat XML.
live_streams() {
  http_get "$1" /stat 2>/dev/null | awk -v RS='<' '
    /^application>/ { want = "app"; next }
    /^stream>/      { want = "stream"; pub = 0; instream = 1; next }
    /^name>/        { v = substr($0, 6); if (want == "app") app = v; else if (want == "stream") s = v; want = ""; next }
    /^publishing\/>/ { if (instream) pub = 1; next }
    /^\/stream>/    { if (pub) print app "/" s; instream = 0; next }'
}
nginx_conf() {  # DIR RTMP_PORT HTTP_PORT ERROR_LEVEL APPLICATION_BLOCK
  cat <<EOF
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
pid "$1/nginx.pid";
error_log "$1/error.log" $4;
events { worker_connections 1024; }
rtmp {
  server {
    listen 127.0.0.1:$2;
$5
  }
}
http {
  access_log off;
  client_body_temp_path "$1/tmp/body";
  proxy_temp_path "$1/tmp/proxy";
  fastcgi_temp_path "$1/tmp/fastcgi";
  uwsgi_temp_path "$1/tmp/uwsgi";
  scgi_temp_path "$1/tmp/scgi";
  server {
    listen 127.0.0.1:$3;
    location /stat { rtmp_stat all; }
  }
}
EOF
}
# start_nginx LABEL DIR ERROR_LEVEL APPLICATION_BLOCK: on two free ports (retried if one was taken meanwhile).
# Sets nginx_rtmp nginx_http nginx_pid.
start_nginx() {
  local label=$1 dir=$2 level=$3 apps=$4 attempt i
  mkdir -p "$dir/tmp"
  for ((attempt = 1; attempt <= 5; attempt++)); do
    free_port; nginx_rtmp=$port
    free_port; nginx_http=$port
    nginx_conf "$dir" "$nginx_rtmp" "$nginx_http" "$level" "$apps" >"$dir/nginx.conf"
    : >"$dir/error.log"
    start "$label" "$dir/nginx.out" "$dir" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf"
    nginx_pid=$last_pid
    for ((i = 0; i < 50; i++)); do
      alive "$nginx_pid" || break
      if http_get "$nginx_http" /stat 2>/dev/null | grep -q '<rtmp>'; then return 0; fi
      sleep 0.1
    done
    stop_all_from $((${#pids[@]} - 1))
    grep -q 'bind() to .* failed' "$dir/error.log" "$dir/nginx.out" 2>/dev/null && continue
    echo "bench: $label failed to start:" >&2; tail -n 20 "$dir/error.log" "$dir/nginx.out" >&2
    return 1
  done
  echo "bench: $label: no free ports after 5 attempts" >&2; return 1
}

# ---- 4. the machine ---------------------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_gib=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
load=$(cut -d' ' -f1-3 /proc/loadavg)
ffmpeg_version=$(ffmpeg -version | awk 'NR == 1 { print $3 }')
nginx_version=$(nginx -v 2>&1 | sed 's|.*nginx/||')
vc_version=$("$VENUECAST" --version 2>/dev/null | head -1 || true)
git_rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- config ingest relay 2>/dev/null || git_rev+=" + uncommitted changes in config/ingest/relay"
say "machine: $(nproc) cores, $cpu_model, ${mem_gib} GiB RAM; load average $load"
if awk -v l="${load%% *}" 'BEGIN { exit !(l > 0.7) }'; then
  warn "the load average is $load: something else is running, so absolute figures will be noisy"
fi

# ---- 5. scenarios -----------------------------------------------------------------------------
PUSH_KEY=bench-push-key-0001
DROP_RE='output ([a-z0-9_-]+): endpoint too slow, dropped ([0-9]+) packets'
failures=0
run_scenario() {
  local scen=$1 stall=0 push=0 n m i k v dir first_pid=${#pids[@]}
  [[ $scen =~ ^(stall-|push-)?([0-9]+)x([0-9]+)$ ]]
  [[ ${BASH_REMATCH[1]} == stall- ]] && stall=1
  [[ ${BASH_REMATCH[1]} == push- ]] && push=1
  n=${BASH_REMATCH[2]} m=${BASH_REMATCH[3]}
  dir=$RESULTS/$scen
  mkdir -p "$dir/logs"
  say "=== scenario $scen: $n venues x $m endpoints$( ((stall)) && echo ", endpoint $((m - 1)) stalled for ${STALL_FOR} s") ==="

  # The relay nginx's ports are chosen now: the source pushes to it (and retries every 100 ms while it is down).
  local relay_rtmp relay_http vc_listen="" vc_pushes=""
  free_port; relay_rtmp=$port
  free_port; relay_http=$port
  # push-NxM: the source also pushes every feed to venuecast's listener, the way it pushes them to the relay.
  if ((push)); then
    free_port; vc_listen=$port
    for ((v = 0; v < n; v++)); do
      vc_pushes+="      push rtmp://127.0.0.1:$vc_listen/venue/v$v?key=$PUSH_KEY name=v$v;"$'\n'
    done
  fi
  start_nginx "source nginx" "$dir/source" crit "    application venue {
      live on;
      push rtmp://127.0.0.1:$relay_rtmp/relay;
$vc_pushes      push_reconnect 100ms;
    }" || return 1
  local src_rtmp=$nginx_rtmp src_http=$nginx_http
  local ep_rtmp=() ep_http=() ep_pid=() ep_args=()
  for ((k = 0; k < m; k++)); do
    start_nginx "endpoint $k" "$dir/endpoint-$k" error "    application live { live on; }" || return 1
    ep_rtmp+=("$nginx_rtmp") ep_http+=("$nginx_http") ep_pid+=("$nginx_pid")
    ep_args+=(--endpoint "$nginx_rtmp:$nginx_http:$nginx_pid")
  done
  local venues=() feeds=()
  for ((v = 0; v < n; v++)); do venues+=("v$v"); done
  # Feeds, 2 s / N apart so the venues' keyframes are spread over the GOP.
  local gap_ms=$((2000 / n))
  for ((v = 0; v < n; v++)); do
    start "feed v$v" "$dir/logs/feed-v$v.log" "$dir" ffmpeg -hide_banner -nostdin -nostats -loglevel warning \
      -re -stream_loop -1 -i "$CLIP" -c copy -f flv "rtmp://127.0.0.1:$src_rtmp/venue/v$v"
    feeds+=("venue/v$v")
    sleep "$(printf '0.%03d' $((gap_ms % 1000)))"; ((gap_ms >= 1000)) && sleep $((gap_ms / 1000))
  done
  local t live missing
  for ((t = 0; ; t++)); do
    live=$(live_streams "$src_http"); missing=()
    for v in "${feeds[@]}"; do grep -qxF "$v" <<<"$live" || missing+=("$v"); done
    ((${#missing[@]} == 0)) && break
    if ((t >= 40)); then
      echo "bench: feeds not publishing after 20 s: ${missing[*]}" >&2
      tail -n 5 "$dir"/logs/feed-*.log >&2 || true
      return 1
    fi
    sleep 0.5
  done
  say "source nginx (pid ${pids[first_pid]}) rtmp://127.0.0.1:$src_rtmp/venue with $n feeds; endpoints (pids ${ep_pid[*]})"
  sleep 2  # let the feeds settle

  # Candidate configurations.
  local vc_conf=$dir/venuecast.yaml
  {
    echo "# written by scripts/bench.sh ($scen)"
    ((push)) && printf 'server:\n  rtmp_listen: 127.0.0.1:%d\n' "$vc_listen"
    echo "venues:"
    for ((v = 0; v < n; v++)); do
      if ((push)); then
        printf '  - id: v%d\n    push_key: %s\n' "$v" "$PUSH_KEY"
      else
        printf '  - id: v%d\n    url: rtmp://127.0.0.1:%d/venue/v%d\n' "$v" "$src_rtmp" "$v"
      fi
    done
    echo "outputs:"
    for ((v = 0; v < n; v++)); do
      for ((k = 0; k < m; k++)); do
        printf '  - id: v%d-e%d\n    venue: v%d\n    url: rtmp://127.0.0.1:%d/live\n    key: v%d\n' "$v" "$k" "$v" "${ep_rtmp[k]}" "$v"
      done
    done
  } >"$vc_conf"
  "$VENUECAST" check "$vc_conf" >"$dir/logs/venuecast-check.log" 2>&1 || {
    echo "bench: venuecast check rejected $vc_conf:" >&2; cat "$dir/logs/venuecast-check.log" >&2; return 1; }
  local relay_dir=$dir/relay pushes=""
  mkdir -p "$relay_dir/tmp"
  for ((k = 0; k < m; k++)); do pushes+="      push rtmp://127.0.0.1:${ep_rtmp[k]}/live;"$'\n'; done
  nginx_conf "$relay_dir" "$relay_rtmp" "$relay_http" error "    application relay {
      live on;
$pushes    }" >"$relay_dir/nginx.conf"
  local ff_cmds=() tee
  for ((v = 0; v < n; v++)); do
    tee=""
    for ((k = 0; k < m; k++)); do tee+="${tee:+|}[f=flv:onfail=ignore]rtmp://127.0.0.1:${ep_rtmp[k]}/live/v$v"; done
    ((v > 0)) && ff_cmds+=(":::")
    ff_cmds+=(ffmpeg -hide_banner -nostdin -nostats -loglevel warning -i "rtmp://127.0.0.1:$src_rtmp/venue/v$v"
      -map 0 -c copy -f tee "$tee")
  done

  local c rc common=(--source "$src_rtmp:$src_http" "${ep_args[@]}" --venues "$(IFS=,; echo "${venues[*]}")"
    --warmup "$warmup" --window "$window" --log-dir "$dir/logs")
  ((stall)) && common+=(--stall $((m - 1)) --stall-at "$STALL_AT" --stall-for "$STALL_FOR")
  for c in "${CANDIDATES[@]}"; do
    [[ $c == ffmpeg ]] && ((push)) && continue  # the tee can only pull
    local extra=() cmd=()
    case $c in
      venuecast) extra=(--drop-regex "$DROP_RE")
                 cmd=("$VENUECAST" ${VENUECAST_BENCH_LOG:+--log-level "$VENUECAST_BENCH_LOG"} run "$vc_conf") ;;
      nginx) extra=(--candidate-http "$relay_http")
             cmd=(nginx -p "$relay_dir/" -e "$relay_dir/error.log" -c "$relay_dir/nginx.conf") ;;
      ffmpeg) cmd=("${ff_cmds[@]}") ;;
    esac
    say "--- $scen: $c (warm-up ${warmup} s, window ${window} s) ---"
    # In a session of its own (Ctrl-C reaches only this script, whose cleanup stops it by PID).
    setsid "$PROBE" measure --candidate "$c" --out "$dir/$c.json" "${common[@]}" "${extra[@]}" -- "${cmd[@]}" \
      </dev/null > >(tee -a "$dir/logs/probe-$c.log") 2>&1 &
    probe_pid=$!
    rc=0; wait "$probe_pid" || rc=$?
    probe_pid=""
    if ((rc != 0)) || ! grep -q '"ok": true' "$dir/$c.json" 2>/dev/null; then
      warn "$scen/$c: the measurement reported problems (see $dir/$c.json and $dir/logs/)"
      failures=$((failures + 1))
    fi
    sleep 1
  done
  stop_all_from "$first_pid"
}

for s in "${SCENARIOS[@]}"; do
  run_scenario "$s" || { warn "scenario $s could not run"; failures=$((failures + 1)); stop_all_from 0; }
done

# ---- 6. report --------------------------------------------------------------------------------
notes=(
  "Machine: $(nproc) cores, $cpu_model, ${mem_gib} GiB RAM, Linux $(uname -r); load average at the start: $load"
  "Versions: ${vc_version:-venuecast} (git $git_rev), FFmpeg $ffmpeg_version, nginx $nginx_version with nginx-rtmp $(dpkg-query -W -f='${Version}' libnginx-mod-rtmp 2>/dev/null || echo '?')"
  "Clip: $CLIP_DESC"
  "Warm-up ${warmup} s, window ${window} s per candidate; candidates in the order ${CANDIDATES[*]}; results in ${RESULTS#"$ROOT"/}/"
)
report_args=(report --results "$RESULTS" --date "$STARTED" --command "scripts/bench.sh${ORIG_ARGS[*]:+ ${ORIG_ARGS[*]}}" --out "$RESULTS/report.md")
for s in "${SCENARIOS[@]}"; do report_args+=(--scenario "$s"); done
for l in "${notes[@]}"; do report_args+=(--note "$l"); done
if ((write_md)); then report_args+=(--document --heading "Latest full run" --append "$ROOT/bench/performance-log.md")
elif ((quick)); then report_args+=(--heading "Quick run")
else report_args+=(--heading "Run"); fi
echo
rc=0; "$PROBE" "${report_args[@]}" || rc=$?
if ((write_md)); then
  cp "$RESULTS/report.md" "$ROOT/BENCHMARKS.md"
  say "wrote BENCHMARKS.md"
else
  say "BENCHMARKS.md left as it is (it holds the latest full run: default scenarios and candidates, standard clip)"
fi
say "results in $RESULTS ($((SECONDS - T_START)) s)"
((failures)) && { warn "$failures measurement(s) reported problems"; exit 1; }
((rc == 1)) && exit 1
exit "$rc"
