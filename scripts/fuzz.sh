#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and fuzzes each for a while.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]      (defaults: all, 60)
#
# Targets: safetensors, model-config, tokenizer, file-task, dot (Fuzz/Sources/Fuzz*/ wrap the checks
# in Sources/MechanicFuzzChecks/, which the test suite also replays; see Fuzz/README.md).
# Each runs on a copy of its seed corpus (Fuzz/Corpus/TARGET → Fuzz/.work/TARGET/corpus, which
# gains the inputs that found new coverage); the committed corpus is never written. Crash,
# timeout, leak and out-of-memory inputs land in Fuzz/.work/TARGET/artifacts/, the full log in
# Fuzz/.work/TARGET/fuzz.log. Exits non-zero when any target found something.
#
# Environment: FUZZ_SANITIZERS (default "fuzzer,address"; "fuzzer" alone builds without
# AddressSanitizer), FUZZ_TIMEOUT (seconds one input may take, 10),
# FUZZ_RSS_MB (memory limit, 2048), FUZZ_ARGS (extra libFuzzer flags, e.g. "-jobs=2 -workers=2").
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"

declare -A executables=(
    [safetensors]=FuzzSafetensors [model-config]=FuzzModelConfig [tokenizer]=FuzzTokenizer
    [file-task]=FuzzFileTask [dot]=FuzzDOT
)
order=(safetensors model-config tokenizer file-task dot)

target=${1:-all}
seconds=${2:-60}
if [[ $target == all ]]; then
    targets=("${order[@]}")
elif [[ -n ${executables[$target]:-} ]]; then
    targets=("$target")
else
    echo "usage: scripts/fuzz.sh [all|$(IFS='|'; echo "${order[*]}")] [SECONDS]" >&2
    exit 2
fi
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "SECONDS must be a positive integer, not '$seconds'" >&2; exit 2; }

# One comma-separated -sanitize flag: swiftc keeps only the last of several, so SwiftPM's
# `--sanitize=fuzzer --sanitize=address` compiles without coverage instrumentation.
sanitizers=(-Xswiftc "-sanitize=${FUZZ_SANITIZERS:-fuzzer,address}")
build_start=$SECONDS
products=()
for t in "${targets[@]}"; do products+=("${executables[$t]}"); done
if [[ ${#targets[@]} -eq 1 ]]; then
    nice -n 5 swift build -c release "${sanitizers[@]}" --product "${products[0]}"
else
    nice -n 5 swift build -c release "${sanitizers[@]}"
fi
bin=$(swift build -c release "${sanitizers[@]}" --show-bin-path)
echo "build: $((SECONDS - build_start)) s"

# Swift's own crash handler fights AddressSanitizer's; libFuzzer and ASan report crashes.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
# Leaks in the toolchain's Foundation, not in Mechanic (see the file).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/lsan.supp:print_suppressions=0}

status=0
summary=()
for t in "${targets[@]}"; do
    work=.work/$t
    rm -rf "$work"
    mkdir -p "$work/artifacts"
    cp -R "Corpus/$t" "$work/corpus"
    echo "== $t: ${seconds} s"
    set +e
    # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
    nice -n 5 "$bin/${executables[$t]}" "$work/corpus" \
        -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
        -malloc_limit_mb="${FUZZ_RSS_MB:-2048}" -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
        ${FUZZ_ARGS:-} >"$work/fuzz.log" 2>&1
    code=$?
    set -e
    stat() { sed -n "s/^stat::$1: *//p" "$work/fuzz.log" | tail -1; }
    execs=$(stat number_of_executed_units)
    rate=$(stat average_exec_per_sec)
    added=$(stat new_units_added)
    rss=$(stat peak_rss_mb)
    coverage=$(grep -E '^#[0-9]+' "$work/fuzz.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)
    findings=$(find "$work/artifacts" -type f | wc -l)
    line="$t: ${execs:-?} execs, ${rate:-?} exec/s, ${added:-?} new units, ${coverage:-no coverage line}, peak ${rss:-?} MB, $findings finding(s), exit $code"
    echo "$line"
    summary+=("$line")
    if [[ $code -ne 0 || $findings -gt 0 ]]; then
        status=1
        grep -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|Fatal error|Precondition failed' "$work/fuzz.log" || true
        find "$work/artifacts" -type f -printf '  %p\n'
    fi
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
