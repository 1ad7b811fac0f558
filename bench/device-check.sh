#!/usr/bin/env bash
# device-check.sh is the prepared device check of the step benchmark: on a
# machine with an NVIDIA GPU, PyTorch and the fleetsim binary (built
# beforehand with `go build -o fleetsim ./cmd/fleetsim` and carried), it
#
#   1. records the environment (nvidia-smi, torch) and `fleetsim gpu inventory --output json`;
#   2. runs bench/step_bench.py on $MODEL under `fleetsim gpu sample` (power and
#      utilization every 100 ms), and on $CHECK_MODEL without sampling;
#   3. fits a profile to both CSVs with `fleetsim calibrate`, $CHECK_MODEL held out;
#   4. runs `fleetsim predict` with the fitted profile and with the built-in vllm one;
#
# everything into $OUT, in about 2-4 minutes on an H200. Run it from the
# repository root: OUT=/some/dir bench/device-check.sh. The `fleetsim gpu`
# commands are optional: where the binary lacks them (or NVML fails) the step
# is logged and skipped, and the benchmark runs without sampling. Settings
# come from the environment (defaults below); DEVICE=cpu with small sizes
# dry-runs the whole script on a machine without a GPU.
set -euo pipefail

: "${OUT:?set OUT to the output folder}"
FLEETSIM=${FLEETSIM:-./fleetsim}
PY=${PYTHON:-python3}
GPU=${GPU:-h200}
MODEL=${MODEL:-llama-3.1-8b}
CHECK_MODEL=${CHECK_MODEL:-llama-3.2-3b}
DEVICE=${DEVICE:-cuda}
DTYPE=${DTYPE:-bf16}
LAYERS=${LAYERS:-4}
PREFILL=${PREFILL:-128,256,512,1024,2048,4096,8192}
# batch x 2 x context must stay within the replica's KV capacity (fleetsim
# predict prints "KV cache tokens": about 0.8 M for llama-3.1-8b on an H200),
# or the static prediction splits the batch into waves the bench did not run.
BATCHES=${BATCHES:-1,4,16,64}
CONTEXTS=${CONTEXTS:-512,2048,4096}
WARMUP=${WARMUP:-3}
REPEATS=${REPEATS:-10}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-150}

mkdir -p "$OUT"
LOG="$OUT/device-check.log"
log() { echo "[device-check $(date -u +%H:%M:%S)] $*" | tee -a "$LOG" >&2; }

# has_gpu_cmd NAME: whether `fleetsim gpu --help` lists the subcommand NAME.
# The help is captured first: grep -q closing a pipe early would fail it
# under pipefail.
has_gpu_cmd() {
	local help
	help=$("$FLEETSIM" gpu --help 2>/dev/null) || return 1
	grep -Eq "^[[:space:]]+$1([[:space:]]|\$)" <<<"$help"
}

# bench_cmd MODEL CSV sets BENCH to the benchmark's command line.
bench_cmd() {
	BENCH=(timeout "$BENCH_TIMEOUT" "$PY" bench/step_bench.py --gpu "$GPU" --model "$1" --layers "$LAYERS"
		--dtype "$DTYPE" --device "$DEVICE" --prefill "$PREFILL" --decode-batches "$BATCHES"
		--contexts "$CONTEXTS" --warmup "$WARMUP" --repeats "$REPEATS" --out "$2")
}

log "start: gpu $GPU, model $MODEL, check model $CHECK_MODEL, device $DEVICE, $LAYERS layers, dtype $DTYPE"
{
	date -u
	uname -a
	nvidia-smi || echo "nvidia-smi: not available (rc $?)"
	"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available()); print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no cuda device")' ||
		echo "torch: not importable (rc $?)"
} >"$OUT/env.txt" 2>&1
log "environment in env.txt"

if [[ ! -x $FLEETSIM ]]; then
	log "error: $FLEETSIM is not an executable; build it first: go build -o fleetsim ./cmd/fleetsim"
	exit 1
