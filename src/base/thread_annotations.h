// Clang's thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html).
// Under clang (and clang-tidy, which scripts/clang_tidy.sh runs with -Wthread-safety) they let
// the compiler check that every member marked GUARDED_BY(mu) is touched only with mu held and
// that functions marked REQUIRES(mu) are called with it; under GCC they expand to nothing.
// They work on the annotated lock types of base/mutex.h, not on std::mutex.
#pragma once

#if defined(__clang__)
#define NEARSTORE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define NEARSTORE_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) NEARSTORE_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY NEARSTORE_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) NEARSTORE_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) NEARSTORE_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_AFTER(...) NEARSTORE_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) NEARSTORE_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define REQUIRES(...) NEARSTORE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) NEARSTORE_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) NEARSTORE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) NEARSTORE_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) NEARSTORE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) NEARSTORE_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) NEARSTORE_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) NEARSTORE_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) NEARSTORE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) NEARSTORE_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) NEARSTORE_THREAD_ANNOTATION(lock_returned(x))
// For the few functions whose locking the analysis cannot follow; each use says why.
#define NO_THREAD_SAFETY_ANALYSIS NEARSTORE_THREAD_ANNOTATION(no_thread_safety_analysis)
