jm_add_test(test_model_metrics model/test_model_metrics.cpp)
jm_add_test(test_model model/test_model.cpp)
jm_add_test(test_model_journeys model/test_model_journeys.cpp)
jm_add_test(test_model_bpic2012 model/test_model_bpic2012.cpp)
# Reads AMOUNT_REQ from the gzipped XES log.
target_link_libraries(test_model_bpic2012 PRIVATE ZLIB::ZLIB fmt::fmt)
jm_add_test(test_monitoring model/test_monitoring.cpp)
