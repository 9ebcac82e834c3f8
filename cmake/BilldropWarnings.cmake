# billdrop_set_warnings(<target>): the project's warning set, applied to its own targets only.
function(billdrop_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wimplicit-fallthrough -Wno-missing-field-initializers)
endfunction()
