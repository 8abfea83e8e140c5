# Experiment analysis (paths relative to tests/).
jm_add_test(test_experiments experiments/test_experiments.cpp)
jm_add_test(test_proposals experiments/test_proposals.cpp)

# `journeymap experiment` against statsmodels and scipy on the same counts (scripts/experiment_peers.py).
add_test(NAME experiment_peers_statsmodels
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/experiments/experiment_peers.sh
          --journeymap $<TARGET_FILE:journeymap>
          --out ${CMAKE_CURRENT_BINARY_DIR}/experiments/peers)
set_tests_properties(experiment_peers_statsmodels PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
