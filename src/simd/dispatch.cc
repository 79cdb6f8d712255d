// Run-time choice of the kernel table: CPUID (through GCC's __builtin_cpu_supports, which also
// checks that the OS saves the wider registers, via XGETBV) capped by NEARSTORE_ISA.
//
// Compiled for baseline x86-64: nothing here may use an instruction beyond SSE2.

#include "simd/dispatch.h"

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "simd/distance.h"
#include "simd/kernels_internal.h"

namespace nearstore::simd {
namespace {

// Whether `text` equals the lower-case ASCII word `word`, ignoring ASCII case.
bool EqualsIgnoringCase(const char* text, const char* word) {
  for (; *text != '\0' && *word != '\0'; ++text, ++word) {
    char c = *text;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != *word) return false;
  }
  return *text == '\0' && *word == '\0';
}

// The compiled-in table of `isa`, whether or not this CPU can run it.
const KernelTable& CompiledTable(Isa isa) {
  switch (isa) {
    case Isa::kAvx2:
      return internal::kAvx2Table;
    case Isa::kAvx512:
      return internal::kAvx512Table;
    case Isa::kScalar:
      break;
  }
  return internal::kScalarTable;
}

// The cap set by NEARSTORE_ISA; warns on stderr (and applies no cap) when the value is not
// one ParseIsaCap accepts. Called once, from Kernels().
Isa CapFromEnvironment() {
  const char* text = std::getenv("NEARSTORE_ISA");
  const std::optional<Isa> cap = ParseIsaCap(text);
  if (!cap.has_value()) {
    std::fprintf(stderr,
                 "nearstore: ignoring NEARSTORE_ISA='%s': expected 'scalar', 'avx2' or "
                 "'avx512'\n",
                 text);
    return Isa::kAvx512;
  }
  return *cap;
}

}  // namespace

std::optional<Isa> ParseIsaCap(const char* text) {
  if (text == nullptr || *text == '\0') return Isa::kAvx512;
  if (EqualsIgnoringCase(text, "scalar")) return Isa::kScalar;
  if (EqualsIgnoringCase(text, "avx2")) return Isa::kAvx2;
  if (EqualsIgnoringCase(text, "avx512")) return Isa::kAvx512;
  return std::nullopt;
}

bool CpuSupports(Isa isa) {
  // Needed only before constructors have run, harmless afterwards.
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2:
      // The AVX2 file is also compiled with -mpopcnt.
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("popcnt");
    case Isa::kAvx512:
      // The AVX-512 file is also compiled with -mavx2 -mfma -mpopcnt, so it needs those too.
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("popcnt");
  }
  return false;
}

Isa BestIsaUpTo(Isa cap) {
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
    if (isa <= cap && CpuSupports(isa)) return isa;
  }
  return Isa::kScalar;
}

bool CpuSupportsVnni() {
  __builtin_cpu_init();
  return CpuSupports(Isa::kAvx512) && __builtin_cpu_supports("avx512vnni");
}

bool CpuSupportsVpopcntdq() {
  __builtin_cpu_init();
  return CpuSupports(Isa::kAvx512) && __builtin_cpu_supports("avx512vpopcntdq");
}

const KernelTable* KernelsFor(Isa isa) {
  if (!CpuSupports(isa)) return nullptr;
  if (isa == Isa::kAvx512) {
    // The avx512 table with the integer kernels of the extensions this CPU has: built once,
    // at first use.
    static const KernelTable avx512 = [] {
      KernelTable t = internal::kAvx512Table;
      if (CpuSupportsVnni()) {
        t.dot_u8i8 = &internal::DotU8I8Vnni;
        t.dot_u8i8_rows = &internal::DotU8I8RowsVnni;
      }
      if (CpuSupportsVpopcntdq()) t.bit_planes_dot = &internal::BitPlanesDotVpopcntdq;
      return t;
    }();
    return &avx512;
  }
  return &CompiledTable(isa);
}

const KernelTable& Kernels() {
  // Function-local static: initialised once, thread-safely, at first use.
  static const KernelTable& table = *KernelsFor(BestIsaUpTo(CapFromEnvironment()));
  return table;
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

}  // namespace nearstore::simd
