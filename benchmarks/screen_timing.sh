#!/usr/bin/env bash
# What a person at the terminal waits for, timed by watching the real app's screen in tmux:
#
#     bash benchmarks/screen_timing.sh launch [DATA_DIR]        # ./scripts/launch as a new user would
#     bash benchmarks/screen_timing.sh typed WAIT_S [DATA_DIR]  # sample_data without a starter query;
#                                                              # the query typed WAIT_S s after the
#                                                              # window asks for one
#     bash benchmarks/screen_timing.sh echo WAIT_S [DATA_DIR]   # the same query typed one key at a
#                                                              # time: how soon each shows on screen
#
# `launch` prints when the window was drawn, when the first ranked row appeared and when the
# "Ranked ..." line did, in seconds after the command (run it twice on one DATA_DIR for a warm
# relaunch). `typed` prints when the window asked for a query, then the first row and the "Ranked"
# line in seconds after the query's last key. `echo` types the query one key every 150 ms (the
# documents being embedded or runs starting between keys), then, 4 s into its run, " for logs": the
# milliseconds from each key sent to its showing on screen, median and worst. A new DATA_DIR
# (default: a fresh temporary one) means an empty run log and score cache. Run from a checkout: it
# times that checkout's ./scripts/launch (its setup included when .venv is missing). `typed` and
# `echo` open DOCS (default sample_data/docs); WORKBENCH_MODEL, when set, is the model they load
# (a directory: a reranker of your own instead of the default and its offline fallback). Needs
# tmux and bc; prints figures, asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: screen_timing.sh launch [DATA_DIR] | typed WAIT_S [DATA_DIR] | echo WAIT_S [DATA_DIR]}
case "$mode" in
  launch) data=${2:-}; args=() ;;
  typed|echo) wait_s=${2:?$mode needs WAIT_S}; data=${3:-}; args=("${DOCS:-sample_data/docs}") ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
made=""
[ -n "$data" ] || { data=$(mktemp -d); made=$data; }
session=screen-timing-$$
query="how long are backups kept"

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
screen() { tmux capture-pane -p -t "$session"; }
# The first ranked row: rank 1 and a score with three decimals (a random model's may be 1.000).
has_row() { grep -q "^1 .*[01]\.[0-9][0-9][0-9] "; }

start=$(now)
tmux new-session -d -s "$session" -x 200 -y 50 \
  "WORKBENCH_DATA_DIR='$data' WORKBENCH_CONFIG_DIR='$data' ${WORKBENCH_MODEL:+WORKBENCH_MODEL='$WORKBENCH_MODEL'} ./scripts/launch ${args[*]:-}; sleep 600"
cleanup() {
  tmux send-keys -t "$session" C-q 2>/dev/null || true
  sleep 1
  tmux kill-session -t "$session" 2>/dev/null || true
  [ -z "$made" ] || rm -rf "$made"
}
trap cleanup EXIT

# Send `text` one key every 150 ms, each once the last showed after `shown`; print the delays.
type_slowly() {
  local shown=$1 text=$2 i key sent delays=()
  for ((i = 1; i <= ${#text}; i++)); do
    key=${text:i-1:1}
    sent=$(date +%s%N)
    if [ "$key" = " " ]; then tmux send-keys -t "$session" Space; else tmux send-keys -t "$session" -l "$key"; fi
    until screen | grep -qF "$shown${text:0:i}"; do
      if (( $(date +%s%N) - sent > 10000000000 )); then
        echo "\"$shown${text:0:i}\" not on screen 10 s after its last key; the screen:" >&2
        screen >&2
        exit 1
      fi
      sleep 0.005
    done
    delays+=($(( ($(date +%s%N) - sent) / 1000000 )))
    sleep 0.15
  done
  printf '%s\n' "${delays[@]}" | sort -n \
    | awk -v what="$3" '{d[NR] = $1} END {printf "%s: %d keys, median %d ms, worst %d ms\n", what, NR, d[int((NR + 1) / 2)], d[NR]}'
}

if [ "$mode" = echo ]; then
  until screen | grep -q "Type a query"; do sleep 0.1; done
  sleep "$wait_s"
  type_slowly "" "$query" "key to screen while typing the query"
  sleep 4
  type_slowly "$query" " for logs" "key to screen during its run"
  exit 0
fi

if [ "$mode" = typed ]; then
  until screen | grep -q "Type a query"; do sleep 0.1; done
  echo "window asks for a query: $(since "$start") s after the command"
  sleep "$wait_s"
  tmux send-keys -t "$session" -l "$query"
  start=$(now)
fi
drawn="" row=""
for _ in $(seq 1 6000); do
  text=$(screen)
  [ -n "$drawn" ] || ! grep -q "Query" <<<"$text" || drawn=$(since "$start")
  [ -n "$row" ] || ! has_row <<<"$text" || row=$(since "$start")
  if grep -q "Ranked [0-9]* documents" <<<"$text"; then
    line=$(grep -o 'Ranked [^▌│]*' <<<"$text" | head -1 | sed 's/ *$//')
    if [ "$mode" = launch ]; then
      echo "after the command: window $drawn s, first row $row s, ranked $(since "$start") s ($line)"
    else
      echo "after the last key: first row $row s, ranked $(since "$start") s ($line)"
    fi
    exit 0
  fi
  sleep 0.1
done
echo "no ranking within 10 minutes; the screen:" >&2
screen >&2
exit 1
