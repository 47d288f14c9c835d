# How the local tier's llama.cpp is built. Read by CMake right after each `project()` of llama.cpp
# (CMAKE_PROJECT_INCLUDE, set in .cargo/config.toml and passed on by llama-cpp-sys-2's build script, which forwards
# every CMAKE_* variable of its environment). Figures: BENCHMARKS.md, build time.
# Cargo does not see edits to this file (the build script tracks llama.cpp's sources, not its CMake includes): after
# changing it, `cargo clean -p llama-cpp-sys-2` (and `--release`) so that the next build configures llama.cpp anew.

# 1. No `common/` library. llama-cpp-2 0.1.160 depends on llama-cpp-sys-2 with its default features, and those
# always build llama.cpp's `common/` library (jinja, chat parsers, JSON grammars, an HTTP client): half of the
# llama.cpp build, about four minutes of a cold build on two cores. The local tier uses none of it: it calls only
# llama.h (the model, the context, the sampler chain, the chat template). The cache entry is forced because the build
# script sets it ON on the command line. Without the library the build script links nothing of it, and llama-cpp-2
# is built without its `common` feature, so nothing refers to it.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama: build common utils library (not used by ComplexityNet)" FORCE)

# 2. llama.cpp's own library (`src/`: model loading, the per-architecture graph builders, the KV cache's
# bookkeeping, quantisation, chat templates) at -O1. The tensor kernels every token goes through (ggml, ggml-cpu)
# keep the build type's -O3, and so do the four files of the library that run per token or per prompt character:
# the sampler, the grammar (a required tool call), the vocabulary and its Unicode pre-tokenizer (an agent's long
# system prompt). Why: the library is two thirds of llama.cpp's compile time, and its code builds one graph per
# batch, microseconds against the kernels' milliseconds. Measured (dev-2c, no ccache, three alternating runs): the
# llama.cpp build 138 -> 124 s, 256 -> 229 CPU-seconds; the throughput bench (pp and tg, both test models, 1 and 2
# threads) did not move. The call is deferred to the end of the top directory, where the target exists; the flag
# after the build type's wins. CMake < 3.19 (no deferred calls) builds it all at -O3, as before.
function(complexitynet_llama_opt)
  # Only in the optimised build types: a developer who asks for a Debug llama.cpp (LLAMA_LIB_PROFILE=Debug) gets -O0.
  if(TARGET llama AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang" AND CMAKE_BUILD_TYPE MATCHES "^Rel")
    target_compile_options(llama PRIVATE -O1)
    set(per_token llama-sampler.cpp llama-grammar.cpp llama-vocab.cpp unicode.cpp)
    list(TRANSFORM per_token PREPEND "${CMAKE_SOURCE_DIR}/src/")
    set_source_files_properties(${per_token} TARGET_DIRECTORY llama PROPERTIES COMPILE_OPTIONS -O3)
  endif()
endfunction()
get_property(complexitynet_deferred GLOBAL PROPERTY COMPLEXITYNET_LLAMA_OPT_DEFERRED)
if(NOT complexitynet_deferred AND CMAKE_VERSION VERSION_GREATER_EQUAL 3.19)
  set_property(GLOBAL PROPERTY COMPLEXITYNET_LLAMA_OPT_DEFERRED TRUE)
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL complexitynet_llama_opt)
endif()
