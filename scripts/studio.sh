#!/usr/bin/env bash
# Serve the support workflow to LangGraph Studio and Agent Inbox with `langgraph dev`, offline.
#
#   scripts/studio.sh                 # http://127.0.0.1:8123
#   PORT=8200 scripts/studio.sh       # another port; extra arguments go to `langgraph dev`
#
# Why each setting: the CLI sends usage analytics and the server checks PyPI for a newer
# version unless told not to; a LangSmith key in the environment turns on the server's
# metadata beacon and tracing. If the port is taken, `langgraph dev` silently picks a
# random one, so a taken port is an error here instead.
#
# The in-memory server keeps its threads in .langgraph_api/ under the working directory
# and resolves the paths in langgraph.json against it: the repository root. The test
# suite points STUDIO_CONFIG at a config with absolute paths and STUDIO_WORKDIR at a
# temporary directory, so it never touches a developer's Studio threads.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"

PORT="${PORT:-8123}"
HOST="${HOST:-127.0.0.1}"
CONFIG="${STUDIO_CONFIG:-$REPO/langgraph.json}"
if [ -z "${LANGGRAPH_BIN:-}" ]; then
  if [ -x "$REPO/.venv/bin/langgraph" ]; then LANGGRAPH_BIN="$REPO/.venv/bin/langgraph"; else LANGGRAPH_BIN=langgraph; fi
fi
if ! command -v "$LANGGRAPH_BIN" >/dev/null 2>&1; then
  echo "langgraph CLI not found: pip install -e '.[dev]' (it needs langgraph-cli[inmem])" >&2
  exit 1
fi
if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
  echo "port $PORT on $HOST is already in use; choose another: PORT=8200 make studio" >&2
  exit 1
fi

export LANGGRAPH_CLI_NO_ANALYTICS=1
export LANGGRAPH_NO_VERSION_CHECK=1
export LANGSMITH_TRACING=false
export LANGCHAIN_TRACING_V2=false
export ORT_DISABLE_TELEMETRY=1
unset LANGSMITH_API_KEY LANGCHAIN_API_KEY LANGSMITH_CONTROL_PLANE_API_KEY LANGGRAPH_CLOUD_LICENSE_KEY

cd "${STUDIO_WORKDIR:-$REPO}"
exec "$LANGGRAPH_BIN" dev --config "$CONFIG" --host "$HOST" --port "$PORT" --no-browser "$@"
