# Read by CMake right after llama.cpp's `project()` (CMAKE_PROJECT_INCLUDE, set in .cargo/config.toml and passed on
# by llama-cpp-sys-2's build script, which forwards every CMAKE_* variable of its environment).
#
# Why: llama-cpp-2 0.1.160 depends on llama-cpp-sys-2 with its default features, and those always build llama.cpp's
# `common/` library (jinja, chat parsers, JSON grammars, an HTTP client): half of the llama.cpp build, about four
# minutes of a cold build on two cores (BENCHMARKS.md, build time). The local tier uses none of it: it calls only
# llama.h (the model, the context, the sampler chain, the chat template). The cache entry is forced because the build
# script sets it ON on the command line. Without the library the build script links nothing of it, and llama-cpp-2
# is built without its `common` feature, so nothing refers to it.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama: build common utils library (not used by ComplexityNet)" FORCE)
