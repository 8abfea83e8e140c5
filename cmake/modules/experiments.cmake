# Experiment analysis (A/B tests on journey outcomes); statistics from Boost.Math (header-only).
find_path(JM_BOOST_MATH_INCLUDE_DIR boost/math/distributions/students_t.hpp REQUIRED)
target_include_directories(journeymap_core SYSTEM PRIVATE ${JM_BOOST_MATH_INCLUDE_DIR})
target_sources(journeymap_core PRIVATE
  host/experiments/experiment_stats.cpp
  host/experiments/experiments.cpp
  host/experiments/experiments_output.cpp
  host/experiments/proposals.cpp
  host/experiments/proposals_output.cpp
  host/cli/command_experiment.cpp)
