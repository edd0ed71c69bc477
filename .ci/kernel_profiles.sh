# CPU-kernel profiles: source this file with a profile name to make this machine pick the
# kernels that another CPU would. torch, oneDNN, MKL and OpenBLAS each choose kernels by CPU
# when they load; these variables force a choice, so one machine can play several.
#   native    whatever this CPU picks: the four variables are unset, so that one exported by
#             the shell (some machines export OPENBLAS_CORETYPE=Haswell) does not pose as native
#   avx2      an AVX2-only CPU
#   baseline  plain x86-64 (SSE4)
# Usage: source .ci/kernel_profiles.sh baseline && python ...
# shellcheck shell=bash
case "${1:-native}" in
  native)
    unset ATEN_CPU_CAPABILITY ONEDNN_MAX_CPU_ISA MKL_ENABLE_INSTRUCTIONS OPENBLAS_CORETYPE ;;
  avx2)
    export ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 \
      OPENBLAS_CORETYPE=Haswell ;;
  baseline)
    export ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 MKL_ENABLE_INSTRUCTIONS=SSE4_2 \
      OPENBLAS_CORETYPE=Nehalem ;;
  *)
    echo "kernel_profiles.sh: unknown profile '$1' (native, avx2 or baseline)" >&2
    return 2 2>/dev/null || exit 2 ;;
esac
