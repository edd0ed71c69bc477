#!/usr/bin/env bash
# nbval over the notebooks under each CPU-kernel profile (.ci/kernel_profiles.sh), then a table
# (.ci/nbval_summary.py): per profile the cells passed, failed, errored (an error in a cell's
# set-up, such as a kernel that died at start-up) and skipped, pytest's exit status, and the
# id of every cell that did not pass. make nbval (one profile) and make test-kernels run this.
# Usage: bash .ci/test_kernels.sh "native avx2 baseline" book/a.ipynb [book/b.ipynb ...]
# Workers and threads as for make nbval (NBVAL_WORKERS, NBVAL_THREADS; default 2 x 1). pytest's
# flags, the cell timeout among them, are NBVAL_FLAGS: make passes the Makefile's; run alone,
# this script reads them from the Makefile. nbval runs through .ci/nbval_guard.py, so a cell
# whose kernel dies fails at once instead of at the cell timeout.
# If NBVAL_REPORT names a file, each profile's report line is appended to it too (.ci/run).
# The exit status is the table's: non-zero if and only if a row shows a cell that failed or
# errored, a pytest exit status other than 0, no cells, or no report.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ $# -lt 2 ]]; then
  echo "usage: bash .ci/test_kernels.sh \"PROFILE ...\" NOTEBOOK [NOTEBOOK ...]" >&2
  exit 2
fi
profiles="$1"
shift
workers="${NBVAL_WORKERS:-2}"
threads="${NBVAL_THREADS:-1}"
if [[ -z "${MAKELEVEL:-}" ]]; then
  # Run alone, not from make: add the variables the Makefile exports (LSTM_LIB_PROGRESS=0,
  # the thread pools' waits, PYTHONHASHSEED...), as make nbval would; a variable already set
  # here keeps its value.
  while IFS= read -r -d '' kv; do
    name="${kv%%=*}"
    case "${name}" in MAKE* | MFLAGS) continue ;; esac
    [[ -v "${name}" ]] || export "${kv?}"
  done < <(make -s --no-print-directory --eval='print-env: ; @env -0' print-env)
fi
if [[ -z "${NBVAL_FLAGS:-}" ]]; then
  NBVAL_FLAGS="$(make -s --no-print-directory \
    --eval='print-nbval-flags: ; @echo $(NBVAL_FLAGS)' print-nbval-flags)" || exit 2
fi
read -r -a flags <<< "${NBVAL_FLAGS}"
out="$(mktemp -d)"
trap 'rm -rf "${out}"' EXIT
reports=()
for profile in ${profiles}; do
  label="${profile} ${workers}x${threads}"
  report="${out}/${profile}.jsonl"
  echo "=== nbval: ${profile} kernels, ${workers} x ${threads} threads"
  start=${SECONDS}
  (
    # shellcheck source=kernel_profiles.sh
    source .ci/kernel_profiles.sh "${profile}" &&
    OMP_NUM_THREADS="${threads}" MKL_NUM_THREADS="${threads}" \
      .venv/bin/python .ci/nbval_guard.py -q "${flags[@]}" \
      --nbval-report "${report}" --nbval-report-label "${label}" \
      -n "${workers}" --dist loadfile --no-loadscope-reorder "$@"   # in the order given
  )
  rc=$?
  echo "=== nbval: ${profile} kernels: exit ${rc} in $((SECONDS - start)) s"
  # The table is made from the reports alone, so a report must hold this exit status: if
  # pytest wrote none (killed, or the profile did not load) or another one, a row says so.
  if ! grep -q "\"exitstatus\": ${rc}," "${report}" 2> /dev/null; then
    printf '{"label": "%s", "exitstatus": %d, "cells": {}, "note": "%s"}\n' "${label}" "${rc}" \
      "the run exited ${rc} without a report of that status from pytest (see above)" \
      >> "${report}"
  fi
  if [[ -n "${NBVAL_REPORT:-}" ]]; then cat "${report}" >> "${NBVAL_REPORT}"; fi
  reports+=("${report}")
done
echo
echo "=== nbval: cells per CPU-kernel profile (processes x threads)"
.venv/bin/python .ci/nbval_summary.py "${reports[@]/#/=}"  # "=FILE": rows named by their labels
