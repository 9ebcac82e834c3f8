# billdrop_add_plugin(<name> SOURCES <src>... [LIBRARIES <lib>...] [NO_INSTALL] [OBJECTS <target>])
#
# Builds a source plugin as a MODULE library named billdrop_<name>.so that the host loads with
# Boost.DLL. Symbols are hidden by default: the plugin exports only its entry point.
# Used by the plugins in this tree and, through the installed package, by out-of-tree plugins.
#
# With OBJECTS <target>, the sources are compiled once into an OBJECT library of that name, which
# the plugin links; a unit-test executable can link the same target to drive the plugin's code
# (and its descriptor) in-process without compiling it a second time. The target carries the
# plugin's src/ folder and LIBRARIES as usage requirements.
set(_billdrop_plugin_map "${CMAKE_CURRENT_LIST_DIR}/billdrop_plugin.map")

function(billdrop_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIRECTORY;OBJECTS" "SOURCES;LIBRARIES" ${ARGN})
  set(target billdrop_plugin_${name})
  if(ARG_OBJECTS)
    add_library(${ARG_OBJECTS} OBJECT ${ARG_SOURCES})
    target_link_libraries(${ARG_OBJECTS} PUBLIC billdrop::sdk ${ARG_LIBRARIES})
    target_include_directories(${ARG_OBJECTS} PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/src")
    set_target_properties(${ARG_OBJECTS} PROPERTIES
      POSITION_INDEPENDENT_CODE ON
      CXX_VISIBILITY_PRESET hidden
      C_VISIBILITY_PRESET hidden
      VISIBILITY_INLINES_HIDDEN ON)
    if(COMMAND billdrop_set_warnings)
      billdrop_set_warnings(${ARG_OBJECTS})
    endif()
    add_library(${target} MODULE $<TARGET_OBJECTS:${ARG_OBJECTS}>)
  else()
    add_library(${target} MODULE ${ARG_SOURCES})
  endif()
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
