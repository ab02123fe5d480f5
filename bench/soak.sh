#!/usr/bin/env bash
# Load and soak test of `stowage serve` on 127.0.0.1 (see docs/reliability.md).
#
#   bench/soak.sh [--soak-seconds S] [--steps "200 400 ..."] [--step-seconds S]
#                 [--no-steps] [--no-soak] [--policy FILE --tenants N]
#
# Starts the test API server (tests/tools/apiserver) with a generated
# cluster of 5,000 nodes and 50,000 running pods, and `stowage serve`
# syncing from it. tests/tools/loadgen then sends filter and prioritize
# calls as kube-scheduler does (500 node names per call, nodeCacheCapable:
# true) while streaming pod churn into the API server:
#   1. rising rates, 30 s each (--steps, --step-seconds);
#   2. a soak at 1,600 pods/s for --soak-seconds (default 1800), sampling
#      RSS every 10 s, with a verdict: PASS when stowage's RSS after the
#      warm-up stays within 5% of its minimum and no call failed.
# With --policy, stowage scores with that policy file, and --tenants N
# spreads every pod over N tenants with the label stowage.io/tenant, so
# that tenant rules in the policy have work to do.
# Exit status: 0 when the soak passed (or was skipped), 1 when it failed,
# 2 for a bad command line or a failed setup. Every process it starts is
# stopped on exit, Ctrl-C included. The binaries come from $BUILD
# (default build/release): `make soak` builds them first.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}

steps="200 400 800 1600 3200"
step_seconds=30
soak_seconds=1800
soak_rate=1600
# Pod changes per second streamed into the API server, and how often its
# history is compacted.
churn_rate=${CHURN_RATE:-100}
compact_seconds=10
connections=${CONNECTIONS:-16}
cluster_nodes=5000
pods_per_node=10
rss_flat_pct=5
# The test API server's RSS moves with the events between two compactions
# and with malloc's arenas, so it gets a wider bound than stowage.
apiserver_flat_pct=25
run_steps=1
run_soak=1
policy=
tenants=0

usage() {
	echo "usage: bench/soak.sh [--soak-seconds S] [--soak-rate PODS_PER_S] [--steps \"R1 R2 ...\"] [--step-seconds S] [--no-steps] [--no-soak] [--policy FILE] [--tenants N]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--soak-seconds) soak_seconds=${2:?}; shift 2 ;;
	--soak-rate) soak_rate=${2:?}; shift 2 ;;
	--steps) steps=${2:?}; shift 2 ;;
	--step-seconds) step_seconds=${2:?}; shift 2 ;;
	--no-steps) run_steps=0; shift ;;
	--no-soak) run_soak=0; shift ;;
	--policy) policy=${2:?}; shift 2 ;;
	--tenants) tenants=${2:?}; shift 2 ;;
	*) usage ;;
	esac
done
for n in "$soak_seconds" "$step_seconds" "$soak_rate" $steps; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "soak: \"$n\" is not a positive whole number" >&2; usage; }
done
[[ $tenants =~ ^[0-9]+$ ]] || { echo "soak: --tenants \"$tenants\" is not a whole number" >&2; usage; }
serve_policy=()
if [ -n "$policy" ]; then
	[ -r "$policy" ] || { echo "soak: cannot read the policy file $policy" >&2; exit 2; }
	serve_policy=(--policy "$(realpath "$policy")")
fi

