# The two commands a newcomer needs (each installs what it needs first):
#   make demo   build the release contract bundles and play the whole story in a sandbox chain
#   make test   run every test
.PHONY: demo test setup bundles vectors bench node node-e2e deploy model-long random-long web web-serve

demo:
	bash scripts/setup.sh
	bash scripts/bundles.sh
	. scripts/env.sh && cargo run -q --locked -p serving-cli -- demo $(DEMO_FLAGS)

test:
	bash scripts/test.sh

setup:
	bash scripts/setup.sh --cargo-contract

bundles:
	bash scripts/bundles.sh

# The marketplace page for users (web/dist), and serving it against the node in ./deployment.json (make deploy).
web:
	bash scripts/web.sh build

web-serve:
	bash scripts/web.sh serve

# Regenerates verifier/vectors/vectors.json with eth-account (an independent EIP-712 implementation).
vectors:
	python3 -m venv /tmp/serving-vectors-venv
	/tmp/serving-vectors-venv/bin/pip install -q eth-account==0.13.7
	/tmp/serving-vectors-venv/bin/python verifier/vectors/gen_vectors.py > verifier/vectors/vectors.json

# Weight and size benchmark of the release bundles; writes docs/benchmarks.md.
bench:
	bash scripts/setup.sh
	bash scripts/bundles.sh
	. scripts/env.sh && cargo run -q -p serving-e2e-tests --example bench

# Optional: substrate-contracts-node 0.42 (about 50 minutes to build, once).
node:
	bash scripts/install-node.sh

# Optional: deploy on a real node and run the e2e story there (installs the node first).
node-e2e:
	bash scripts/node-e2e.sh

# Deploys the release bundles to a node: make deploy URL=ws://host:9944 SURI=//Alice [OUT=deployment.json]
deploy:
	bash scripts/deploy.sh --url $(or $(URL),ws://127.0.0.1:9944) --suri $(or $(SURI),//Alice) --out $(or $(OUT),deployment.json)

# Long property runs (issue-6 figures): 10,000 random sequences of the plain rules, and longer random runs
# against the real contracts in the sandbox.
model-long:
	. scripts/env.sh && PROPTEST_CASES=10000 cargo test --locked -p serving-e2e-tests --test model -- --nocapture

random-long:
	. scripts/env.sh && SERVING_RANDOM_RUNS=20 SERVING_RANDOM_STEPS=150 cargo test --locked -p serving-e2e-tests --test sandbox random:: -- --nocapture
