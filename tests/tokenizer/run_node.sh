#!/bin/sh
# run_node.sh SCRIPT ARGS... - run a node test script; skip (77) without node.
command -v node >/dev/null 2>&1 || { echo "SKIP: node not installed"; exit 77; }
exec node "$@"