stowage=$BUILD/stowage
apiserver=$BUILD/tests/tools/apiserver
loadgen=$BUILD/tests/tools/loadgen
for bin in "$stowage" "$apiserver" "$loadgen"; do
	[ -x "$bin" ] || { echo "soak: $bin is missing: run make soak, or make $bin" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/stowage-soak.XXXXXX")
serve_pid=
api_pid=

# Stops what this script started, by process id, then removes the work
# directory. Runs on every exit.
cleanup() {
	local status=$?

	trap - EXIT INT TERM
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	# The test API server ends when its standard input closes.
	exec 3>&- 2>/dev/null || true
	if [ -n "$api_pid" ]; then
		for _ in $(seq 50); do kill -0 "$api_pid" 2>/dev/null || break; sleep 0.1; done
		kill "$api_pid" 2>/dev/null || true
		wait "$api_pid" 2>/dev/null || true
	fi
	if [ "$status" -ne 0 ] && [ -f "$work/serve.log" ]; then
		echo "soak: last lines of the stowage log:" >&2
		tail -n 20 "$work/serve.log" >&2
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() { # DESCRIPTION SECONDS COMMAND...
	local what=$1 seconds=$2
	shift 2
	for _ in $(seq $((seconds * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	echo "soak: $what did not happen within $seconds s" >&2
	exit 2
}

echo "soak: writing a cluster of $cluster_nodes nodes and $((cluster_nodes * pods_per_node)) pods"
"$loadgen" --write-cluster "$work/cluster.json" --cluster-nodes "$cluster_nodes" \
	--pods-per-node "$pods_per_node" --tenants "$tenants"

mkfifo -m 600 "$work/apiserver.stdin"
"$apiserver" --fixture "$work/cluster.json" <"$work/apiserver.stdin" >"$work/apiserver.port" \
	2>"$work/apiserver.log" &
api_pid=$!
exec 3>"$work/apiserver.stdin"
wait_for "the test API server start" 60 test -s "$work/apiserver.port"
api_url="http://127.0.0.1:$(head -n1 "$work/apiserver.port")"

cat >"$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: soak
clusters:
- name: test
  cluster: {server: "$api_url"}
users:
- name: scheduler
  user: {token: soak-test}
contexts:
- name: soak
  context: {cluster: test, user: scheduler}
EOF

# The decision log (one line per call, info level) stays on, as in
# production, but its lines are dropped before they reach the file. The
# filter ends when stowage closes its standard error.
"$stowage" serve --kubeconfig "$work/kubeconfig" --listen 127.0.0.1:0 "${serve_policy[@]}" \
	2> >(grep --line-buffered -v ' extender: decision ' >"$work/serve.log") &
serve_pid=$!
wait_for "stowage serve to log its address" 30 grep -qs 'listening address=' "$work/serve.log"
address=$(grep -o 'listening address=[^ ]*' "$work/serve.log" | head -n1 | cut -d= -f2)
ready() { [ "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "http://$address/readyz")" = 200 ]; }
wait_for "stowage to sync (/readyz 200)" 120 ready
echo "soak: stowage (pid $serve_pid) ready at $address, test API server (pid $api_pid) at $api_url"

common=(--url "http://$address" --connections "$connections" --names 500
	--cluster-nodes "$cluster_nodes" --apiserver "$api_url" --churn-rate "$churn_rate"
	--compact-seconds "$compact_seconds" --watch "stowage=$serve_pid" --tenants "$tenants")
header="| offered pods/s | achieved pods/s | filter p50 / p90 / p99 / max ms | prioritize p50 / p90 / p99 / max ms | errors | stowage RSS MiB |"
rule="| --- | --- | --- | --- | --- | --- |"

if [ "$run_steps" = 1 ]; then
	rows=()
	for rate in $steps; do
		echo
		echo "soak: step at $rate pods/s for $step_seconds s"
		# Overload is expected at the top rates: a failed step is reported,
		# not fatal.
		"$loadgen" "${common[@]}" --watch "apiserver=$api_pid" --rate "$rate" \
			--duration "$step_seconds" --interval 5 --markdown | tee "$work/step.out" || true
		rows+=("$(grep '^|' "$work/step.out" || echo "| $rate | (no result) | | | | |")")
	done
	echo
	echo "soak: rising rates, $connections connections, churn $churn_rate pod changes/s:"
	echo "$header"
	echo "$rule"
	printf '%s\n' "${rows[@]}"
fi

verdict=0
if [ "$run_soak" = 1 ]; then
	warmup=$((soak_seconds / 6))
	[ "$warmup" -gt 300 ] && warmup=300
	echo
	echo "soak: $soak_rate pods/s for $soak_seconds s, RSS every 10 s, warm-up $warmup s"
	"$loadgen" "${common[@]}" --watch "apiserver=$api_pid:$apiserver_flat_pct" \
		--rate "$soak_rate" --duration "$soak_seconds" --interval 10 \
		--warmup "$warmup" --rss-flat "$rss_flat_pct" --markdown \
		| tee "$work/soak.out" || verdict=$?
	echo
	if [ "$verdict" -eq 0 ]; then
		echo "soak: verdict PASS: zero errors, stowage RSS after $warmup s within $rss_flat_pct%"
	else
		echo "soak: verdict FAIL: see the errors and rss lines above"
		verdict=1
	fi
fi
exit "$verdict"
