# AuditLens: `make run` and `make test` set everything up themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SAMPLE := resources/samples/contact-center
CASE   := .cases/sample

.PHONY: run test lint setup system bench bench-verify bench-case sample-resource sample-case screenshots fuzz clean

$(STAMP): pyproject.toml tools/system-deps.sh
	bash tools/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Verifies the shipped sample, builds a case from it once, and opens the workbench on it. Without
# a display (no DISPLAY or WAYLAND_DISPLAY) it says so and stops after the verification.
run: setup sample-case
	$(VENV)/bin/auditlens verify $(SAMPLE)/bundles/*/* --trust $(SAMPLE)/truststore.json || true
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ -z "$$QT_QPA_PLATFORM" ]; then \
	  echo "no display: run 'make run' in a desktop session, or 'xvfb-run make run'"; \
	else $(VENV)/bin/auditlens gui $(CASE); fi

sample-case: setup
	@test -e $(CASE)/case.duckdb || $(VENV)/bin/auditlens import $(CASE) $(SAMPLE)/bundles/*/* \
	  --trust $(SAMPLE)/truststore.json > /dev/null || test -e $(CASE)/case.duckdb

# Renders each view of the sample case to docs/screenshots/ in a real X server (xvfb), in the
# light palette and (NAME-dark.png) the dark one.
screenshots: setup sample-case
	bash tools/system-deps.sh --xvfb
	mkdir -p docs/screenshots
	$(VENV)/bin/auditlens detect $(CASE) > /dev/null  # the findings, marked in every view
	# The Bookmarks tab over a copy with the incident bookmarked: the other views stay unmarked.
	rm -rf $(CASE)-bookmarks && cp -r $(CASE) $(CASE)-bookmarks
	$(VENV)/bin/auditlens bookmark $(CASE)-bookmarks --tag privilege-escalation \
	  --filter 'actor_id:sup-004 AND action:ROLE_CHANGE AND kind:audit' \
	  --note 'sup-004 grants itself a role at 01:09 UTC, from 198.51.100.211' > /dev/null
	$(VENV)/bin/auditlens bookmark $(CASE)-bookmarks --tag exfiltration \
	  --filter 'actor_id:sup-004 AND action:DOWNLOAD AND kind:audit' \
	  --note 'Call recordings downloaded one after another from 01:10 UTC' > /dev/null
	$(VENV)/bin/auditlens bookmark $(CASE)-bookmarks --tag exfiltration --tag missing-witness \
	  --filter 'actor_id:sup-004 AND action:DOWNLOAD AND resource_id:rec-9c8681a864d1' \
	  --note 'From 01:12:50 UTC the downloads have no audit record: only the span and the log saw them' \
	  > /dev/null
	$(VENV)/bin/auditlens bookmark $(CASE)-bookmarks --tag exfiltration --tag missing-witness \
	  --filter 'actor_id:sup-004 AND action:EXPORT' \
	  --note 'A contact export at 01:15 UTC, without an audit record either' > /dev/null
	for palette in light dark; do \
	  suffix=$$( [ $$palette = dark ] && echo -dark ); \
	  for tab in integrity events actors; do \
	    xvfb-run -a -s "-screen 0 1600x1000x24" $(VENV)/bin/auditlens gui $(CASE) --tab $$tab \
	      --palette $$palette --screenshot docs/screenshots/$$tab$$suffix.png || exit 1; done; \
	  xvfb-run -a -s "-screen 0 1600x1000x24" $(VENV)/bin/auditlens gui $(CASE) --tab events \
	    --palette $$palette --filter 'actor_id:sup-004 AND action:(EXPORT OR DOWNLOAD OR ROLE_CHANGE)' \
	    --screenshot docs/screenshots/events-incident$$suffix.png || exit 1; \
	  xvfb-run -a -s "-screen 0 1600x1000x24" $(VENV)/bin/auditlens gui $(CASE) --tab traces \
	    --palette $$palette --filter 'name:"inbound call"' \
	    --screenshot docs/screenshots/traces$$suffix.png || exit 1; \
	  xvfb-run -a -s "-screen 0 1600x1000x24" $(VENV)/bin/auditlens gui $(CASE) --tab findings \
	    --palette $$palette --finding missing-witness \
	    --screenshot docs/screenshots/findings$$suffix.png || exit 1; \
	  xvfb-run -a -s "-screen 0 1600x1000x24" $(VENV)/bin/auditlens gui $(CASE)-bookmarks \
	    --tab bookmarks --palette $$palette \
	    --screenshot docs/screenshots/bookmarks$$suffix.png || exit 1; \
	done

