# Warnings (as errors) and sanitizers are applied per target, to our own targets only.
function(veta_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wconversion -Wno-sign-conversion)
  # Errors where we develop and in CI (tools/test.sh with VETA_WERROR=ON, as .ci/run does); a
  # user's compiler may warn where ours does not (GCC 12 at -O3: false -Wrestrict), and a
  # warning must not stop their build.
  if(VETA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(VETA_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
