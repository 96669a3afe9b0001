#!/usr/bin/env bash
# The GPU figures and checks in one command, for any CUDA box with the project's packages (the lock,
# or the `bench` and `test` extras) installed:
#
#     bash benchmarks/gpu_run.sh [OUTDIR] [STEP...]      # default: every step, logs in gpu-results/
#
# Steps, most important first, each with its own time limit and log (a step that fails or runs out
# of time does not stop the others; its log says how far it got):
#   env       the GPU, driver and library versions
#   bench06   0.6B shape, bf16: engine, packed batches, the official way, sentence-transformers;
#             256 pairs of 512-token chunks and of 32..2048 tokens (pairs/s, tokens/s, MFU, memory)
#   gputests  tests/engine/test_gpu.py: bf16 on the GPU (whole prompts, shared head, packed, compiled)
#             held to the fp32 reference, tiny model and 0.6B shape; prints each figure
#   engine    the engine's tests on the GPU in fp32 with the CPU's tolerances (compiles left out)
#   bench8b   8B shape in 8-bit and 4-bit: the weights' memory and the engine's speed
#   bench4b   4B shape, bf16: the engine and packed batches against the official way (MFU)
#   live      a live edit's batches of 1..8 rows (tiny model): eager against CUDA graphs
#   levers    0.6B shape: each engine lever on its own (shared head, overlap, token budget) and a
#             profile of one call
#   pipeline  0.6B shape: a corpus job and sample_data's first ranking with tokenising on a thread
#             beside the GPU (the CUDA default) against serial, pairs/s and time to first scores
#   compiled  0.6B shape, 512-token chunks: the compiled forward (bucketed shapes, CUDA graphs) and
#             a fused one (dynamic shapes, no CUDA graphs) on big batches (their compiles: minutes)
#   cpu       the box's CPU cores, GPU hidden (a many-core CPU: 16 on the lent machines): passes one
#             per core against one multi-threaded pass, and the engine against its peers, 8 layers
#             of the 0.6B shape in fp32, 32 pairs
set -u
cd "$(dirname "$0")/.."
out=${1:-gpu-results}
shift || true
steps=${*:-env bench06 gputests engine bench8b bench4b live levers pipeline compiled cpu}
py=${PYTHON:-python3}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

run() {  # run NAME LIMIT_S COMMAND...: log to OUT/NAME.log, print its tail and how it ended
    local name=$1 limit=$2 start=$SECONDS rc
    shift 2
    echo "=== $name (limit ${limit} s): $*"
    timeout --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1
    rc=$?
    grep -v "^\s*$" "$out/$name.log" | tail -n "${TAIL:-45}"
    echo "=== $name: exit $rc after $((SECONDS - start)) s$([ $rc = 124 ] && echo ' (time limit)')"
}


for step in $steps; do
    case $step in
    env) run env 60 bash -c "nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv;
        $py -c 'import torch, transformers, sentence_transformers as st; print(torch.__version__, torch.version.cuda,
        transformers.__version__, st.__version__); import bitsandbytes; print(\"bitsandbytes\", bitsandbytes.__version__)'" ;;
    bench06) run bench06 200 "$py" benchmarks/bench_engine.py --no-live-edit --shapes 0.6B --quantize none --methods engine,packed,official,st ;;
    gputests) run gputests 200 env WORKBENCH_TEST_DEVICE=cuda "$py" -m pytest tests/engine/test_gpu.py -q -s \
        -p no:randomly -p no:cacheprovider ;;
    engine) run engine 120 env WORKBENCH_TEST_DEVICE=cuda "$py" -m pytest tests/engine -q -p no:randomly \
        -p no:cacheprovider --ignore=tests/engine/test_gpu.py --ignore=tests/engine/test_fallback.py -k "not compile" ;;
    bench8b) run bench8b 150 "$py" benchmarks/bench_engine.py --no-live-edit --shapes 8B --quantize 8bit,4bit --methods engine --workloads chunks --pairs 64 \
        --rounds 2 ;;
    bench4b) run bench4b 150 "$py" benchmarks/bench_engine.py --no-live-edit --shapes 4B --quantize none --methods engine,packed,official --workloads chunks,mixed \
        --pairs 128 --rounds 2 ;;
    live) run live 150 "$py" benchmarks/bench_engine.py --device cuda --live-batches ;;
    levers) run levers 300 "$py" benchmarks/gpu_levers.py --compiled "" ;;
    pipeline) run pipeline 240 "$py" benchmarks/bench_corpus.py 2000 --pipeline --rounds 3 --shape 0.6B --device cuda ;;
    compiled) run compiled 420 "$py" benchmarks/gpu_levers.py --workloads chunks --budgets "" --profile "" \
        --compiled chunks ;;
    cpu) run cpu 300 env CUDA_VISIBLE_DEVICES= bash -c "$py benchmarks/core_scaling.py && $py benchmarks/bench_engine.py \
        --device cpu --dtype fp32 --shapes 0.6B --layers 8 --pairs 32 --rounds 2 --no-live-edit --methods engine,onepass,official,st" ;;
    *) echo "unknown step $step" ;;
    esac
done
