# gate_lib.sh - helpers for the gate, apply and report tests, sourced
# after lib.sh. $1 of every test is the forge binary (forge.c).
FORGE=$1

# forge BUNDLE SPEC: write a bundle from a spec of JSON lines.
forge() {
	"$FORGE" "$1" "$2" || fail "forge '$1' failed"
}

# run_spec DIR [OPTION...]: start the spec of a run in DIR/spec: DIR/before
# as the initial snapshot, then the events that the options name.
# run_finish adds DIR/after as the final snapshot.
#	--exec PATH ARGV0     an exec event
#	--denied CMD          an exec violation
#	--network HOST:PORT   a proxy violation
#	--write PATH          a refused write, as the sandbox reports it
#	--connect FAMILY ADDRESS PORT
#	                      a refused connect(2), as the sandbox reports it
#	--divergence          a divergence event
#	--no-end              no end event, no finalize
run_spec() {
	dir=$1
	shift
	spec=$dir/spec
	echo "{\"kind\": \"record\", \"data\": {\"argv\": [\"agent\"]}}" \
		>"$spec"
	echo "{\"snapshot\": \"$dir/before\", \"at\": \"initial\"}" >>"$spec"
	end=1
	while [ $# -gt 0 ]; do
		case $1 in
		--exec)
			jq -cn --arg p "$2" --arg a "$3" '{kind: "exec",
				data: {index: 0, pid: 10, path: $p,
				argv: [$a, "-x"], time_us: 1}}' >>"$spec"
			shift 2 ;;
		--denied)
			jq -cn --arg c "$2" '{kind: "violation",
				data: {source: "exec", index: 0, pid: 10,
				command: $c}}' >>"$spec"
			shift ;;
		--network)
			jq -cn --arg h "${2%:*}" --argjson p "${2##*:}" \
				'{kind: "violation", data: {source: "proxy",
				host: $h, port: $p, reason: "not allowed"}}' \
				>>"$spec"
			shift ;;
		--write)
			jq -cn --arg p "$2" '{kind: "violation",
				data: {source: "write", pid: 10,
				syscall: "openat", path: $p, flags: "O_WRONLY",
				error: "EACCES"}}' >>"$spec"
			shift ;;
		--connect)
			jq -cn --arg f "$2" --arg a "$3" --argjson p "$4" \
				'{kind: "violation", data: {source: "network",
				pid: 10, syscall: "connect", family: $f,
				address: $a, port: $p, error: "EACCES"}}' \
				>>"$spec"
			shift 3 ;;
		--divergence)
			echo '{"kind": "divergence", "data": {"verdict":
				"diverged"}}' | jq -c . >>"$spec" ;;
		--no-end)
			end=0 ;;
		esac
		shift
	done
}

# run_finish DIR: the final snapshot, the end event, and finalize.
run_finish() {
	echo "{\"snapshot\": \"$1/after\", \"at\": \"final\"}" >>"$1/spec"
	if [ "$end" = 1 ]; then
		echo '{"kind": "end", "data": {"exit_code": 0}}' >>"$1/spec"
		echo '{"finalize": true}' >>"$1/spec"
	fi
}

# exchange_run DIR BUNDLE: forge BUNDLE, a finalized run of one step
# with an exec and an exchange whose response text is "hello", with
# 5 input and 7 output tokens. Events: 1 record, 2 and 3 the initial snapshot,
# 4 exec, 5 exchange, 6 and 7 the final snapshot, 8 end. The run
# changes 'a' and deletes 'gone'.
exchange_run() {
	mkdir -p "$1/before" "$1/after"
	printf 'initial\n' >"$1/before/a"
	printf 'unrelated\n' >"$1/before/gone"
	printf 'final\n' >"$1/after/a"
	run_spec "$1" --exec /bin/true true
	jq -cn '{kind: "exchange", data: {seq: 1}, exchange: {request: "{}",
		response: "{\"choices\": [{\"message\": {\"content\":
		\"hello\"}}], \"usage\": {\"prompt_tokens\": 5,
		\"completion_tokens\": 7}}"}}' >>"$1/spec"
	run_finish "$1"
	forge "$2" "$1/spec"
}

