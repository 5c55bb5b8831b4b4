# Warnings (as errors) and sanitizers are applied per target, to our own targets only.

# Clang's thread-safety analysis checks the lock annotations (ABSL_GUARDED_BY,
# ABSL_EXCLUSIVE_LOCKS_REQUIRED...): a guarded member touched without its absl::Mutex held does
# not compile. GCC has no such analysis: there the annotations are only documentation.
if(VETA_THREAD_SAFETY AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(STATUS "VETA_THREAD_SAFETY: ${CMAKE_CXX_COMPILER_ID} has no thread-safety analysis; "
                 "nothing is checked (configure with CXX=clang++)")
endif()

function(veta_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wconversion -Wno-sign-conversion)
  # Errors where we develop and in CI (tools/test.sh with VETA_WERROR=ON, as .ci/run does); a
  # user's compiler may warn where ours does not (GCC 12 at -O3: false -Wrestrict), and a
  # warning must not stop their build.
  if(VETA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(VETA_THREAD_SAFETY AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -Wthread-safety -Werror=thread-safety)
  endif()
  if(VETA_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
