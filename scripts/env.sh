# Sourced by the project's scripts: puts the project's tools on PATH.
export PATH="${SERVING_TOOLS:-$HOME/.local/share/serving-tools}/bin:$HOME/.cargo/bin:$PATH"
# Keep cargo's output small and builds reproducible on 2 cores.
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
