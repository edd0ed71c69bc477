#!/usr/bin/env bash
# nbval over the notebooks under each CPU-kernel profile, then a table: profile x failing cells.
# Usage: bash .ci/test_kernels.sh "native avx2 baseline" book/a.ipynb [book/b.ipynb ...]
# Workers and threads as for make nbval (NBVAL_WORKERS, NBVAL_THREADS; default 2 x 1).
# Exits non-zero if any profile has a failing cell.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
profiles="$1"
shift
workers="${NBVAL_WORKERS:-2}"
threads="${NBVAL_THREADS:-1}"
out="$(mktemp -d)"
status=0
for profile in ${profiles}; do
  echo "=== kernels: ${profile} (${workers} x ${threads} threads)"
  (
    # shellcheck source=kernel_profiles.sh
    source .ci/kernel_profiles.sh "${profile}" &&
    OMP_NUM_THREADS="${threads}" MKL_NUM_THREADS="${threads}" .venv/bin/python -m pytest -q \
      --nbval --nbval-current-env --nbval-sanitize-with .ci/nbval_sanitize.cfg \
      -p no:cacheprovider -n "${workers}" --dist loadfile "$@"
  ) > "${out}/${profile}.log" 2>&1
  rc=$?
  grep -E "^FAILED" "${out}/${profile}.log" | sed 's/^FAILED //; s/ - .*//' | sort \
    > "${out}/${profile}.failed"
  tail -1 "${out}/${profile}.log"
  if [[ ${rc} -ne 0 ]]; then
    status=1
    grep -E "^FAILED" "${out}/${profile}.log" || tail -20 "${out}/${profile}.log"
  fi
done
echo
echo "=== kernels: failing cells per profile"
printf '%-10s %7s  %s\n' profile failing cells
for profile in ${profiles}; do
  n=$(wc -l < "${out}/${profile}.failed")
  printf '%-10s %7d  %s\n' "${profile}" "${n}" "$(paste -sd' ' "${out}/${profile}.failed")"
done
rm -rf "${out}"
exit ${status}
