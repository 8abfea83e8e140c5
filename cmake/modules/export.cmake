# Exports: every result table as CSV or Parquet (`journeymap export`; docs/export.md).
# Parquet goes through Apache Arrow C++ from the pyarrow wheel that scripts/setup.sh pins in .venv
# (libarrow, libparquet and their headers; Debian 12 packages no Arrow). Arrow's headers need C++20,
# so host/output/parquet_table_writer.cpp alone is built as C++20, as its own module; the rest of
# the project stays C++17. Without the wheel (or with -DJM_WITH_ARROW=OFF, as the sanitizer
# build does) no module is built and `export --format parquet` is refused.
option(JM_WITH_ARROW "Parquet export through Apache Arrow C++ (the pyarrow wheel in .venv)" ON)
target_sources(journeymap_core PRIVATE
  host/output/result_tables.cpp
  host/output/table_export.cpp
  host/cli/command_export.cpp)

set(JM_ARROW_FOUND OFF)
if(JM_WITH_ARROW)
  file(GLOB _jm_pyarrow_dirs "${PROJECT_SOURCE_DIR}/.venv/lib/python3*/site-packages/pyarrow")
  foreach(_jm_pyarrow IN LISTS _jm_pyarrow_dirs)
    file(GLOB _jm_libarrow "${_jm_pyarrow}/libarrow.so.[0-9]*")
    file(GLOB _jm_libparquet "${_jm_pyarrow}/libparquet.so.[0-9]*")
    if(_jm_libarrow AND _jm_libparquet AND EXISTS "${_jm_pyarrow}/include/arrow/api.h")
      set(JM_ARROW_FOUND ON)
      set(JM_ARROW_DIR "${_jm_pyarrow}")
      break()
    endif()
  endforeach()
endif()

target_sources(journeymap_core PRIVATE host/output/parquet_export.cpp)
if(JM_ARROW_FOUND)
  # The writer is a module opened on first use (host/output/parquet_export.cpp), so that only
  # `export --format parquet` loads Arrow. It links nothing of journeymap's.
  add_library(journeymap_parquet MODULE host/output/parquet_table_writer.cpp host/ingest/parquet_column_reader.cpp)
  set_target_properties(journeymap_parquet PROPERTIES
    CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}"
    # The wheel ships versioned sonames only; the module finds them in the wheel's folder.
    BUILD_RPATH "${JM_ARROW_DIR}")
  target_include_directories(journeymap_parquet PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR})
  target_include_directories(journeymap_parquet SYSTEM PRIVATE ${JM_ARROW_DIR}/include)
  target_compile_options(journeymap_parquet PRIVATE -Wall -Wextra)
  target_link_libraries(journeymap_parquet PRIVATE ${_jm_libarrow} ${_jm_libparquet})
  file(STRINGS "${JM_ARROW_DIR}/include/arrow/util/config.h" _jm_arrow_version REGEX "define ARROW_VERSION_STRING")
  string(REGEX REPLACE ".*\"([0-9.]+)\".*" "\\1" _jm_arrow_version "${_jm_arrow_version}")
  set_property(SOURCE host/output/parquet_export.cpp APPEND PROPERTY COMPILE_DEFINITIONS
    JM_WITH_ARROW=1 "JM_ARROW_VERSION=\"${_jm_arrow_version}\""
    "JM_PARQUET_MODULE_PATH=\"$<TARGET_FILE:journeymap_parquet>\"")
  add_dependencies(journeymap_core journeymap_parquet)  # every program that links the core can export
  message(STATUS "journeymap: Parquet export through Apache Arrow ${_jm_arrow_version} in ${JM_ARROW_DIR}")
else()
  message(STATUS "journeymap: no Apache Arrow (pyarrow in .venv): Parquet export disabled")
endif()
