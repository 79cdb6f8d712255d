// How Kernels() picks its table, exposed so that tests can check the choice without touching
// the process environment.
//
// Thread-safety: every function here is pure (CpuSupports reads CPUID only) and safe to call
// from several threads at once.
#pragma once

#include <optional>

#include "simd/distance.h"

namespace nearstore::simd {

// Parses a value of the NEARSTORE_ISA environment variable.
// Returns the widest ISA that Kernels() may choose: Isa::kAvx512 (no cap) for nullptr or "",
// otherwise the ISA named by "scalar", "avx2" or "avx512" (ASCII case-insensitive).
// Returns std::nullopt for any other text; Kernels() then warns on stderr and applies no cap.
std::optional<Isa> ParseIsaCap(const char* text);

// The widest ISA that is no wider than `cap` and that CpuSupports() accepts.
// Never fails: Isa::kScalar is always supported.
Isa BestIsaUpTo(Isa cap);

}  // namespace nearstore::simd
