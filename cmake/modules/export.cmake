# Exports: every result table as CSV or Parquet (`journeymap export`; docs/export.md).
# Parquet goes through Apache Arrow C++ from the pyarrow wheel that scripts/setup.sh pins in .venv
# (libarrow, libparquet and their headers; Debian 12 packages no Arrow). Arrow's headers need C++20,
# so host/output/parquet_table_writer.cpp alone is built as C++20, in its own object library; the
# rest of the project stays C++17. Without the wheel (or with -DJM_WITH_ARROW=OFF, as the sanitizer
# build does) the file is built without Arrow and `export --format parquet` is refused.
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

if(JM_ARROW_FOUND)
  add_library(journeymap_parquet OBJECT host/output/parquet_table_writer.cpp)
  set_target_properties(journeymap_parquet PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON POSITION_INDEPENDENT_CODE ON)
  target_include_directories(journeymap_parquet PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_include_directories(journeymap_parquet SYSTEM PRIVATE ${JM_ARROW_DIR}/include)
  target_compile_definitions(journeymap_parquet PRIVATE JM_WITH_ARROW=1)
  target_compile_options(journeymap_parquet PRIVATE -Wall -Wextra)
  target_sources(journeymap_core PRIVATE $<TARGET_OBJECTS:journeymap_parquet>)
  target_link_libraries(journeymap_core PUBLIC ${_jm_libarrow} ${_jm_libparquet})
  # The wheel ships versioned sonames only; the binaries find them in the wheel's folder.
  target_link_options(journeymap_core INTERFACE "LINKER:-rpath,${JM_ARROW_DIR}")
  message(STATUS "journeymap: Parquet export through Apache Arrow in ${JM_ARROW_DIR}")
else()
  target_sources(journeymap_core PRIVATE host/output/parquet_table_writer.cpp)
  message(STATUS "journeymap: no Apache Arrow (pyarrow in .venv): Parquet export disabled")
endif()
