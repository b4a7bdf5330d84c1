# bench/lib.sh - checks that every bench script makes before it starts.
# Sourced, not run.

# bench_require TOOL...: exit with a message when a tool is missing.
bench_require() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null || {
			echo "bench: $tool is missing" \
				"(scripts/setup --bench)" >&2
			exit 1
		}
	done
}

# bench_runbundle: make $RB an absolute path, and exit with a message
# when it is not an executable.
bench_runbundle() {
	RB=$(cd "$(dirname "$RB")" && pwd)/$(basename "$RB")
	if [ ! -x "$RB" ]; then
		echo "bench: runbundle not found: '$RB'" >&2
		exit 1
	fi
}
