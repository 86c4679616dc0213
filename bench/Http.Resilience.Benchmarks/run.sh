#!/usr/bin/env bash
# Runs the BenchmarkDotNet suite (ours, the Microsoft standard handler and hand-built Polly, side by side) and the
# loopback load run, then writes bench/Http.Resilience.Benchmarks/RESULTS.md. Pass --quick for a short run.
# Run it on a quiet machine: anything else using the cores skews every number.
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet run -c Release --project bench/Http.Resilience.Benchmarks -- "$@"
