# KAM Workbooks: `make run` and `make test` build everything they need.
# The environment is rebuilt only when pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := kam-workbooks
DATA   ?= data/sample

.PHONY: run test env wheel sample docs catalogue bench clean

run: env
	$(BIN)/kam validate --data $(DATA)
	$(BIN)/kam run all --data $(DATA) --out reports

test: env
	$(BIN)/python -m pytest

env: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "KAM Workbooks needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0] + ". Run: make PYTHON=python3.12 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# The kernel for JupyterLab and the notebook tests; `kam run` needs none installed.
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "KAM Workbooks" >/dev/null
	touch $(STAMP)

# The wheel `pip install` takes, in dist/ (build/ first removed: setuptools would otherwise
# put files deleted since the last build into it). CI installs it in a fresh virtual
# environment and runs it (tests/test_installed_package.py, KAM_WHEEL).
wheel: env
	rm -rf build dist
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir dist .

# Regenerate the synthetic sample company (committed under data/sample).
sample: env
	$(BIN)/kam sample --out $(DATA)

# Regenerate docs/data-contract.md from kamlib/data/contract.py.
docs: env
	$(BIN)/kam contract --out docs/data-contract.md

# Collect every user-facing word into the catalogue's template, bring each language's
# catalogue up to date with it, and compile them (kamlib/words/catalogue.py).
LOCALES := kamlib/words/locales
catalogue: env
	$(BIN)/pybabel extract -F babel.cfg -k n_:1,2 -k N_ --no-location --sort-output \
		--project "KAM Workbooks" -o $(LOCALES)/kamlib.pot kamlib
	for po in $(wildcard $(LOCALES)/*/LC_MESSAGES/kamlib.po); do \
		$(BIN)/pybabel update --quiet -D kamlib -i $(LOCALES)/kamlib.pot -d $(LOCALES) \
			-l $$(basename $$(dirname $$(dirname $$po))); done
	$(if $(wildcard $(LOCALES)/*/LC_MESSAGES/kamlib.po),$(BIN)/pybabel compile --quiet -D kamlib -d $(LOCALES))

# The benchmark suite (not part of make test): writes BENCHMARKS.md. The full scale takes
# about 40 minutes on 2 cores and generates ~2.5 GB of data once into benchmarks/.data/;
# SCALE=small REPEAT=1 is a five-minute try.
SCALE ?= full
REPEAT ?= 3
bench: env
	$(BIN)/python -m benchmarks.run --scale $(SCALE) --repeat $(REPEAT)

clean:
	rm -rf $(VENV) .pytest_cache build dist