lint: setup
	$(VENV)/bin/ruff check app tests bench
	$(VENV)/bin/ruff format --check app tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: setup lint
	bash tools/system-deps.sh --test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: bench-verify bench-case

bench-verify: setup
	$(PY) bench/bench_verify.py --records 1000000

bench-case: setup
	$(PY) bench/bench_case.py --records 1000000 10000000

# Export, exhibit and report on the 10^7-event case (built by bench-case's data, imported once
# into bench/out/case-n10000000/detect-case as bench_detect.py does); see bench/README.md.
.PHONY: bench-legal
bench-legal: setup
	$(PY) bench/bench_legal.py --records 10000000

# Coverage-guided fuzzing of the verifier and the importers (tests/fuzz/harness.py), FUZZ_SECONDS
# each. The corpus grows under $(FUZZ_OUT)/corpus-*; each distinct crash is kept, with its
# traceback, in $(FUZZ_OUT)/crashes, and any crash there makes the target fail at the end.
FUZZ_SECONDS ?= 600
FUZZ_OUT     := bench/out/fuzz
fuzz: setup
	mkdir -p $(FUZZ_OUT)/crashes
	status=0; for target in verify import; do \
	  $(PY) -m tests.fuzz.harness $$target $(FUZZ_OUT)/corpus-$$target \
	    --keep-going=$(FUZZ_OUT)/crashes -max_total_time=$(FUZZ_SECONDS) -timeout=120 \
	    -artifact_prefix=$(FUZZ_OUT)/crashes/ || status=1; \
	done; \
	if ls $(FUZZ_OUT)/crashes/crash-* > /dev/null 2>&1; then \
	  echo "crashes kept in $(FUZZ_OUT)/crashes"; status=1; fi; \
	exit $$status

# Rebuilds the shipped sample case source (small, deterministic).
sample-resource: setup
	rm -rf $(SAMPLE)
	$(VENV)/bin/auditlens sample --out $(SAMPLE) --records 6000 --days 3 --seed 7

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The workbench on a large case (bench/out/case-n10000000 from bench-case, else a 10^6-event case
# it builds), offscreen: first window, jump, filter, GUI-thread stalls during an import.
.PHONY: bench-gui
bench-gui: setup
	QT_QPA_PLATFORM=offscreen $(PY) bench/bench_gui.py

# The frozen desktop build for an air-gapped lab (README, Packaging): dist/auditlens/ (run
# dist/auditlens/auditlens), dist/SHA256SUMS of it (signed into SHA256SUMS.sig with
# SIGN_KEY=PEM, an Ed25519 key from `auditlens keygen`), and the release archive
# dist/auditlens-VERSION-linux-x86_64.tar.gz; then packaging/smoke.sh runs the archive's program
# from outside the tree, without Python, in a network namespace. Not part of `make test`.
SIGN_KEY ?=
.PHONY: dist
dist: setup
	bash tools/system-deps.sh --xvfb
	$(PY) -m pip install --quiet -e '.[test,package]'
	@start=$$(date +%s); \
	rm -rf dist/auditlens build/pyinstaller && \
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist \
	  --workpath build/pyinstaller packaging/auditlens.spec && \
	echo "built dist/auditlens in $$(( $$(date +%s) - start )) s"
	bash packaging/release.sh dist $(SIGN_KEY)
	bash packaging/smoke.sh dist/auditlens-*-linux-x86_64.tar.gz
