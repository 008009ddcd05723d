#!/usr/bin/env bash
# One-command demo of venuecast on this machine, everything on 127.0.0.1 with free ports:
#   * a private nginx-rtmp "venue server" (app venue) that the city venues publish to,
#   * N venue feeds made by ffmpeg in real time (test pattern + venue name + clock, tone; H.264 + AAC); with
#     two or more, the last one publishes to venuecast's own RTMP port instead (push ingest, as from OBS),
#   * an endpoint nginx-rtmp with app forum (the main forum) and app live-bvc (a Bilibili stand-in),
#   * venuecast, pulling the other venues from the venue server and pushing every venue to forum/<venue>;
#     the first venue also goes to live-bvc with a Bilibili-style key. Its log streams to this terminal.
# Ctrl-C (or SIGTERM) stops everything this script started, by PID, and removes its temp dir.
#
#   scripts/demo.sh [--venues N] [--duration SECONDS] [--log-level LEVEL] [--feeds-only]
#     --venues N          how many venues, 1..7 (default 3): shanghai shenzhen chengdu zhuhai dalian wuxi fuzhou
#     --duration SECONDS  stop by itself after SECONDS; before stopping, probe every endpoint stream with
#                         ffprobe and exit 1 unless all are playable (for checking the demo unattended)
#     --log-level LEVEL   passed to venuecast
#     --feeds-only        start the venue server and the feeds only (no build, no venuecast), e.g. to
#                         look at the feeds or to pull them with something else
#   VENUECAST_BIN=PATH    run this binary instead of building and running build/venuecast
#                         (e.g. VENUECAST_BIN=build-asan/venuecast after scripts/setup.sh --sanitize)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

n_venues=3 duration=0 log_level="" feeds_only=0
while (($#)); do
  case "$1" in
    --venues) n_venues=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --venues=*) n_venues=${1#*=}; shift ;;
    --duration) duration=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --duration=*) duration=${1#*=}; shift ;;
    --log-level) log_level=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --log-level=*) log_level=${1#*=}; shift ;;
    --feeds-only) feeds_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $n_venues =~ ^[1-7]$ ]] || { echo "demo: --venues must be 1..7" >&2; exit 2; }
[[ $duration =~ ^[0-9]+$ ]] || { echo "demo: --duration must be a whole number of seconds" >&2; exit 2; }

# COSCon'21 venues: id, display name, name in Latin letters, tone (Hz).
ALL_IDS=(shanghai shenzhen chengdu zhuhai dalian wuxi fuzhou)
ALL_NAMES=(上海分会场 深圳分会场 成都分会场 珠海分会场 大连分会场 无锡分会场 福州分会场)
ALL_LATIN=(Shanghai Shenzhen Chengdu Zhuhai Dalian Wuxi Fuzhou)
ALL_TONES=(440 523 659 784 880 988 1175)
FONT_NAME=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc         # fonts-wqy-microhei: CJK + Latin
FONT_CLOCK=/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf # fonts-dejavu-core
BILIBILI_STREAMNAME=live_1_2

if [[ -t 1 ]]; then c_on=$'\033[1;36m' w_on=$'\033[1;33m' c_off=$'\033[0m'; else c_on="" w_on="" c_off=""; fi
say() { printf '%sdemo:%s %s\n' "$c_on" "$c_off" "$*"; }
warn() { printf '%sdemo:%s %s\n' "$w_on" "$c_off" "$*" >&2; }

# ---- 1. packages + build -----------------------------------------------------------------------
if ((feeds_only)) || [[ -n ${VENUECAST_BIN:-} ]]; then
  scripts/setup.sh --no-build
else
  say "installing packages and building (scripts/setup.sh) ..."
  scripts/setup.sh
