# The peer pipeline (scripts/peers.py) agrees with ours: hand-made events that hit every journey
# rule, then a small generated run; journeys, patterns, segments, flows and the model must agree.
add_test(NAME peers_agree
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/peers/peers_test.sh
          --journeymap $<TARGET_FILE:journeymap>
          --out ${CMAKE_CURRENT_BINARY_DIR}/output/peers)
# 77: the project's Python or one of the peer packages (duckdb, prefixspan, scikit-learn, xgboost) is missing.
set_tests_properties(peers_agree PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
