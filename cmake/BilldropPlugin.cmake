# billdrop_add_plugin(<name> SOURCES <src>... [LIBRARIES <lib>...] [NO_INSTALL])
#
# Builds a source plugin as a MODULE library named billdrop_<name>.so that the host loads with
# Boost.DLL. Symbols are hidden by default: the plugin exports only its entry point.
# Used by the plugins in this tree and, through the installed package, by out-of-tree plugins.
set(_billdrop_plugin_map "${CMAKE_CURRENT_LIST_DIR}/billdrop_plugin.map")

function(billdrop_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  set(target billdrop_plugin_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE billdrop::sdk ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME "billdrop_${name}"
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(COMMAND billdrop_set_warnings)
    billdrop_set_warnings(${target})
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  elseif(DEFINED BILLDROP_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${BILLDROP_PLUGIN_OUTPUT_DIR}")
  endif()
  # Fail at link time, not at dlopen time, when a plugin references a symbol nobody defines.
  target_link_options(${target} PRIVATE "LINKER:--no-undefined"
                                        "LINKER:--version-script=${_billdrop_plugin_map}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${_billdrop_plugin_map}")
  if(NOT ARG_NO_INSTALL AND DEFINED BILLDROP_PLUGIN_INSTALL_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION "${BILLDROP_PLUGIN_INSTALL_DIR}" COMPONENT plugins)
  endif()
endfunction()