fi
VENUECAST=${VENUECAST_BIN:-$ROOT/build/venuecast}
if ! ((feeds_only)); then
  [[ $VENUECAST == /* ]] || VENUECAST=$ROOT/$VENUECAST
  [[ -x $VENUECAST ]] || { echo "demo: $VENUECAST is missing; did the build fail?" >&2; exit 1; }
fi
for f in "$FONT_NAME" "$FONT_CLOCK" /usr/lib/nginx/modules/ngx_rtmp_module.so; do
  [[ -e $f ]] || { echo "demo: $f is missing; run scripts/setup.sh" >&2; exit 1; }
done

# ---- process bookkeeping and cleanup -----------------------------------------------------------
WORK=""
pids=() labels=() logs=()   # everything we started, in start order
relay_pid=""

# start LABEL LOG DIR CMD...: runs CMD in DIR in a session of its own (so the terminal's Ctrl-C
# reaches only this script, which then stops things in order). LOG "-" means this terminal.
start() {
  local label=$1 log=$2 dir=$3; shift 3
  if [[ $log == - ]]; then
    (cd "$dir" && exec setsid "$@" </dev/null) &
  else
    (cd "$dir" && exec setsid "$@" </dev/null >"$log" 2>&1) &
  fi
  last_pid=$!
  pids+=("$last_pid"); labels+=("$label"); logs+=("$log")
}

alive() { kill -0 "$1" 2>/dev/null; }

# stop PID SIGNAL GRACE_SECONDS: signal, wait up to GRACE, then SIGKILL. Sets stop_rc.
stop() {
  local pid=$1 sig=$2 grace=$3 i
  stop_rc=0
  alive "$pid" || { wait "$pid" 2>/dev/null || stop_rc=$?; return 0; }
  kill -s "$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    kill -s KILL "$pid" 2>/dev/null || true
    stop_rc=timeout
  fi
  if [[ $stop_rc != timeout ]]; then wait "$pid" 2>/dev/null || stop_rc=$?; else wait "$pid" 2>/dev/null || true; fi
}

cleaned=0 relay_stop_ok=1
cleanup() {
  ((cleaned)) && return 0
  cleaned=1
  trap '' INT TERM
  local i
  if [[ -n $relay_pid ]]; then
    say "stopping venuecast (SIGTERM) ..."
    local t0=${EPOCHREALTIME//[!0-9]/} ms
    stop "$relay_pid" TERM 5
    ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
    if [[ $stop_rc == timeout ]]; then
      warn "venuecast did not exit within 5 s; killed it"; relay_stop_ok=0
    elif [[ $stop_rc != 0 ]]; then
      warn "venuecast exited with status $stop_rc after $ms ms"; relay_stop_ok=0
    elif ((ms > 3000)); then
      warn "venuecast exited with status 0 but took $ms ms (it should take at most 3 s)"; relay_stop_ok=0
    else
      say "venuecast exited cleanly (status 0, $ms ms)"
    fi
  fi
  # Then the feeds and the servers, newest first.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    [[ ${pids[i]} == "$relay_pid" ]] && continue
    stop "${pids[i]}" TERM 3
  done
  if [[ -n $WORK ]]; then
    rm -rf "$WORK"
    say "stopped everything it started; removed $WORK"
  fi
}
# shellcheck disable=SC2317  # called from the traps
on_signal() { say "got SIG$1"; cleanup; exit $((128 + $2)); }
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap cleanup EXIT
WORK=$(mktemp -d "${TMPDIR:-/tmp}/venuecast-demo.XXXXXX")

# ---- helpers: free ports, readiness, nginx stat ------------------------------------------------
taken=()
port_in_use() { (: </dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
free_port() {   # sets $port to an unused one below Linux's ephemeral range
  local i
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + RANDOM % 12000))
    [[ " ${taken[*]} " == *" $port "* ]] && continue
    port_in_use "$port" && continue
    taken+=("$port"); return 0
  done
  echo "demo: found no free port" >&2; return 1
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

# start_nginx LABEL DIR: writes DIR/nginx.conf from the template on stdin (with @RTMP@ @HTTP@ @DIR@
# filled in), starts nginx on two free ports, retries with new ports if one was taken meanwhile.
# Sets nginx_rtmp nginx_http.
start_nginx() {
  local label=$1 dir=$2 template attempt i
  template=$(cat)
  mkdir -p "$dir/tmp"
  for ((attempt = 1; attempt <= 5; attempt++)); do
    free_port; nginx_rtmp=$port
    free_port; nginx_http=$port
    local conf=${template//@RTMP@/$nginx_rtmp}
    conf=${conf//@HTTP@/$nginx_http}
    printf '%s\n' "${conf//@DIR@/$dir}" >"$dir/nginx.conf"
    : >"$dir/error.log"
    start "$label" "$dir/nginx.out" "$dir" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf"
    # nginx binds every listen socket before it serves anything, and retries a busy port for a few
    # seconds (logging each failure): so it is ours and up once its /stat answers and no bind failed.
    for ((i = 0; i < 50; i++)); do
      alive "$last_pid" || break
      grep -q 'bind() to .* failed' "$dir/error.log" 2>/dev/null && break
      if http_get "$nginx_http" /stat 2>/dev/null | grep -q '<rtmp>' &&
        ! grep -q 'bind() to .* failed' "$dir/error.log"; then
        return 0
      fi
      sleep 0.1
    done
    stop "$last_pid" TERM 2
    unset 'pids[-1]' 'labels[-1]' 'logs[-1]'
    grep -q 'bind() to .* failed' "$dir/error.log" 2>/dev/null && continue
    echo "demo: $label failed to start:" >&2; tail -n 20 "$dir/error.log" "$dir/nginx.out" >&2
    return 1
  done
  echo "demo: $label: no free ports after 5 attempts" >&2; return 1
}

nginx_common() {  # the parts both nginx instances share (everything stays inside their own dir)
  cat <<'EOF'
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
pid "@DIR@/nginx.pid";
error_log "@DIR@/error.log" notice;
events { worker_connections 256; }
EOF
}
nginx_http_common() {
  cat <<'EOF'
  access_log off;
  client_body_temp_path "@DIR@/tmp/body";
  proxy_temp_path "@DIR@/tmp/proxy";
  fastcgi_temp_path "@DIR@/tmp/fastcgi";
  uwsgi_temp_path "@DIR@/tmp/uwsgi";
  scgi_temp_path "@DIR@/tmp/scgi";
EOF
}

# ---- 2. venue server ---------------------------------------------------------------------------
venue_server_conf() {
  nginx_common
  cat <<'EOF'
rtmp {
  access_log "@DIR@/rtmp-access.log";
  server {
    listen 127.0.0.1:@RTMP@;
    application venue {
      live on;
      publish_notify on;   # players (venuecast) learn at once when a venue stops publishing
    }
  }
}
http {
EOF
  nginx_http_common
  cat <<'EOF'
  server {
    listen 127.0.0.1:@HTTP@;
    location /stat { rtmp_stat all; }
  }
}
EOF
}
start_nginx "venue server" "$WORK/venue-server" < <(venue_server_conf)
VENUE_RTMP=$nginx_rtmp VENUE_HTTP=$nginx_http
say "venue server (nginx-rtmp, pid $last_pid): rtmp://127.0.0.1:$VENUE_RTMP/venue   stat: http://127.0.0.1:$VENUE_HTTP/stat"

# ---- 3. endpoint server ------------------------------------------------------------------------
if ! ((feeds_only)); then
  # nginx-rtmp splits a publish name at '?', so a Bilibili-style key ("?streamname=live_1_2&key=...")
  # arrives with an empty name. Like the real ingest, on_publish looks at streamname and key; the
  # 302 renames the stream to its streamname (so several such keys can share the app).
  endpoint_server_conf() {
    nginx_common
    cat <<'EOF'
rtmp {
  access_log "@DIR@/rtmp-access.log";
  server {
    listen 127.0.0.1:@RTMP@;
    application forum { live on; }       # the main forum: one stream per venue
    application live-bvc {               # stand-in for Bilibili's ingest
      live on;
      notify_method get;
      on_publish http://127.0.0.1:@HTTP@/live-bvc-auth;
    }
  }
}
http {
EOF
    nginx_http_common
    cat <<'EOF'
  server {
    listen 127.0.0.1:@HTTP@;
    location /stat { rtmp_stat all; }
    location /live-bvc-auth {
      absolute_redirect off;
      if ($arg_streamname = "") { return 403; }
      if ($arg_key = "") { return 403; }
      return 302 $arg_streamname;
    }
  }
}
EOF
  }
  start_nginx "endpoint server" "$WORK/endpoint-server" < <(endpoint_server_conf)
  EP_RTMP=$nginx_rtmp EP_HTTP=$nginx_http
  say "endpoint server (nginx-rtmp, pid $last_pid): rtmp://127.0.0.1:$EP_RTMP/forum and /live-bvc   stat: http://127.0.0.1:$EP_HTTP/stat"
fi

# ---- 4. venue feeds ----------------------------------------------------------------------------
ids=("${ALL_IDS[@]:0:n_venues}")
# With two venues or more, the last one publishes to venuecast itself (push ingest), as a venue whose AV
# operator points OBS at the relay; the others publish to the venue server, which venuecast pulls from.
push_i=-1
((n_venues >= 2 && !feeds_only)) && push_i=$((n_venues - 1))
export DEMO_PUSH_KEY=demo-push-key-0001   # expanded by venuecast from ${DEMO_PUSH_KEY} below

# start_feed I URL: venue I's encoder (test pattern, name, clock, tone) publishing to URL.
start_feed() {
  local i=$1 url=$2 id=${ALL_IDS[$1]} dir=$WORK/feed-${ALL_IDS[$1]}
  mkdir -p "$dir"
  printf '%s  %s' "${ALL_NAMES[i]}" "${ALL_LATIN[i]}" >"$dir/name.txt"
  # Lower third: venue name, then the local wall clock at encode time (compare with your clock to see
  # end-to-end latency) and the stream's own running time.
  cat >"$dir/filter.txt" <<EOF
[0:v]drawbox=x=0:y=ih-140:w=iw:h=140:color=black@0.65:t=fill,
drawtext=fontfile=$FONT_NAME:textfile=name.txt:fontsize=52:fontcolor=white:x=30:y=h-128,
drawtext=fontfile=$FONT_CLOCK:text='%{localtime\:%Y-%m-%d %T}   run time%{pts\:hms}':fontsize=32:fontcolor=yellow:x=30:y=h-54[v]
EOF
  start "feed $id" "$dir/ffmpeg.log" "$dir" \
    ffmpeg -hide_banner -nostdin -nostats -loglevel warning \
      -re -f lavfi -i "testsrc2=size=960x540:rate=30" \
      -re -f lavfi -i "sine=frequency=${ALL_TONES[i]}:beep_factor=2:sample_rate=48000" \
      -filter_complex_script filter.txt -map '[v]' -map 1:a \
      -c:v libx264 -preset veryfast -tune zerolatency -pix_fmt yuv420p \
      -g 60 -keyint_min 60 -sc_threshold 0 -b:v 1500k -maxrate 1500k -bufsize 3000k \
      -c:a aac -b:a 128k -ac 2 \
      -f flv "$url"
}

pulled=()
for ((i = 0; i < n_venues; i++)); do
  ((i == push_i)) && continue
  start_feed "$i" "rtmp://127.0.0.1:$VENUE_RTMP/venue/${ALL_IDS[i]}"
  pulled+=("${ALL_IDS[i]}")
  say "feed ${ALL_IDS[i]} (ffmpeg, pid $last_pid) -> rtmp://127.0.0.1:$VENUE_RTMP/venue/${ALL_IDS[i]}   (${ALL_NAMES[i]}, ${ALL_TONES[i]} Hz tone)"
done

# wait_live PORT TIMEOUT APP/STREAM...: waits until all have a publisher; sets missing=().
wait_live() {
  local http=$1 timeout=$2 t live s; shift 2
  for ((t = 0; ; t++)); do
    live=$(live_streams "$http")
    missing=()
    for s in "$@"; do grep -qxF "$s" <<<"$live" || missing+=("$s"); done
    ((${#missing[@]} == 0)) && return 0
    ((t >= timeout * 2)) && return 1
    sleep 0.5
  done
}

feed_names=("${pulled[@]/#/venue/}")
if ! wait_live "$VENUE_HTTP" 15 "${feed_names[@]}"; then
  echo "demo: these feeds did not start publishing: ${missing[*]}" >&2
  for ((i = 0; i < ${#labels[@]}; i++)); do
    [[ ${labels[i]} == feed* ]] && tail -n 5 "${logs[i]}" >&2
  done
  exit 1
fi
say "all ${#pulled[@]} venue feeds are publishing to the venue server"
if ((push_i >= 0)); then free_port; VC_RTMP=$port; fi

# ---- 5. venuecast config -----------------------------------------------------------------------
CONFIG=$WORK/venuecast.yaml
export BILIBILI_KEY=demo-not-a-real-key   # expanded by venuecast from ${BILIBILI_KEY} below
{
  cat <<EOF
# venuecast demo config (written by scripts/demo.sh). Every venue goes to the main forum;
# the first one also goes to the Bilibili stand-in with a Bilibili-style stream key.
EOF
  ((push_i >= 0)) && printf 'server:\n  rtmp_listen: 127.0.0.1:%s   # where push venues publish\n' "$VC_RTMP"
  echo "venues:"
  for ((i = 0; i < n_venues; i++)); do
    printf '  - id: %s\n    name: %s\n' "${ALL_IDS[i]}" "${ALL_NAMES[i]}"
    if ((i == push_i)); then
      echo '    push_key: ${DEMO_PUSH_KEY}   # its encoder publishes to venuecast'
    else
      echo "    url: rtmp://127.0.0.1:$VENUE_RTMP/venue/${ALL_IDS[i]}"
    fi
  done
  echo "outputs:"
  for ((i = 0; i < n_venues; i++)); do
    cat <<EOF
  - id: forum-${ALL_IDS[i]}
    venue: ${ALL_IDS[i]}
    url: rtmp://127.0.0.1:${EP_RTMP:-0}/forum
    key: ${ALL_IDS[i]}
EOF
  done
  cat <<EOF
  - id: bilibili-${ALL_IDS[0]}
    venue: ${ALL_IDS[0]}
    url: rtmp://127.0.0.1:${EP_RTMP:-0}/live-bvc/
    key: "?streamname=$BILIBILI_STREAMNAME&key=\${BILIBILI_KEY}&schedule=rtmp&pflag=1"
EOF
} >"$CONFIG"

watch_lines() {  # what to play, and where
  local i id
  echo "  Watch (ffplay, or open the URL in VLC / an OBS media source):"
  if ! ((feeds_only)); then
    for id in "${ids[@]}"; do
      printf '    %-32s ffplay rtmp://127.0.0.1:%s/forum/%s\n' "main forum, $id" "$EP_RTMP" "$id"
    done
    printf '    %-32s ffplay rtmp://127.0.0.1:%s/live-bvc/%s\n' "Bilibili stand-in, ${ids[0]}" "$EP_RTMP" "$BILIBILI_STREAMNAME"
  fi
  for id in "${pulled[@]}"; do
    printf '    %-32s ffplay rtmp://127.0.0.1:%s/venue/%s\n' "venue feed (source), $id" "$VENUE_RTMP" "$id"
  done
  if ((push_i >= 0)); then
    printf '    %-32s publishes to venuecast: rtmp://127.0.0.1:%s/venue, stream key %s?key=****\n' \
      "venue feed (push), ${ALL_IDS[push_i]}" "$VC_RTMP" "${ALL_IDS[push_i]}"
  fi
  echo "  No display? Grab a frame: ffmpeg -i rtmp://127.0.0.1:PORT/APP/STREAM -frames:v 1 frame.png"
  if ! ((feeds_only)); then
    echo "  Stat pages (XML): endpoints http://127.0.0.1:$EP_HTTP/stat   venue server http://127.0.0.1:$VENUE_HTTP/stat"
  else
    echo "  Stat page (XML): venue server http://127.0.0.1:$VENUE_HTTP/stat"
  fi
}

# probe_all APP/STREAM... on PORT: ffprobe each (in parallel); prints a line each; returns 1 if any failed.
probe_all() {
  local rtmp=$1 s rc=0 out probes=() p; shift
  for s in "$@"; do
    timeout 20 ffprobe -v error -rw_timeout 10000000 -rtmp_live live \
      -show_entries stream=codec_name,width,height,sample_rate -of csv=p=0 \
      "rtmp://127.0.0.1:$rtmp/$s" >"$WORK/probe-${s//\//_}.txt" 2>&1 &
    probes+=($!)
  done
  for p in "${probes[@]}"; do wait "$p" || true; done
  for s in "$@"; do
    out=$WORK/probe-${s//\//_}.txt
    if grep -q '^h264,' "$out" && grep -q '^aac,' "$out"; then
      printf '  ok    %-32s %s\n' "$s" "$(tr '\n' ' ' <"$out")"
    else
      printf '  FAIL  %-32s %s\n' "$s" "$(tr '\n' ' ' <"$out" | cut -c1-200)"; rc=1
    fi
  done
  return $rc
}

# check_processes: exits (through cleanup) if something we started has died.
check_processes() {
  local i rc
  for ((i = 0; i < ${#pids[@]}; i++)); do
    alive "${pids[i]}" && continue
    rc=0; wait "${pids[i]}" 2>/dev/null || rc=$?
    if [[ ${pids[i]} == "$relay_pid" ]]; then
      echo "demo: venuecast exited on its own (status $rc)" >&2
      relay_pid=""
    else
      echo "demo: ${labels[i]} exited on its own (status $rc); last lines of its log:" >&2
      tail -n 20 "${logs[i]}" >&2 || true
    fi
    unset 'pids[i]'; pids=("${pids[@]}")
    exit 1
  done
}

if ((feeds_only)); then
  echo
  watch_lines
  echo
  say "feeds only (no venuecast). Ctrl-C stops everything."
  end=$((SECONDS + duration))
  while ((duration == 0 || SECONDS < end)); do
    check_processes
    sleep 1 & wait $! || true
  done
  if probe_all "$VENUE_RTMP" "${feed_names[@]}"; then exit 0; else exit 1; fi
fi

echo
say "venuecast config ($CONFIG):"
sed 's/^/    /' "$CONFIG"
echo
say "venuecast check:"
log_args=(); [[ -n $log_level ]] && log_args=(--log-level "$log_level")
if ! "$VENUECAST" "${log_args[@]}" check "$CONFIG"; then
  echo "demo: venuecast check rejected the config above" >&2; exit 1
fi
echo
watch_lines
echo
say "starting venuecast; its log follows. Ctrl-C stops everything."
echo
start "venuecast" - "$ROOT" "$VENUECAST" "${log_args[@]}" run "$CONFIG"
relay_pid=$last_pid
if ((push_i >= 0)); then
  # The push venue's encoder starts once venuecast's listener is up, as OBS's "Start Streaming" would.
  for ((t = 0; t < 40; t++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$VC_RTMP") 2>/dev/null && break
    sleep 0.25
  done
  start_feed "$push_i" "rtmp://127.0.0.1:$VC_RTMP/venue/${ALL_IDS[push_i]}?key=$DEMO_PUSH_KEY"
  say "feed ${ALL_IDS[push_i]} (ffmpeg, pid $last_pid) -> venuecast rtmp://127.0.0.1:$VC_RTMP/venue, stream key ${ALL_IDS[push_i]}?key=****"
fi

# ---- 6. run ------------------------------------------------------------------------------------
out_names=("${ids[@]/#/forum/}" "live-bvc/$BILIBILI_STREAMNAME")
announced=0 t_start=$SECONDS
while ((duration == 0 || SECONDS - t_start < duration)); do
  check_processes
  if ((announced == 0)) && wait_live "$EP_HTTP" 0 "${out_names[@]}"; then
    say "all ${#out_names[@]} outputs are live at the endpoint server after $((SECONDS - t_start)) s (http://127.0.0.1:$EP_HTTP/stat)"
    announced=1
  elif ((announced == 0 && SECONDS - t_start >= 30)); then
    warn "after 30 s these outputs are still not live: ${missing[*]}"
    announced=2
  fi
  sleep 1 & wait $! || true
done

say "--duration $duration reached; probing the endpoint streams:"
probe_rc=0
probe_all "$EP_RTMP" "${out_names[@]}" || probe_rc=1
cleanup
if ((probe_rc == 0 && relay_stop_ok)); then
  say "demo OK"; exit 0
fi
echo "demo: FAILED (see above)" >&2; exit 1