fi

# 1. Inventory.
if has_gpu_cmd inventory; then
	if "$FLEETSIM" gpu inventory --output json >"$OUT/inventory.json" 2>"$OUT/inventory.err"; then
		log "inventory: inventory.json"
	else
		log "inventory failed (rc $?), see inventory.err; going on"
	fi
else
	log "fleetsim has no 'gpu inventory'; skipped"
fi

# 2. The benchmark, sampled where `gpu sample` exists.
CSV="$OUT/stepbench.csv"
bench_cmd "$MODEL" "$CSV"
if has_gpu_cmd sample; then
	log "bench $MODEL under fleetsim gpu sample"
	"$FLEETSIM" gpu sample --interval 100ms --out "$OUT/sample.csv" -- "${BENCH[@]}" 2>&1 |
		tee "$OUT/stepbench.log" >&2 || log "gpu sample or the bench under it failed; see stepbench.log"
else
	log "fleetsim has no 'gpu sample'"
fi
if [[ ! -s $CSV ]]; then
	log "bench $MODEL without sampling"
	"${BENCH[@]}" 2>&1 | tee "$OUT/stepbench-nosample.log" >&2 || {
		log "the bench failed; see stepbench-nosample.log"
		exit 1
	}
fi
log "bench $MODEL: $(($(wc -l <"$CSV") - 1)) rows in stepbench.csv"

CHECK_CSV="$OUT/stepbench-check.csv"
if [[ -n $CHECK_MODEL ]]; then
	bench_cmd "$CHECK_MODEL" "$CHECK_CSV"
	log "bench check model $CHECK_MODEL"
	if "${BENCH[@]}" 2>&1 | tee "$OUT/stepbench-check.log" >&2; then
		log "bench $CHECK_MODEL: $(($(wc -l <"$CHECK_CSV") - 1)) rows in stepbench-check.csv"
	else
		log "bench $CHECK_MODEL failed; calibrating on $MODEL alone"
		rm -f "$CHECK_CSV"
	fi
fi

# 3. Calibrate: one profile (framework pytorch -> family "custom"), the check
# model held out and reported as check rows.
PROFILE="$OUT/stepbench-$GPU.yaml"
CAL=("$CSV")
CHECK_FLAGS=()
if [[ -s $CHECK_CSV ]]; then
	CAL+=("$CHECK_CSV")
	CHECK_FLAGS=(--check-models "$CHECK_MODEL")
fi
log "calibrate"
"$FLEETSIM" calibrate "${CAL[@]}" "${CHECK_FLAGS[@]}" --name "stepbench-$GPU" --out "$PROFILE" \
	--accuracy "$OUT/accuracy.md" | tee "$OUT/calibrate.txt" >&2
log "profile $PROFILE, accuracy report accuracy.md"

# 4. Predict an operating point with the fitted and the built-in profile.
for prof in "$PROFILE" vllm; do
	name=$(basename "$prof" .yaml)
	"$FLEETSIM" predict --gpu "$GPU" --model "$MODEL" --profile "$prof" --batch 32 --isl 1024 --osl 256 \
		>"$OUT/predict-$name.txt" 2>&1 || log "predict with $prof failed (rc $?), see predict-$name.txt"
done
# And the bench's own operating points, for a side-by-side with the CSV.
{
	echo "gpu,model,tp,precision,batch,isl,osl"
	awk -F, 'NR > 1 && $7 == "static" { print $2 "," $3 ",1,bf16," $8 "," $9 "," $10 }' "$CSV"
} >"$OUT/points.csv"
"$FLEETSIM" predict --csv "$OUT/points.csv" --profile "$PROFILE" >"$OUT/predict-points.csv" 2>"$OUT/predict-points.err" ||
	log "predict --csv failed (rc $?), see predict-points.err"

log "done; files:"
ls -l "$OUT" | tee -a "$LOG" >&2
