# Two commands on a fresh machine: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: install system-deps vendor demo serve test test-fast prod-check bench lint messages clean

$(BIN)/.installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	touch $@

# System packages: Pango for WeasyPrint's PDFs, Chromium for the browser tests, fonts for both,
# nginx for `make prod-check` (the TLS proxy of deploy/nginx/cencomm.conf).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$$missing nginx"; \
	ldconfig -p 2>/dev/null | grep -q libpango-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Please install:$$missing (browser tests and PDFs need them)"; fi; \
	fi

# The service worker's libraries (browser builds; frontend/pwa.py loads them in this order).
WORKBOX_MODULES := core precaching routing strategies expiration

frontend/static/vendor/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p frontend/static/vendor
	cp frontend/node_modules/uplot/dist/uPlot.iife.min.js frontend/node_modules/uplot/dist/uPlot.min.css frontend/static/vendor/
	cp frontend/node_modules/idb/build/umd.js frontend/static/vendor/idb.umd.js
	cp frontend/node_modules/axe-core/axe.min.js frontend/static/vendor/  # the browser tests' accessibility checks
	cp frontend/node_modules/@zxing/library/umd/index.min.js frontend/static/vendor/zxing-library.min.js  # the scan's fallback where BarcodeDetector is missing
	mkdir -p frontend/static/vendor/workbox
	for module in $(WORKBOX_MODULES); do \
	  cp frontend/node_modules/workbox-$$module/build/workbox-$$module.prod.js \
	     frontend/node_modules/workbox-$$module/build/workbox-$$module.prod.js.map frontend/static/vendor/workbox/; \
	done
	touch $@

vendor: frontend/static/vendor/.installed

install: $(BIN)/.installed vendor system-deps

demo: install
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py demo_setup
	@echo "Serving the demo on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	$(BIN)/daphne -b 127.0.0.1 -p $(PORT) asgi:application

serve: install
	$(BIN)/daphne -b 127.0.0.1 -p $(PORT) asgi:application

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not browser and not slow"

# The production stack of docs/deploy.md for real: nginx with TLS, two daphne processes, the report
# worker, on the PostgreSQL and Redis of DATABASE_URL / REDIS_URL (own database and key prefix), driven
# over https and wss, then stopped (deploy/prod_check.py).
prod-check: install
	$(BIN)/python deploy/prod_check.py

# All benchmarks, or some: `make bench BENCH="fanout ingest"` (needs PostgreSQL and Redis, see docs/performance.md).
bench: install
	$(BIN)/python -m bench $(BENCH)

# The interface's translations: find every text (makemessages), fill the catalogues from
# locale/translations.py, compile them. The compiled catalogues are committed: no gettext needed to run.
messages: install
	$(BIN)/python manage.py makemessages -l fr -l es -l pt -l ru -l ar --no-obsolete --no-location \
	  --ignore=".venv/*" --ignore="frontend/node_modules/*" --ignore="bench/*" --ignore="tests/*" --ignore="locale/*"
	$(BIN)/python locale/build.py
	$(BIN)/python manage.py compilemessages --ignore=".venv/*"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) frontend/node_modules frontend/static/vendor staticfiles .pytest_cache
