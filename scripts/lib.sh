# Shell functions the scripts share; sourced, not run.

# A free TCP port on loopback.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits up to SECONDS (default 60) for URL to answer 2xx; fails the script if it never does.
wait_for() {
  for _ in $(seq 1 $((${2:-60} * 5))); do curl -fs -o /dev/null "$1" && return; sleep 0.2; done
  echo "no answer from $1" >&2
  exit 1
}

# Every Lambda function of the workspace, by its directory under functions/ (run from the root).
lambda_functions() { ls functions; }
