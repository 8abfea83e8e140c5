# Test-and-learn: experiment analysis (A/B tests on journey outcomes), proposed experiments and
# contextual bandits; statistics and quadrature from Boost.Math (header-only), the bandit posteriors'
# Cholesky from LAPACK in OpenBLAS (opened on first use, host/core/openblas.cpp).
find_path(JM_BOOST_MATH_INCLUDE_DIR boost/math/distributions/students_t.hpp REQUIRED)
target_include_directories(journeymap_core SYSTEM PRIVATE ${JM_BOOST_MATH_INCLUDE_DIR})
target_sources(journeymap_core PRIVATE
  host/experiments/experiment_stats.cpp
  host/experiments/experiments.cpp
  host/experiments/experiments_output.cpp
  host/experiments/proposals.cpp
  host/experiments/proposals_output.cpp
  host/experiments/anomaly_proposals.cpp
  host/cli/command_experiment.cpp
  host/bandits/linear_thompson.cpp
  host/bandits/logged_decisions.cpp
  host/bandits/off_policy.cpp
  host/bandits/bandit_simulation.cpp
  host/bandits/planted_offers.cpp
  host/bandits/bandit_output.cpp
  host/cli/command_bandit.cpp)