# hostile_bundle DIR: DIR/b.rb, a run of three steps whose file names,
# commands and model text carry markup, quotes and a line separator.
hostile_bundle() {
	h=$1
	mkdir -p "$h/s0" "$h/s1" "$h/s2"
	echo a >"$h/s0/ok.txt"
	cp -a "$h/s0/." "$h/s1/"
	echo '<script>alert("file")</script>' \
		>"$h/s1/<script>alert(1)<\script>.txt"
	cp -a "$h/s1/." "$h/s2/"
	echo "it's \"quoted\"" >"$h/s2/a\"b'c.txt"

	# An exchange whose request and answer carry markup.
	request='{"model": "m", "messages": [{"role": "system",
		"content": "</script><script>alert(2)</script>"},
		{"role": "user", "content": "fix it \u2028 <!--"}]}'
	response='{"id": "r1", "object": "chat.completion", "model": "m",
		"choices": [{"index": 0, "message": {"role": "assistant",
		"content": "<img src=x onerror=alert(3)>",
		"tool_calls": [{"id": "c1", "type": "function", "function":
		{"name": "<b>bold</b>",
		 "arguments": "{\"cmd\": \"</script>\"}"}}]},
		"finish_reason": "tool_calls"}],
		"usage": {"prompt_tokens": 5, "completion_tokens": 7}}'

	# Three steps: the exchange, a command and a violation in step 1.
	{
	echo '{"kind": "record", "data": {"argv": ["<script>agent"]}}'
	echo "{\"snapshot\": \"$h/s0\", \"at\": \"initial\"}"
	echo "{\"snapshot\": \"$h/s1\", \"at\": \"request\", \"exchange\": 1}"
	jq -cn --arg q "$request" --arg r "$response" '{kind: "exchange",
		data: {seq: 1, upstream: "script", method: "POST",
		path: "/v1/chat/completions", status: 200,
		outcome: "complete", duration_us: 1500},
		exchange: {path: "/v1/chat/completions", request: $q,
		response: $r}}'
	jq -cn '{kind: "exec", data: {index: 0, pid: 10, path: "/bin/sh",
		argv: ["sh", "-c",
		"echo \"<script>alert(4)</script>\" > '"'"'x'"'"'"]}}'
	echo '{"kind": "process-end", "data": {"index": 0, "pid": 10,
		"end": "exited", "exit_code": 3}}' | jq -c .
	jq -cn '{kind: "violation", data: {source: "exec", index: 0,
		pid: 10, command: "<script>sudo"}}'
	echo "{\"snapshot\": \"$h/s2\", \"at\": \"final\"}"
	echo '{"kind": "end", "data": {"exit_code": 0}}'
	echo '{"finalize": true}'
	} >"$h/spec"
	forge "$h/b.rb" "$h/spec"
}

# expect_red_on_tty RED PLAIN COMMAND: on a terminal, COMMAND (one shell
# string) prints the red escape right before text matching RED; with
# NO_COLOR set it prints no escape and a line matching PLAIN. Without
# script(1) there is no terminal to test, and nothing is checked.
expect_red_on_tty() {
	command -v script >/dev/null || return 0
	esc=$(printf '\033')
	script -qec "env -u NO_COLOR $3" /dev/null >"$TMP/tty" || true
	grep -q "${esc}\[31m$1" "$TMP/tty" ||
		fail "no red on a terminal: $3"
	script -qec "env NO_COLOR=1 $3" /dev/null >"$TMP/tty" || true
	grep -q "$esc" "$TMP/tty" && fail "color with NO_COLOR set: $3"
	grep -q "$2" "$TMP/tty" ||
		fail "no output on a terminal with NO_COLOR: $3"
}
